"""Texts from the policy that a person reads, in the person's language.

A rule's `message`, the `description` of a category or group and the `title` of a rule, category, group
or schedule take either one string (shown to everyone) or one string per language
(`message: {en: "...", nl: "..."}`). Both become a `Localized`: a `str` whose value is the default text
(English, else the first language given), so everything that only needs one text — metrics, logs,
`gonogo explain`, JSON — keeps working unchanged, while pages and the notice ask for `in_language(lang)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .table import DEFAULT_LANGUAGE


class Localized(str):
    """A text with a version per language; as a `str`, the default version."""

    versions: Mapping[str, str]

    def __new__(cls, value: str | Mapping[str, str]) -> Localized:
        if isinstance(value, str):
            versions: dict[str, str] = {}
            default = value
        else:
            versions = {str(k): str(v) for k, v in value.items()}
            if not versions:
                raise ValueError("a text per language needs at least one language")
            default = versions.get(DEFAULT_LANGUAGE) or next(iter(versions.values()))
        obj = super().__new__(cls, default)
        obj.versions = MappingProxyType(versions)
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (Localized, (dict(self.versions) or str(self),))

    def in_language(self, lang: str) -> str:
        """The text in `lang`, else the default one (English, else the first given)."""
        return self.versions.get(lang) or str(self)


def local(value: str | None, lang: str) -> str | None:
    """`value` in `lang` when it has versions per language; plain text as it is; None stays None."""
    if isinstance(value, Localized):
        return value.in_language(lang)
    return value


def title(thing: Any, lang: str) -> str:
    """The display name of a rule, category, group or schedule in `lang`: its `title:`, else its key."""
    return local(getattr(thing, "title", None), lang) or str(thing.name)
