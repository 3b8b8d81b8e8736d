"""The pages of exception requests: the form on a block page, "request sent", "request not sent", the
person's own requests on the status page (each open one with a "Withdraw" button), and "request withdrawn".
Every value a person typed (the reason) or the policy names is escaped like any other value on our pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

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
# the Withdraw button of an open request on the status page: small, quiet, on the request's own line
_WITHDRAW_STYLE = Html(
    "<style>form.withdraw { display: inline; margin-left: .6rem; }"
    " form.withdraw button { padding: .15rem .7rem; border: 1px solid currentColor; border-radius: 6px;"
    " background: transparent; color: inherit; font: inherit; font-size: .9em; cursor: pointer; }</style>")


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


def withdrawn_page(req: ExceptionRequest, *, lang: str, status_url: str = STATUS_URL) -> str:
    """"Request withdrawn": which one, and that the person can ask again."""
    facts = [(text(lang, "label.request"), tag("code", req.id)),
             (text(lang, "label.state"), text(lang, f"state.{req.state}")),
             (text(lang, "label.site"), req.host), (text(lang, "label.rule"), req.rule)]
    return _page("status", lang, text(lang, "withdrawn.title"), "request.html",
                 heading=t(lang, "withdrawn.heading"), lead=t(lang, "withdrawn.lead"), facts=_facts(facts),
                 status_url=status_url, status_link=t(lang, "status.link"))


def refused_page(*, lang: str, why: str, status_url: str = STATUS_URL, withdraw: bool = False) -> str:
    """"Request not sent" (or, for a withdrawal, "request not withdrawn"), with `why` (a sentence from the
    wording table)."""
    title, heading = ("withdraw.refused_title", "withdraw.refused_heading") if withdraw else ("refused.title",
                                                                                            "refused.heading")
    return _page("block", lang, text(lang, title), "request.html", heading=t(lang, heading), lead=why,
                 facts=Html(""), status_url=status_url, status_link=t(lang, "status.link"))


def withdraw_form(request_id: str, token: str, lang: str) -> Html:
    """The "Withdraw" button of one open request: a POST to REQUEST_PATH on the status page's own site."""
    hidden = "".join(f'<input type="hidden" name="{name}" value="{esc(value)}">'
                     for name, value in (("action", "withdraw"), ("id", request_id), ("token", token)))
    return Html(f'<form class="withdraw" method="post" action="{REQUEST_PATH}">{hidden}'
                f'<button type="submit" title="{t(lang, "withdraw.label", id=request_id)}">'
                f'{t(lang, "withdraw.button")}</button></form>')


def requests_section(requests: Iterable[ExceptionRequest], *, lang: str, tz: dt.tzinfo, now: dt.datetime,
                     withdraw_token: Callable[[str], str] | None = None) -> Html:
    """The status page's list of the person's requests, newest first: site, state, times, reason, IT's note;
    with `withdraw_token` (request id -> signed token), a Withdraw button for each open one."""
    rows = list(requests)
    heading = tag("h2", text(lang, "status.requests"))
    if not rows:
        return Html(heading + tag("p", text(lang, "status.no_requests")))
    items = []
    for r in rows:
        facts = [f"{t(lang, 'label.rule')}: “{esc(r.rule)}”",
                 f"{t(lang, 'label.asked')}: {esc(_moment(r.created, tz, now, lang))} "
                 f"({esc(text(lang, 'count.minutes', count=r.granted or r.minutes, n=r.granted or r.minutes))})"]
        if r.until is not None and r.state in ("approved", "expired"):
            facts.append(f"{t(lang, 'label.until')}: {esc(_moment(r.until, tz, now, lang))}")
        button = withdraw_form(r.id, withdraw_token(r.id), lang) if withdraw_token and r.state == "open" else ""
        lines = [f"<strong>{esc(r.host)}</strong>{tag('span', text(lang, f'state.{r.state}'), 'badge')}{button}",
                 " · ".join(facts), f"{t(lang, 'label.reason')}: {esc(r.reason)}"]
        if r.note:
            lines.append(f"<em>{t(lang, 'label.note')}: {esc(r.note)}</em>")
        lines.append(f'<span class="muted">{t(lang, "label.request")} <code>{esc(r.id)}</code></span>')
        items.append("<li>" + "<br>".join(lines) + "</li>")
    style = _WITHDRAW_STYLE if withdraw_token and any(r.state == "open" for r in rows) else ""
    return Html(f'{heading}{style}<ul class="rules">{"".join(items)}</ul>')
