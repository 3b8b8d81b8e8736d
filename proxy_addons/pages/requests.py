"""The pages of exception requests: the form on a block page, "request sent", "request not sent", and the
person's own requests on the status page. Every value a person typed (the reason) or the policy names is
escaped like any other value on our pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ..policy.wording import text
from ..policy.wording.phrases import when as format_when
from ..usage.requests import MAX_REASON, ExceptionRequest
from .render import STATUS_URL, Html, _facts, _page, esc, t, tag

REQUEST_PATH = "/__gonogo__/exception"  # answered by the proxy on any host, never forwarded
DEFAULT_MINUTES = 60

# the form's own look; style-src 'unsafe-inline' allows it, and the page stays self-contained
_STYLE = Html(
    "<style>form.ask label { display: block; margin: .6rem 0; }"
    " form.ask textarea { width: 100%; font: inherit; padding: .4rem; }"
    " form.ask input[type=number] { width: 6rem; font: inherit; padding: .2rem; }"
    " form.ask button { padding: .6rem 1.2rem; border: 0; border-radius: 6px; background: var(--accent);"
    " color: #fff; font: inherit; font-weight: 600; cursor: pointer; }</style>")


def request_form(*, lang: str, rule: str, max_minutes: int, token: str, next_path: str) -> Html:
    """The small form a block page of an opted-in rule shows; it posts to REQUEST_PATH on the same site."""
    minutes = min(DEFAULT_MINUTES, max_minutes)
    hidden = "".join(f'<input type="hidden" name="{name}" value="{esc(value)}">'
                     for name, value in (("token", token), ("rule", rule), ("next", next_path)))
    return Html(
        f'{_STYLE}<h2>{t(lang, "form.heading")}</h2><p>{t(lang, "form.lead")}</p>'
        f'<form class="ask" method="post" action="{REQUEST_PATH}">{hidden}'
        f'<label>{t(lang, "form.reason")}<br><textarea name="reason" rows="3" maxlength="{MAX_REASON}" required>'
        f'</textarea></label>'
        f'<label>{t(lang, "form.minutes", max=max_minutes)} <input type="number" name="minutes" min="1" '
        f'max="{max_minutes}" value="{minutes}" required></label>'
        f'<button type="submit">{t(lang, "form.submit")}</button>'
        f'<p class="muted">{t(lang, "form.note")}</p></form>')


def _moment(ts: float | None, tz: dt.tzinfo, now: dt.datetime, lang: str) -> str:
    return "" if ts is None else format_when(dt.datetime.fromtimestamp(ts, tz), now, lang)


def sent_page(req: ExceptionRequest, *, lang: str, tz: dt.tzinfo, now: dt.datetime,
              status_url: str = STATUS_URL) -> str:
    """"Request sent": its id and state, what was asked."""
    facts = [(text(lang, "label.request"), tag("code", req.id)), (text(lang, "label.state"),
                                                                  text(lang, f"state.{req.state}")),
             (text(lang, "label.site"), req.host), (text(lang, "label.rule"), req.rule),
             (text(lang, "label.asked"), text(lang, "count.minutes", count=req.minutes, n=req.minutes)),
             (text(lang, "label.reason"), req.reason)]
    return _page("status", lang, text(lang, "sent.title"), "request.html", heading=t(lang, "sent.heading"),
                 lead=t(lang, "sent.lead"), facts=_facts(facts), status_url=status_url,
                 status_link=t(lang, "status.link"))


def refused_page(*, lang: str, why: str, status_url: str = STATUS_URL) -> str:
    """"Request not sent", with `why` (a sentence from the wording table)."""
    return _page("block", lang, text(lang, "refused.title"), "request.html", heading=t(lang, "refused.heading"),
                 lead=why, facts=Html(""), status_url=status_url, status_link=t(lang, "status.link"))


def requests_section(requests: Iterable[ExceptionRequest], *, lang: str, tz: dt.tzinfo, now: dt.datetime) -> Html:
    """The status page's list of the person's requests, newest first, with their times."""
    rows = list(requests)
    heading = tag("h2", text(lang, "status.requests"))
    if not rows:
        return Html(heading + tag("p", text(lang, "status.no_requests")))
    cols = ("col.request", "col.site", "col.rule", "col.state", "col.asked", "col.until", "label.reason")
    head = "".join(f"<th>{t(lang, key)}</th>" for key in cols)
    body = []
    for r in rows:
        until = _moment(r.until, tz, now, lang) if r.state in ("approved", "expired") else ""
        cells = [tag("code", r.id), esc(r.host), esc(r.rule), esc(text(lang, f"state.{r.state}")),
                 esc(_moment(r.created, tz, now, lang)), esc(until), esc(r.reason)]
        note = Html(f"<br><em>{esc(r.note)}</em>") if r.note else ""
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells[:-1]) + f"<td>{cells[-1]}{note}</td></tr>")
    return Html(f"{heading}<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
