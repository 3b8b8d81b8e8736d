"""The one translation table: every sentence a person reads about a policy, in English and Dutch.

Entries are plain `str.format` templates without markup (pages escape the template and each value).
An entry that depends on a number is a pair (singular, plural), chosen by `count`, so "1 minute" and
"1 minuut" are as right as "30 minutes". Adding a language means adding one module like `en.py` with
the same keys; a test holds the columns to the same keys and placeholders.
"""

from __future__ import annotations

from .en import EN
from .en_exceptions import EN_EXCEPTIONS
from .nl import NL
from .nl_exceptions import NL_EXCEPTIONS

LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"
TABLE: dict[str, dict[str, str | tuple[str, str]]] = {"en": {**EN, **EN_EXCEPTIONS}, "nl": {**NL, **NL_EXCEPTIONS}}

WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
}
# Dutch names of nearby countries; other names come from the holidays package (English)
COUNTRIES_NL = {
    "NL": "Nederland", "BE": "België", "DE": "Duitsland", "FR": "Frankrijk", "LU": "Luxemburg",
    "GB": "het Verenigd Koninkrijk", "UK": "het Verenigd Koninkrijk", "IE": "Ierland", "US": "de Verenigde Staten",
    "ES": "Spanje", "PT": "Portugal", "IT": "Italië", "AT": "Oostenrijk", "CH": "Zwitserland", "DK": "Denemarken",
    "SE": "Zweden", "NO": "Noorwegen", "FI": "Finland", "PL": "Polen", "CZ": "Tsjechië", "SR": "Suriname",
    "CW": "Curaçao", "AW": "Aruba",
}


def text(lang: str, key: str, count: int | None = None, **values: object) -> str:
    """A translated plain-text sentence (English when `lang` or the key is unknown). A (singular,
    plural) entry needs `count`: exactly 1 takes the singular in both languages."""
    column = TABLE.get(lang, TABLE[DEFAULT_LANGUAGE])
    template = column.get(key) or TABLE[DEFAULT_LANGUAGE][key]
    if isinstance(template, tuple):
        if count is None:
            raise ValueError(f"wording {key!r} depends on a number: pass count=")
        template = template[0] if count == 1 else template[1]
    if count is not None and values:
        values.setdefault("count", count)  # a template may show the number as {count}
    elif count is not None and "{count}" in template:
        values["count"] = count
    return template.format(**values) if values else template


def pick_language(accept_language: str | None) -> str:
    """The supported language the browser prefers most (RFC 9110 q-values; `nl-BE` counts as `nl`;
    `*` and anything unreadable mean the default, English)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for order, item in enumerate(accept_language.split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if not tag or not 0 < q <= 1:
            continue
        primary = tag.split("-")[0].lower()
        if primary == "*":
            primary = DEFAULT_LANGUAGE
        if primary in LANGUAGES:
            choices.append((-q, order, primary))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE
