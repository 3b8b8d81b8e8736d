"""The company directory in a policy: `identity.directory` (where the LDAP / Active Directory server is and
how to ask it) and the group sources beside `users:`/`subnets:`: `directory:` (a group's distinguished name)
and `file:` (a plain list of user names, one per line). Compiled and checked here; the policy keeps only
settings and names, never a password (it stays in `password_file`) and never the directory's answers,
which the gateway supplies per request (see engine.Who.groups_from_directory).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .names import dn_problem, normalize_user
from .report import Report, oserror
from .yamlsource import LocDict, Pos

MEMBERSHIP = ("auto", "member", "memberOf", "ad-chain")
DEFAULT_REFRESH = 600.0
DEFAULT_TIMEOUT = 5.0
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_FILTER_ATTRIBUTE = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9-]*)\s*=\s*\{user\}\s*\)")
_MAX_FILE_ERRORS = 20


@dataclass(frozen=True, slots=True)
class Directory:
    """How to reach and ask the directory. Equal settings mean the same connection: a reload that changes
    any of them makes the gateway reconnect."""

    url: str  # ldap://host[:port] or ldaps://host[:port]
    base_dn: str
    user_filter: str = "(uid={user})"  # {user} is replaced by the (escaped, normalised) user name
    user_attribute: str = "uid"  # the attribute holding the user name; from user_filter unless given
    bind_dn: str | None = None  # None: anonymous bind
    password_file: str | None = None  # absolute path; read when connecting, never kept in the policy
    refresh: float = DEFAULT_REFRESH  # seconds between membership refreshes
    timeout: float = DEFAULT_TIMEOUT  # seconds: connect and every answer
    starttls: bool = False
    membership: str = "auto"  # auto | member | memberOf | ad-chain (see README)
    line: int = 0


def parse_duration(value: object) -> float:
    """`10m`, `5s`, `500ms`, `1h` or a number of seconds, in seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration like 10m, 30s or 500ms")
    return float(match.group(1)) * _UNIT[match.group(2)]


def directory(report: Report, spec: LocDict) -> Directory | None:
    """`identity.directory`, checked: every problem is reported at its key."""
    pos = spec.value_pos.get
    url = str(spec.get("url", ""))
    if not re.match(r"^ldaps?://[^/\s:]+(:[0-9]{1,5})?/?$", url):
        report.error(pos("url", spec.pos), f"identity.directory: url {url!r} is not like ldap://dc1.example.com "
                                           "or ldaps://dc1.example.com:636")
    for key in ("base_dn", "bind_dn"):
        if key in spec and (why := dn_problem(str(spec[key]))):
            report.error(pos(key, spec.pos), f"identity.directory: {key}: {why}")
    user_filter = str(spec.get("user_filter", "(uid={user})"))
    attribute = spec.get("user_attribute")
    if "{user}" not in user_filter or user_filter.count("(") != user_filter.count(")") \
            or not user_filter.startswith("("):
        report.error(pos("user_filter", spec.pos), f"identity.directory: user_filter {user_filter!r} must be an "
                                                   "LDAP filter with {user}, like (uid={user})")
    elif attribute is None:
        found = _FILTER_ATTRIBUTE.search(user_filter)
        if found is None:
            report.error(pos("user_filter", spec.pos), "identity.directory: cannot tell from user_filter which "
                                                       "attribute holds the user name; add user_attribute")
        attribute = found.group(1) if found else "uid"
    password_file = _password_file(report, spec)
    if ("bind_dn" in spec) != ("password_file" in spec):
        report.error(spec.pos, "identity.directory: bind_dn and password_file go together (leave both out "
                               "for an anonymous bind)")
    refresh = _duration(report, spec, "refresh", DEFAULT_REFRESH, 1.0, 86400.0)
    timeout = _duration(report, spec, "timeout", DEFAULT_TIMEOUT, 0.1, 120.0)
    starttls = bool(spec.get("starttls", False))
    if starttls and url.startswith("ldaps://"):
        report.error(pos("starttls", spec.pos), "identity.directory: starttls is for ldap:// urls; ldaps:// is "
                                                "encrypted already")
    return Directory(url.rstrip("/"), str(spec.get("base_dn", "")), user_filter, str(attribute),
                     str(spec["bind_dn"]) if "bind_dn" in spec else None, password_file, refresh, timeout,
                     starttls, str(spec.get("membership", "auto")), spec.pos[0])


def _password_file(report: Report, spec: LocDict) -> str | None:
    if "password_file" not in spec:
        return None
    name = str(spec["password_file"])
    path = Path(name) if Path(name).is_absolute() else report.base_dir / name
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        # a warning: `gonogo check` often runs as another user than the proxy (e.g. systemd's dynamic user)
        report.warn(spec.value_pos["password_file"], f"identity.directory: cannot read password_file {name!r}: "
                                                      f"{oserror(exc)} (the proxy cannot bind until it can)")
    return str(path.resolve())


def _duration(report: Report, spec: LocDict, key: str, default: float, low: float, high: float) -> float:
    if key not in spec:
        return default
    try:
        value = parse_duration(spec[key])
    except ValueError as exc:
        report.error(spec.value_pos[key], f"identity.directory: {key}: {exc}")
        return default
    if not low <= value <= high:
        report.error(spec.value_pos[key], f"identity.directory: {key} must be between {low:g}s and {high:g}s")
        return default
    return value


def group_dn(report: Report, group: str, dn: object, pos: Pos, configured: bool) -> str | None:
    """A group's `directory:` distinguished name, checked."""
    text = str(dn)
    if (why := dn_problem(text)) is not None:
        report.error(pos, f"group '{group}': directory: {why}")
        return None
    if not configured:
        report.error(pos, f"group '{group}' is read from the directory, but identity.directory is not set")
    return text.strip()


def group_file(report: Report, group: str, name: str, pos: Pos) -> frozenset[str]:
    """The user names of a group file: one per line, `#` comments, normalised (see names.normalize_user)."""
    path = Path(name) if Path(name).is_absolute() else report.base_dir / name
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise OSError(0, "not a regular file")  # a device or pipe might never end
            raw = handle.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.error(pos, f"group '{group}': cannot read group file {name!r}: {oserror(exc)}")
        return frozenset()
    report.digest.update(raw)
    users: set[str] = set()
    failed = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if len(line.split()) != 1:
            failed += 1
            if failed <= _MAX_FILE_ERRORS:
                report.error((lineno, 1), f"group '{group}': {line!r} is not one user name (one per line)",
                             file=str(path))
            continue
        users.add(normalize_user(line))
    return frozenset(users)
