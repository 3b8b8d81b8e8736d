"""Reading a policy file: YAML -> structural check against the shipped JSON Schema -> semantic checks
-> compiled `Policy`. Every problem is reported with `file:line:column`; the first error of each
kind does not hide the others, so an admin fixes a broken file in one pass.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import fnmatch
import hashlib
import ipaddress
import json
import os
import re
import stat
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from . import yamlsource
from .errors import PolicyError, Problem
from .hosts import BadHost, DomainIndex, normalize_host
from .model import Category, Group, Identity, Policy, Privacy, Quota, Rule
from .schedules import Holidays, Schedule, Window, parse_days, parse_time
from .yamlsource import LocDict, LocList, Pos

_MAX_FILE_ERRORS = 20
RESERVED_NAMES = {
    "group": {"other": "groups too small to report", "none": "people in no group"},
    "category": {"none": "hosts in no category", "other": "unknown categories"},
    "rule": {"default": "the policy's default", "other": "unknown rules"},
}
_CHUNK = 1 << 20  # domain lists are read a megabyte at a time
_FAST_DOMAIN = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_PLAIN = b"abcdefghijklmnopqrstuvwxyz0123456789_-.\n"
_METHOD = re.compile(r"[A-Z]+")


@cache
def schema() -> dict[str, Any]:
    """The policy language's JSON Schema, shipped inside the package."""
    loaded: dict[str, Any] = json.loads(resources.files(__package__).joinpath("schema.json").read_text("utf-8"))
    return loaded


