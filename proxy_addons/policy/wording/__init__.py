"""The one wording module: policy objects in words, in English and Dutch.

`table` holds the words (one table, a column per language, singular and plural where a number
decides); `phrases` turns days, windows, schedules, holidays, amounts, dates, rules and decisions
into phrases with them; `localized` holds the policy's own texts (messages, descriptions, titles) that
admins write in one language or several. `gonogo check`/`explain`, the engine's reasons, the pages and the notice all
use these, so one thing reads the same everywhere. Pure: imports nothing outside `policy/`.
"""

from . import phrases
from .localized import Localized, local, title
from .table import DEFAULT_LANGUAGE, LANGUAGES, MONTHS, WEEKDAYS, pick_language, text

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "MONTHS", "WEEKDAYS", "Localized", "local", "phrases", "pick_language",
           "text", "title"]
