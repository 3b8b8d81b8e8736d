"""Names as the directory code uses them: the policy's rules for user names and distinguished names (see
policy/names.py, the one place they are defined) and LDAP filter escaping."""

from __future__ import annotations

from ldap3.utils.conv import escape_filter_chars

from ..policy.names import dn_key, normalize_user

__all__ = ["dn_key", "escape", "normalize_user", "user_filter"]


def escape(value: str) -> str:
    """A value made safe inside an LDAP filter (RFC 4515): `*`, `(`, `)`, `\\` and NUL escaped."""
    return str(escape_filter_chars(value))


def user_filter(template: str, user: str) -> str:
    """The policy's user_filter for one person (`{user}` replaced by the escaped, normalised name)."""
    return template.replace("{user}", escape(normalize_user(user)))


def all_users_filter(template: str) -> str:
    """The policy's user_filter for every person it can find (`{user}` replaced by `*`)."""
    return template.replace("{user}", "*")
