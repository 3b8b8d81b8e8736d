"""The heads-up before a time budget ends (`quota: {..., heads_up: 5}`): the first page load with that many
minutes or fewer left shows a one-time page with a signed *continue* link (the warn page's mechanism).

Continuing is remembered in the ledger beside warn-continues, under a key naming the budget and period, until
the period ends: so it shows once per person, budget and period, survives a restart and is shared by every
proxy on the store. Rule names cannot start with the prefix's `@heads-up/` by accident in any sane policy, and
a rule so named is never a warn rule whose continue could be confused with it (the responder checks both).
"""

from __future__ import annotations

PREFIX = "@heads-up/"


def key(budget: str, period: str) -> str:
    """The continue key of a budget's heads-up in one period."""
    return f"{PREFIX}{budget}/{period}"


def parse(name: str) -> tuple[str, str] | None:
    """(budget, period) of a heads-up continue key, or None when `name` is not one."""
    if not name.startswith(PREFIX):
        return None
    budget, sep, period = name[len(PREFIX):].rpartition("/")
    return (budget, period) if sep and budget and period else None
