"""The one wording module: policy objects in words, in English and Dutch.

`table` holds the words (one table, a column per language, singular and plural where a number
decides); `phrases` turns days, windows, schedules, holidays, amounts, dates, rules and decisions
into phrases with them. `gonogo check`/`explain`, the engine's reasons, the pages and the notice all
use these, so one thing reads the same everywhere. Pure: imports nothing outside `policy/`.
"""

from . import phrases
from .table import DEFAULT_LANGUAGE, LANGUAGES, MONTHS, WEEKDAYS, pick_language, text

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "MONTHS", "WEEKDAYS", "phrases", "pick_language", "text"]
