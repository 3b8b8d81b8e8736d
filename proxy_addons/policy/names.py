"""User names and directory names as gonogo compares them.

People reach the gateway under several spellings of one account: `EXAMPLE\\anna` (Windows, NTLM/Kerberos
proxies), `anna@EXAMPLE.COM` (a user principal name) and plain `anna`, in any case. They name one person,
so every place that identifies a person (the gateway, group user lists and group files, the directory's
answers, and through them the ledger keys, metrics pseudonyms and audit log) uses `normalize_user`:

1. surrounding white space is removed;
2. a `DOMAIN\\` prefix is dropped (the part after the last backslash is kept);
3. an `@realm` suffix is dropped (the part before the last `@` is kept);
4. the rest is case-folded (`Anna` and `ANNA` are `anna`).

So two accounts that differ only in their domain are one person to gonogo; a policy for several domains
with clashing account names is not supported. Distinguished names of directory groups compare the way LDAP
compares them for the usual attributes: case-insensitively and ignoring spaces around `,` and `=`
(`dn_key`).
"""

from __future__ import annotations

import re


def normalize_user(name: str) -> str:
    """The one spelling of a user name gonogo keys everything by (see the module's rules)."""
    text = name.strip()
    if "\\" in text:
        text = text.rsplit("\\", 1)[1]
    if "@" in text:
        text = text.rsplit("@", 1)[0]
    return text.strip().casefold()


_DN_SEPARATOR = re.compile(r"\s*(?<!\\)([,=+])\s*")


def dn_key(dn: str) -> str:
    """A distinguished name as compared: case-folded, without spaces around separators."""
    return _DN_SEPARATOR.sub(r"\1", dn.strip()).casefold()


def dn_problem(dn: str) -> str | None:
    """Why `dn` is no distinguished name like `cn=Sales,ou=Groups,dc=example,dc=com`, or None."""
    parts = re.split(r"(?<!\\),", dn.strip())
    if not dn.strip() or any("=" not in p or not p.split("=", 1)[0].strip() for p in parts):
        return f"{dn!r} is not a distinguished name like 'cn=Sales,ou=Groups,dc=example,dc=com'"
    return None
