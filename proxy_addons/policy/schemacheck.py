"""The structural check of a policy document against the shipped JSON Schema, worded for an admin:
`file:line:column: what is wrong`, with a suggestion where a name is close to a known one."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .report import Report, suggest
from .yamlsource import LocDict, LocList, Pos


@cache
def schema() -> dict[str, Any]:
    """The policy language's JSON Schema, shipped inside the package."""
    loaded: dict[str, Any] = json.loads(resources.files(__package__).joinpath("schema.json").read_text("utf-8"))
    return loaded


def check_schema(report: Report, doc: LocDict) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    for err in validator.iter_errors(doc):
        _schema_error(report, doc, err)


def _schema_error(report: Report, doc: LocDict, err: Any) -> None:
    path = list(err.absolute_path)
    where = _describe_path(path)
    pos = _position(doc, path)
    validator = err.validator
    if validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list(err.schema.get("properties", {}))
        for key in err.instance:
            if key not in allowed:
                kpos = err.instance.key_pos.get(key, pos) if isinstance(err.instance, LocDict) else pos
                report.error(kpos, f"unknown key '{key}' in {where}{suggest(str(key), allowed)}")
    elif validator == "required":
        report.error(pos, f"{where} is missing {err.message.split(' is a required')[0]}")
    elif validator == "enum":
        choices = ", ".join(str(c) for c in err.validator_value)
        hint = suggest(err.instance, [str(c) for c in err.validator_value])
        report.error(pos, f"{where}: {err.instance!r} is not one of {choices}{hint}")
    elif validator == "const":
        report.error(pos, f"{where} must be {err.validator_value!r}, not {err.instance!r}")
    elif validator == "type":
        report.error(pos, f"{where} must be {_a(err.validator_value)}, not {_kind(err.instance)}")
    elif validator == "oneOf" and any(sub.get("type") == "object" for sub in err.validator_value):
        report.error(pos, f"{where} must be text, or one text per language like {{en: \"...\", nl: \"...\"}}"
                          f"{_text_problem(err.instance)}")
    elif validator == "oneOf" and isinstance(err.instance, list) and not err.instance:
        report.error(pos, f"{where} needs at least one name")
    elif validator == "oneOf":
        report.error(pos, f"{where} must be a name or a list of names, not {_kind(err.instance)}")
    elif validator == "pattern":
        report.error(pos, f"{where}: bad time {err.instance!r}; write \"HH:MM\", e.g. \"08:30\"")
    else:
        report.error(pos, f"{where}: {err.message}")


def _text_problem(value: object) -> str:
    """What is wrong with a per-language text mapping, when that is what was given."""
    if not isinstance(value, dict):
        return f", not {_kind(value)}"
    if not value:
        return ", not an empty mapping"
    bad = [str(k) for k in value if not (isinstance(k, str) and k.isalpha() and k.islower() and 2 <= len(k) <= 3)]
    if bad:
        return f"; {', '.join(repr(b) for b in bad)} is not a language code such as en or nl"
    empty = [str(k) for k, v in value.items() if not isinstance(v, str) or not v]
    return f"; the text for {', '.join(empty)} must be non-empty text" if empty else ""


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
