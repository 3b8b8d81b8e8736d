"""Compiling the sections of a policy other than its rules: time zone, holidays, schedules, categories,
groups, identity, privacy and organisation. Each reports what is wrong into the Report and returns what
it could compile, so later sections (and the rules) are still checked."""

from __future__ import annotations

import datetime as dt
import ipaddress
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import directory as directory_section
from .domainlists import domains
from .hosts import DomainIndex
from .listsources import read_sources
from .model import Category, Counting, Group, Identity, IPNetwork, Notify, Organisation, Privacy
from .names import normalize_user
from .report import Report, suggest
from .schedules import Holidays, Schedule, Window, parse_days, parse_time
from .wording import LANGUAGES
from .wording.localized import Localized
from .yamlsource import LocDict, LocList

_LONG_OVERNIGHT = 12 * 60  # an overnight window longer than this is more likely a swapped from/to


def localized_text(report: Report, body: LocDict, key: str, what: str) -> Localized | None:
    """A text a person reads (`message`, `description`, `title`, ...): one string, or one per language.
    The schema has checked the shape; a language no page speaks is a warning, since nobody would see it."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, LocDict):
        for lang in value:
            if lang not in LANGUAGES:
                report.warn(value.key_pos[lang], f"{what}, {key}: language '{lang}' is never shown (gonogo speaks "
                                                 f"{', '.join(LANGUAGES)}){suggest(str(lang), LANGUAGES)}")
        return Localized({str(k): str(v) for k, v in value.items()})
    return Localized(str(value))


def timezone(report: Report, doc: LocDict) -> ZoneInfo:
    name = doc.get("timezone", "UTC")
    try:
        if not name or ".." in name or name.startswith("/"):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        from zoneinfo import available_timezones

        report.error(doc.value_pos["timezone"], f"unknown time zone {name!r}{suggest(name, available_timezones())}"
                     " (use an IANA name such as Europe/Amsterdam)")
        return ZoneInfo("UTC")


def holidays(report: Report, spec: LocDict) -> Holidays:
    dates = []
    for i, text in enumerate(spec.get("dates") or []):
        try:
            dates.append(dt.date.fromisoformat(text))
        except ValueError:
            report.error(spec["dates"].item_pos[i], f"bad date {text!r}; write YYYY-MM-DD")
    country = spec.get("country")
    try:
        return Holidays(country, spec.get("subdivision"), dates)
    except NotImplementedError as exc:
        key = "subdivision" if "ubdivision" in str(exc) else "country"
        report.error(spec.value_pos.get(key, spec.pos), f"holidays: {exc}")
    return Holidays(None, None, dates)


def schedules(report: Report, spec: LocDict, tz: ZoneInfo, holidays: Holidays) -> dict[str, Schedule]:
    result = {}
    for name, body in spec.items():
        # a list of windows, or {title:, windows:} when the schedule has a display name
        windows = body.get("windows") or LocList() if isinstance(body, LocDict) else body
        title = localized_text(report, body, "title", f"schedule '{name}'") if isinstance(body, LocDict) else None
        compiled = [w for w in (_window(report, str(name), w) for w in windows) if w is not None]
        result[str(name)] = Schedule(str(name), tuple(compiled), tz, holidays, title=title)
    return result


def _window(report: Report, schedule: str, w: LocDict) -> Window | None:
    try:
        days = parse_days(w["days"])
    except ValueError as exc:
        report.error(w.value_pos["days"], f"schedule '{schedule}': {exc}")
        return None
    try:
        start = parse_time(w["from"])
    except ValueError as exc:
        report.error(w.value_pos["from"], f"schedule '{schedule}': {exc}")
        return None
    try:
        end = parse_time(w["to"], allow_24=True)
    except ValueError as exc:
        report.error(w.value_pos["to"], f"schedule '{schedule}': {exc}")
        return None
    if end <= start and 1440 - start + end > _LONG_OVERNIGHT:
        hours = (1440 - start + end) / 60
        swap = (f'; did you mean from: "{w["to"]}", to: "{w["from"]}"?' if end != start
                else '; all day is from: "00:00", to: "24:00"')
        report.warn(w.value_pos["to"], f"schedule '{schedule}': from {w['from']} to {w['to']} wraps past midnight "
                                       f"and lasts {hours:g} hours{swap}")
    return Window(days, start, end, w.get("holidays") == "include")


def categories(report: Report, spec: LocDict, index: DomainIndex) -> dict[str, Category]:
    result = {}
    for key, body in spec.items():
        name = str(key)
        report.not_reserved(spec.key_pos[name], "category", name)
        tag = f"c:{name}"
        count = index.add_many(domains(report, body.get("domains") or LocList(), f"category '{name}'"), tag)
        sources, added = read_sources(report, index, name, body)
        count += added
        if not count and not any(s.remote and not s.cached for s in sources):
            report.warn(spec.key_pos[name], f"category '{name}' has no domains")
        what = f"category '{name}'"
        result[name] = Category(name, count, tuple(body.get("files") or ()),
                                localized_text(report, body, "description", what), tuple(sources),
                                title=localized_text(report, body, "title", what))
    return result


def groups(report: Report, spec: LocDict, identity: Identity | None = None) -> dict[str, Group]:
    """Groups by user name (normalised: see names.normalize_user), subnet, group file and directory group."""
    result = {}
    configured = identity is not None and identity.directory is not None
    for index, (name, body) in enumerate(spec.items()):
        report.not_reserved(spec.key_pos[name], "group", str(name))
        subnets: list[IPNetwork] = []
        for i, text in enumerate(body.get("subnets") or []):
            try:
                subnets.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                report.error(body["subnets"].item_pos[i], f"group '{name}': {text!r} is not a subnet like 10.20.0.0/16")
        users = frozenset(normalize_user(str(u)) for u in body.get("users") or ())
        file = body.get("file")
        listed: frozenset[str] = frozenset()
        if file is not None:
            listed = directory_section.group_file(report, str(name), str(file), body.value_pos["file"])
        dn = None
        if "directory" in body:
            dn = directory_section.group_dn(report, str(name), body["directory"], body.value_pos["directory"],
                                            configured)
        what = f"group '{name}'"
        result[str(name)] = Group(str(name), index, users | listed, tuple(subnets),
                                  localized_text(report, body, "description", what), dn,
                                  str(file) if file is not None else None, listed,
                                  title=localized_text(report, body, "title", what))
    return result


def identity(report: Report, spec: LocDict) -> Identity:
    proxies: list[IPNetwork] = []
    for i, text in enumerate(spec.get("trusted_proxies") or []):
        try:
            proxies.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            report.error(spec["trusted_proxies"].item_pos[i], f"identity: {text!r} is not an address or subnet")
    header = spec.get("trusted_header")
    if header and proxies == [] and "trusted_proxies" not in spec:
        report.error(spec.value_pos["trusted_header"],
                     "identity: trusted_header needs trusted_proxies (else any client could claim any name)")
    found = spec.get("directory")
    return Identity(header, tuple(proxies),
                    directory_section.directory(report, found) if isinstance(found, LocDict) else None)


def organisation(report: Report, spec: LocDict) -> Organisation:
    return Organisation(localized_text(report, spec, "name", "organisation"),
                        localized_text(report, spec, "contact", "organisation"))


def privacy(spec: LocDict) -> Privacy:
    return Privacy(**{k: spec[k] for k in ("min_group_size", "audit_log", "retention_days") if k in spec})


def counting(doc: LocDict) -> Counting:
    """What spends a time-box minute, policy-wide (the schema has checked the values)."""
    default = Counting()
    return Counting(doc.get("counting", default.mode), doc.get("counting_background_kb", default.background_kb),
                    doc.get("counting_without_fetch_metadata", default.without_fetch_metadata))


def notify(report: Report, spec: LocDict) -> Notify:
    """`notify: {webhook: URL}`: an http(s) URL with a host (the schema checks the scheme)."""
    from urllib.parse import urlsplit

    url = spec.get("webhook")
    if url is None:
        return Notify()
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        report.error(spec.value_pos["webhook"], f"notify: webhook {url!r} is not an http(s) URL like "
                                                "https://hooks.example.com/services/T000/B000/XXXX")
        return Notify()
    return Notify(url)