def load_policy(path: str | Path) -> Policy:
    """Load and compile a policy file; raises PolicyError (never anything else) when it is not valid."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([Problem(str(path), 1, 1, f"cannot read the policy: {_oserror(exc)}")]) from None
    return load_text(text, str(path), base_dir=path.parent)


def load_text(text: str, filename: str = "<policy>", base_dir: Path | None = None) -> Policy:
    builder = _Builder(filename, base_dir or Path.cwd(), text)
    try:
        return builder.build()
    except PolicyError:
        raise
    except RecursionError:
        raise PolicyError([Problem(filename, 1, 1, "the document nests too deeply")]) from None


def _oserror(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def suggest(word: object, options: list[str] | tuple[str, ...] | Any) -> str:
    """' (did you mean 'x'?)' when a close option exists."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Builder:
    def __init__(self, filename: str, base_dir: Path, text: str) -> None:
        self.filename = filename
        self.base_dir = base_dir
        self.text = text
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        # the policy's identity covers its list files too: they are hashed as they are read
        self.digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))

    # -- reporting --------------------------------------------------------------------------
    def error(self, pos: Pos, message: str, file: str | None = None) -> None:
        self.errors.append(Problem(file or self.filename, pos[0], pos[1], message))

    def warn(self, pos: Pos, message: str) -> None:
        self.warnings.append(Problem(self.filename, pos[0], pos[1], message, "warning"))

    def fail_if_errors(self) -> None:
        if self.errors:
            unique = sorted(set(self.errors), key=lambda p: (p.file != self.filename, p.file, p.line, p.column))
            raise PolicyError(unique)

    # -- stages -----------------------------------------------------------------------------
    def build(self) -> Policy:
        doc = self.parse()
        self.check_schema(doc)
        self.fail_if_errors()
        policy = self.compile(doc)
        self.fail_if_errors()
        return policy

    def parse(self) -> LocDict:
        try:
            doc = yamlsource.parse(self.text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            what = exc.problem or exc.context or "not valid YAML"
            raise PolicyError([Problem(self.filename, *pos, f"YAML: {what}")]) from None
        except yaml.YAMLError as exc:
            raise PolicyError([Problem(self.filename, 1, 1, f"YAML: {exc}")]) from None
        if not isinstance(doc, LocDict):
            what = "empty" if doc is None else f"a {type(doc).__name__}, not a mapping"
            raise PolicyError([Problem(self.filename, 1, 1, f"the policy is {what}; it starts with 'version: 1'")])
        return doc

    def check_schema(self, doc: LocDict) -> None:
        import jsonschema

        validator = jsonschema.Draft202012Validator(schema())
        for err in validator.iter_errors(doc):
            self._schema_error(doc, err)

    def _schema_error(self, doc: LocDict, err: Any) -> None:
        path = list(err.absolute_path)
        where = _describe_path(path)
        pos = _position(doc, path)
        validator = err.validator
        if validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = list(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in allowed:
                    kpos = err.instance.key_pos.get(key, pos) if isinstance(err.instance, LocDict) else pos
                    self.error(kpos, f"unknown key '{key}' in {where}{suggest(str(key), allowed)}")
        elif validator == "required":
            self.error(pos, f"{where} is missing {err.message.split(' is a required')[0]}")
        elif validator == "enum":
            choices = ", ".join(str(c) for c in err.validator_value)
            hint = suggest(err.instance, [str(c) for c in err.validator_value])
            self.error(pos, f"{where}: {err.instance!r} is not one of {choices}{hint}")
        elif validator == "const":
            self.error(pos, f"{where} must be {err.validator_value!r}, not {err.instance!r}")
        elif validator == "type":
            self.error(pos, f"{where} must be {_a(err.validator_value)}, not {_kind(err.instance)}")
        elif validator == "oneOf" and isinstance(err.instance, list) and not err.instance:
            self.error(pos, f"{where} needs at least one name")
        elif validator == "oneOf":
            self.error(pos, f"{where} must be a name or a list of names, not {_kind(err.instance)}")
        elif validator == "pattern":
            self.error(pos, f"{where}: bad time {err.instance!r}; write \"HH:MM\", e.g. \"08:30\"")
        else:
            self.error(pos, f"{where}: {err.message}")

    # -- compiling --------------------------------------------------------------------------
    def compile(self, doc: LocDict) -> Policy:
        tz = self.timezone(doc)
        holidays = self.holidays(doc.get("holidays") or LocDict(), doc)
        schedules = self.schedules(doc.get("schedules") or LocDict(), tz, holidays)
        index = DomainIndex()
        categories = self.categories(doc.get("categories") or LocDict(), index)
        groups = self.groups(doc.get("groups") or LocDict())
        identity = self.identity(doc.get("identity") or LocDict())
        rules, budgets = self.rules(doc.get("rules") or LocList(), schedules, categories, groups, index)
        privacy_doc = doc.get("privacy") or {}
        privacy = Privacy(**{k: privacy_doc[k] for k in ("min_group_size", "audit_log", "retention_days")
                             if k in privacy_doc})
        self.check_reachability(rules, index)
        return Policy(
            source=self.filename, sha256=self.digest.hexdigest(), version=1, timezone=tz, holidays=holidays,
            schedules=schedules, categories=categories, groups=groups, rules=tuple(rules),
            default=doc.get("default", "allow"), privacy=privacy, identity=identity, index=index,
            budgets=budgets, warnings=tuple(sorted(self.warnings, key=lambda p: (p.line, p.column))),
        )

    def timezone(self, doc: LocDict) -> ZoneInfo:
        name = doc.get("timezone", "UTC")
        try:
            if not name or ".." in name or name.startswith("/"):
                raise ValueError(name)
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            from zoneinfo import available_timezones

            self.error(doc.value_pos["timezone"], f"unknown time zone {name!r}{suggest(name, available_timezones())}"
                       " (use an IANA name such as Europe/Amsterdam)")
            return ZoneInfo("UTC")

    def holidays(self, spec: LocDict, doc: LocDict) -> Holidays:
        dates = []
        for i, text in enumerate(spec.get("dates") or []):
            try:
                dates.append(dt.date.fromisoformat(text))
            except ValueError:
                self.error(spec["dates"].item_pos[i], f"bad date {text!r}; write YYYY-MM-DD")
        country = spec.get("country")
        try:
            return Holidays(country, spec.get("subdivision"), dates)
        except NotImplementedError as exc:
            key = "subdivision" if "ubdivision" in str(exc) else "country"
            self.error(spec.value_pos.get(key, spec.pos), f"holidays: {exc}")
        return Holidays(None, None, dates)

    def schedules(self, spec: LocDict, tz: ZoneInfo, holidays: Holidays) -> dict[str, Schedule]:
        result = {}
        for name, windows in spec.items():
            compiled = []
            for w in windows:
                try:
                    days = parse_days(w["days"])
                except ValueError as exc:
                    self.error(w.value_pos["days"], f"schedule '{name}': {exc}")
                    continue
                try:
                    start = parse_time(w["from"])
                except ValueError as exc:
                    self.error(w.value_pos["from"], f"schedule '{name}': {exc}")
                    continue
                try:
                    end = parse_time(w["to"], allow_24=True)
                except ValueError as exc:
                    self.error(w.value_pos["to"], f"schedule '{name}': {exc}")
                    continue
                compiled.append(Window(days, start, end, w.get("holidays") == "include"))
            result[str(name)] = Schedule(str(name), tuple(compiled), tz, holidays)
        return result

    def categories(self, spec: LocDict, index: DomainIndex) -> dict[str, Category]:
        result = {}
        for name, body in spec.items():
            name = str(name)
            self._not_reserved(spec.key_pos[name], "category", name)
            tag = f"c:{name}"
            count = index.add_many(self._domains(body.get("domains") or LocList(), f"category '{name}'"), tag)
            for i, file in enumerate(body.get("files") or []):
                for batch in self._domain_file(file, body["files"].item_pos[i]):
                    count += index.add_many(batch, tag)
            if not count:
                self.warn(spec.key_pos[name], f"category '{name}' has no domains")
            result[name] = Category(name, count, tuple(body.get("files") or ()), body.get("description"))
        return result

    def _domains(self, items: LocList, owner: str) -> Iterator[str]:
        for i, raw in enumerate(items):
            try:
                yield _domain(raw)
            except BadHost as exc:
                self.error(items.item_pos[i], f"{owner}: {exc}")

    def _domain_file(self, name: str, pos: Pos) -> Iterator[list[str]]:
        """The domains of a list file in batches, read a megabyte at a time: a million-line list never
        exists in memory as bytes, text and a list of lines at once, only as the index's own keys.
        A chunk of plain lower-case names (the usual case) is checked at once by C string operations."""
        path = (self.base_dir / name) if not Path(name).is_absolute() else Path(name)
        try:
            handle = path.open("rb")
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                handle.close()  # a device or pipe (/dev/zero, a FIFO) might never end
                raise OSError(0, "not a regular file")
        except OSError as exc:
            self.error(pos, f"cannot read domain list {name!r}: {_oserror(exc)}")
            return
        decoder = codecs.getincrementaldecoder("utf-8")()
        state = _ListState(path)
        offset = 0  # bytes before the current chunk, for the position of a decoding error
        tail = ""
        with handle:
            while True:
                try:
                    chunk = handle.read(_CHUNK)
                except OSError as exc:
                    self.error(pos, f"cannot read domain list {name!r}: {_oserror(exc)}")
                    return
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    self.error(pos, f"domain list {name!r} is not UTF-8 text: {exc.reason} at byte "
                                    f"{offset + exc.start - len(decoder.getstate()[0])}")
                    return
                offset += len(chunk)
                self.digest.update(chunk)
                block = tail + text
                if chunk:
                    cut = block.rfind("\n") + 1
                    block, tail = block[:cut], block[cut:]
                if _plain_names(block):
                    lines = block.split("\n")
                    state.lineno += len(lines) - 1
                    yield [line for line in lines if line]
                else:
                    yield self._domain_lines(block.split("\n"), state)
                if not chunk:
                    break
        if state.failed > _MAX_FILE_ERRORS:
            self.error(pos, f"domain list {name!r}: {state.failed - _MAX_FILE_ERRORS} more bad lines not shown")

    def _domain_lines(self, lines: list[str], state: _ListState) -> list[str]:
        domains = []
        fast = _FAST_DOMAIN.fullmatch
        for line in lines:
            state.lineno += 1
            if "#" in line:
                line = line.split("#", 1)[0]
            line = line.strip()
            if not line:
                continue
            if fast(line):
                domains.append(line)
                continue
            try:
                domains.append(_domain(line))
            except BadHost as exc:
                state.failed += 1
                if state.failed <= _MAX_FILE_ERRORS:
                    self.error((state.lineno, 1), str(exc), file=str(state.path))
        if lines and lines[-1] == "":
            state.lineno -= 1  # the empty string after the chunk's last newline is no line
        return domains

    def _not_reserved(self, pos: Pos, what: str, name: str) -> None:
        """Metrics use these words for "no rule", "no group" and "too few people": a policy name equal to
        one would merge two different things on the dashboards."""
        if name in RESERVED_NAMES[what]:
            self.error(pos, f"'{name}' is reserved for the metrics ({RESERVED_NAMES[what][name]}); "
                            f"choose another {what} name")

    def groups(self, spec: LocDict) -> dict[str, Group]:
        result = {}
        for index, (name, body) in enumerate(spec.items()):
            self._not_reserved(spec.key_pos[name], "group", str(name))
            subnets = []
            for i, text in enumerate(body.get("subnets") or []):
                try:
                    subnets.append(ipaddress.ip_network(text, strict=False))
                except ValueError:
                    self.error(body["subnets"].item_pos[i],
                               f"group '{name}': {text!r} is not a subnet like 10.20.0.0/16")
            users = frozenset(str(u) for u in body.get("users") or ())
            result[str(name)] = Group(str(name), index, users, tuple(subnets), body.get("description"))
        return result

    def identity(self, spec: LocDict) -> Identity:
        proxies = []
        for i, text in enumerate(spec.get("trusted_proxies") or []):
            try:
                proxies.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                self.error(spec["trusted_proxies"].item_pos[i], f"identity: {text!r} is not an address or subnet")
        header = spec.get("trusted_header")
        if header and proxies == [] and "trusted_proxies" not in spec:
            self.error(spec.value_pos["trusted_header"],
                       "identity: trusted_header needs trusted_proxies (else any client could claim any name)")
        return Identity(header, tuple(proxies))

    def rules(self, items: LocList, schedules: dict[str, Schedule], categories: dict[str, Category],
              groups: dict[str, Group], index: DomainIndex) -> tuple[list[Rule], dict[str, Quota]]:
        rules: list[Rule] = []
        budgets: dict[str, Quota] = {}
        budget_pos: dict[str, Pos] = {}
        seen: dict[str, int] = {}
        for i, body in enumerate(items):
            pos = items.item_pos[i]
            name = body["name"]
            vp = body.value_pos
            self._not_reserved(vp["name"], "rule", name)
            if name in seen:
                self.error(vp["name"], f"duplicate rule name '{name}' (first used at line {seen[name]})")
            seen.setdefault(name, pos[0])
            action = body["action"]
            ref_groups = self._refs(body, "groups", groups, "group")
            ref_categories = self._refs(body, "categories", categories, "category")
            ref_schedules = self._refs(body, "when", schedules, "schedule")
            domains = tuple(self._domains(body.get("domains") or LocList(), f"rule '{name}'"))
            tag = f"r:{i}"
            index.add_many(domains, tag)
            if "categories" in body or "domains" in body:
                host_tags: frozenset[str] | None = frozenset(
                    [f"c:{c}" for c in ref_categories] + ([tag] if domains else []))
            else:
                host_tags = None
                self.warn(pos, f"rule '{name}' names no categories or domains, so it covers every host "
                               "(no traffic can pass through undecrypted)")
            methods = None
            if "methods" in body:
                methods = frozenset(str(m).upper() for m in body["methods"])
                for j, m in enumerate(body["methods"]):
                    if not _METHOD.fullmatch(str(m).upper()):
                        self.error(body["methods"].item_pos[j], f"rule '{name}': {m!r} is not an HTTP method")
            paths = tuple(body.get("paths") or ())
            for j, p in enumerate(paths):
                if not p.startswith("/"):
                    self.error(body["paths"].item_pos[j], f"rule '{name}': path pattern {p!r} must start with '/'")
            path_regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in paths)) if paths else None
            quota = None
            if action == "timebox":
                if "quota" not in body:
                    self.error(vp["action"],
                               f"rule '{name}': a timebox needs a quota, e.g. quota: {{minutes: 30, per: day}}")
                else:
                    q = body["quota"]
                    quota = Quota(q["minutes"], q["per"], q.get("pool", name))
                    earlier = budgets.get(quota.pool)
                    if earlier is not None and (earlier.minutes, earlier.per) != (quota.minutes, quota.per):
                        self.error(vp["quota"], f"rule '{name}': pool '{quota.pool}' is {earlier.minutes} minutes "
                                   f"per {earlier.per} at line {budget_pos[quota.pool][0]}; rules sharing a pool "
                                   "must agree")
                    budgets.setdefault(quota.pool, quota)
                    budget_pos.setdefault(quota.pool, vp["quota"])
            elif "quota" in body:
                self.error(body.key_pos["quota"], f"rule '{name}': quota only applies to action timebox, not {action}")
            if "continue_minutes" in body and action != "warn":
                self.error(body.key_pos["continue_minutes"],
                           f"rule '{name}': continue_minutes only applies to action warn")
            rules.append(Rule(
                index=i, name=name, action=action, line=pos[0],
                groups=frozenset(ref_groups) if "groups" in body else None,
                categories=tuple(ref_categories), domains=domains, host_tags=host_tags, methods=methods,
                paths=paths, path_regex=path_regex, when=tuple(schedules[s] for s in ref_schedules),
                quota=quota, continue_minutes=body.get("continue_minutes", 15), message=body.get("message"),
                description=body.get("description"), shadow=bool(body.get("shadow", False)),
            ))
        return rules, budgets

    def _refs(self, body: LocDict, key: str, known: dict[str, Any], what: str) -> list[str]:
        value = body.get(key)
        if value is None:
            return []
        names = [value] if isinstance(value, str) else list(value)
        positions = [body.value_pos[key]] * len(names) if isinstance(value, str) else value.item_pos
        found = []
        for name, pos in zip(names, positions, strict=True):
            if name in known:
                found.append(name)
            else:
                self.error(pos, f"rule '{body['name']}': unknown {what} '{name}'{suggest(name, list(known))}")
        return found

    def check_reachability(self, rules: list[Rule], index: DomainIndex) -> None:
        """Warn about rules that can never decide because an earlier rule always wins."""
        for later in rules:
            if later.shadow:
                continue
            for earlier in rules[: later.index]:
                if earlier.shadow or earlier.when or earlier.methods is not None or earlier.paths:
                    continue
                if earlier.groups is not None and (later.groups is None or not later.groups <= earlier.groups):
                    continue
                if earlier.host_tags is not None:
                    if later.host_tags is None:
                        continue
                    cats_covered = all(f"c:{c}" in earlier.host_tags for c in later.categories)
                    if not cats_covered or not all(earlier.host_tags & index.tags(d) for d in later.domains):
                        continue
                self.warn((later.line, 1), f"rule '{later.name}' can never match: rule '{earlier.name}' "
                                           f"(line {earlier.line}) always decides first")
                break


