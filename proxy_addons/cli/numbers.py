"""Numbers on the command line are bounded where they are read: a value past what the work below can hold
(`--minutes 99999999999999999999999` overflowed a date; a port of 99999 failed deep in a socket call) is an
argparse error naming the option and the range, not a traceback."""

from __future__ import annotations

import argparse
from collections.abc import Callable

MAX_GRANT_MINUTES = 100_000  # about ten weeks: more than any period a budget is counted over


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type` accepting whole numbers from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    parse.__name__ = "number"  # argparse names the type in its messages
    return parse
