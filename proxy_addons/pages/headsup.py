"""The heads-up page: shown once per person, budget and period on the first page load with `quota.heads_up`
minutes or fewer left, so the end of a time budget does not come as a surprise. Same look and escaping as the
warn page (render.py); its *continue* link is signed like a warn page's (gateway/headsup.py)."""

from __future__ import annotations

import datetime as dt

from ..policy import Decision
from ..policy.wording import phrases, text
from .render import STATUS_URL, _local, _page, t, tag


def heads_up_page(decision: Decision, *, host: str, lang: str, now: dt.datetime, continue_url: str,
                  status_url: str = STATUS_URL, tz: dt.tzinfo | None = None) -> str:
    """'5 minutes left today', the budget, when it starts again, and a Continue link to `continue_url`."""
    q = decision.quota
    if q is None:
        raise ValueError("a heads-up needs a time-box decision")
    if not continue_url.startswith(("http://", "https://", "/")):
        raise ValueError(f"continue_url must be an http(s) URL or a path, not {continue_url!r}")
    per = q.per if q.per in ("day", "week") else "day"
    left = q.left
    return _page(
        "warn", lang, text(lang, "headsup.title", count=left, left=left, host=host), "headsup.html",
        heading=t(lang, f"headsup.heading.{per}", count=left, left=left),
        lead=t(lang, "headsup.lead", amount=phrases.amount(q.limit, "minutes", lang), per=phrases.per(q.per, lang),
               host=tag("span", host, "host"), rule=decision.rule or text(lang, "rule.default"),
               when=phrases.when(_local(q.resets_at, tz), now, lang)),
        continue_url=continue_url, button=t(lang, "headsup.button", host=host),
        once=t(lang, "headsup.once", per=phrases.per(q.per, lang)),
        status_url=status_url, status_link=t(lang, "status.link"),
    )