def _plain_names(block: str) -> bool:
    """Whether every line of `block` is empty or already a normalised name (what `_FAST_DOMAIN` accepts),
    checked for the whole block at once by C string operations."""
    return (block.isascii() and not block.encode("ascii").translate(None, _PLAIN)
            and ".." not in block and "\n." not in block and ".\n" not in block
            and not block.startswith(".") and not block.endswith("."))


class _ListState:
    """Where reading a domain list file stands: line number and bad lines so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lineno = 0
        self.failed = 0


def _domain(raw: object) -> str:
    if not isinstance(raw, str):
        raise BadHost(f"{raw!r} is not a domain name")
    text = raw.strip()
    if text.startswith("*."):
        text = text[2:]
    parts = text.split()
    if len(parts) == 2 and parts[0] in ("0.0.0.0", "127.0.0.1", "::", "::1"):
        text = parts[1]  # hosts-file format, as many published lists use
    elif len(parts) != 1:
        raise BadHost(f"{raw!r} is not one domain name")
    if "/" in text:
        raise BadHost(f"{raw!r} is a URL or path; write just the domain, e.g. facebook.com")
    host = normalize_host(text)
    if not _FAST_DOMAIN.fullmatch(host) and ":" not in host:
        raise BadHost(f"{raw!r} is not a valid domain name")
    return host


def _describe_path(path: list[Any]) -> str:
    if not path:
        return "the policy"
    if path[0] == "rules" and len(path) >= 2:
        rest = ".".join(str(p) for p in path[2:])
        return f"rule #{path[1] + 1}" + (f" '{rest}'" if rest else "")
    return "'" + ".".join(str(p) for p in path) + "'"


def _position(doc: Any, path: list[Any]) -> Pos:
    node = doc
    pos: Pos = getattr(doc, "pos", (1, 1))
    for step in path:
        if isinstance(node, LocDict) and step in node:
            pos = node.value_pos[step]
            node = node[step]
        elif isinstance(node, LocList) and isinstance(step, int) and step < len(node):
            pos = node.item_pos[step]
            node = node[step]
        else:
            break
    return pos


def _a(type_name: object) -> str:
    names = type_name if isinstance(type_name, list) else [type_name]
    words = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
             "boolean": "true or false", "number": "a number"}
    return " or ".join(words.get(str(n), str(n)) for n in names)


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    return {dict: "a mapping", LocDict: "a mapping", list: "a list", LocList: "a list", str: f"text {value!r}",
            bool: f"{value!r}".lower(), int: f"the number {value}", float: f"the number {value}"}.get(
        type(value), type(value).__name__)
