"""The pages the proxy answers with: block, warn (with a continue link) and the employee's status page.

Pages are self-contained (inline CSS, no scripts, no external resources) so they render even though
the proxy answers instead of the site, and nothing leaks a request to a third party. Every value that
comes from the policy or the request is escaped: a rule name or message is data, never markup.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from ..policy import Decision, Policy, Rule
from ..policy.wording import local, phrases, text, title
from ..policy.wording.phrases import when as format_when

STATUS_URL = "http://gonogo.status/"  # the default; `gonogo_status_host` changes the host the proxy uses
# Headers for every answer the proxy gives itself: no caching (a block is for now, not for tomorrow), a CSP
# that forbids scripts and any resource from elsewhere (in case a value ever slipped through unescaped), and
# no framing, so another site cannot dress up a block or warn page (or its continue link) as its own.
_SECURITY = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", **_SECURITY}
TEXT_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", **_SECURITY}


class Html(str):
    """Text that is already safe HTML (escaped values and our own markup)."""


NO_HTML = Html("")


def esc(value: object) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def t(lang: str, key: str, count: int | None = None, **values: object) -> Html:
    """A translated sentence as HTML: the template and each value escaped (Html values kept as they are)."""
    return Html(esc(text(lang, key, count)).format(**{k: esc(v) for k, v in values.items()}))


def tag(name: str, content: object, cls: str | None = None) -> Html:
    attr = f' class="{esc(cls)}"' if cls else ""
    return Html(f"<{name}{attr}>{esc(content)}</{name}>")


@cache
def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", name).read_text("utf-8"))


def _page(kind: str, lang: str, title: str, body_template: str, **values: object) -> str:
    body = _template(body_template).substitute({k: esc(v) for k, v in values.items()})
    return _template("base.html").substitute(lang=esc(lang), kind=esc(kind), title=esc(title), body=body,
                                             footer=t(lang, "footer"))


# -- navigation or not ------------------------------------------------------------------------------

def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict is case-sensitive; mitmproxy's Headers are not
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value or ""


def dest_is_navigation(headers: Mapping[str, str]) -> bool:
    """Whether a request is a page load that should get an HTML page rather than a short text: the
    browser says so in `Sec-Fetch-Dest` (document, or a frame), or, from clients that do not send it,
    the request accepts text/html."""
    dest = _header(headers, "sec-fetch-dest").strip().lower()
    if dest:
        return dest in ("document", "iframe", "frame")
    return "text/html" in _header(headers, "accept").lower()


# -- shared pieces ----------------------------------------------------------------------------------

def _local(moment: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    return moment.astimezone(tz) if tz is not None and moment.tzinfo is not None else moment


def _why(decision: Decision, lang: str, policy: Policy | None = None) -> str:
    return phrases.why(decision, lang, policy)


def _used(decision: Decision, lang: str) -> str | None:
    return phrases.used(decision, lang)


def _returns(decision: Decision, lang: str, now: dt.datetime, tz: dt.tzinfo | None) -> str:
    if decision.until is None:
        return text(lang, "returns.none")
    return format_when(_local(decision.until, tz), now, lang)


def _message(decision: Decision, lang: str) -> Html:
    """The rule's own message, in the reader's language when the policy gives one per language."""
    message = local(decision.message, lang)
    return tag("blockquote", message, "message") if message else Html("")


def _rule(decision: Decision, lang: str, policy: Policy | None) -> str:
    """The deciding rule by its display name (`title:`) when the policy is known, else by its name."""
    return phrases.rule_title(policy, decision.rule, lang) or text(lang, "rule.default")


def _facts(pairs: Iterable[tuple[str, object]]) -> Html:
    return Html("\n".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in pairs))


# -- block ------------------------------------------------------------------------------------------

def block_page(decision: Decision, *, host: str, lang: str, now: dt.datetime, status_url: str = STATUS_URL,
               tz: dt.tzinfo | None = None, request_form: Html = NO_HTML, policy: Policy | None = None) -> str:
    """The 403 page for a blocked navigation: which rule, why, when access returns, time used.
    Times are shown in `tz`, by default the zone of `decision.until` (the policy's); with `policy`, rules
    and categories are shown by their titles in `lang`."""
    facts: list[tuple[str, object]] = [
        (text(lang, "label.site"), tag("span", host, "host")),
        (text(lang, "label.rule"), _rule(decision, lang, policy)),
    ]
    if decision.category:
        facts.append((text(lang, "label.category"), phrases.category_title(policy, decision.category, lang)))
    facts.append((text(lang, "label.why"), _why(decision, lang, policy)))
    used = _used(decision, lang)
    if used:
        facts.append((text(lang, "label.used"), used))
    facts.append((text(lang, "label.returns"), _returns(decision, lang, now, tz)))
    return _page(
        "block", lang, text(lang, "block.title", host=host), "block.html",
        heading=t(lang, "block.heading"), lead=t(lang, "block.lead", host=tag("span", host, "host")),
        message=_message(decision, lang), facts=_facts(facts), status_url=status_url,
        status_link=t(lang, "status.link"), details_label=t(lang, "label.details"), reason=decision.reason,
        request_form=request_form,
    )


def block_text(decision: Decision, *, host: str, lang: str, now: dt.datetime, status_url: str = STATUS_URL,
               tz: dt.tzinfo | None = None, policy: Policy | None = None) -> str:
    """The short plain-text 403 body for requests that are not page loads (XHR, images, API calls)."""
    lines = [text(lang, "text.blocked", host=host), _why(decision, lang, policy)]
    message = local(decision.message, lang)
    if message:
        lines.append(message)
    used = _used(decision, lang)
    if used:
        lines.append(text(lang, "text.used", used=used))
    if decision.until is not None:
        lines.append(text(lang, "text.returns", when=format_when(_local(decision.until, tz), now, lang)))
    lines.append(text(lang, "text.more", url=status_url))
    return "\n".join(lines) + "\n"


# -- warn -------------------------------------------------------------------------------------------

def warn_page(decision: Decision, *, host: str, lang: str, now: dt.datetime, continue_url: str,
              status_url: str = STATUS_URL, tz: dt.tzinfo | None = None, policy: Policy | None = None) -> str:
    """The interstitial of a warn rule: its message and a Continue link to `continue_url` (a plain
    link, because a GET form would drop the link's signed query string)."""
    if not continue_url.startswith(("http://", "https://", "/")):
        raise ValueError(f"continue_url must be an http(s) URL or a path, not {continue_url!r}")
    until = Html("")
    if decision.until is not None:
        until = tag("p", text(lang, "warn.until", when=format_when(_local(decision.until, tz), now, lang)), "muted")
    return _page(
        "warn", lang, text(lang, "warn.title", host=host), "warn.html",
        heading=t(lang, "warn.heading"), lead=t(lang, "warn.lead", host=tag("span", host, "host")),
        message=_message(decision, lang), continue_url=continue_url, button=t(lang, "warn.button", host=host),
        means=t(lang, "warn.means", count=decision.continue_minutes or 15, minutes=decision.continue_minutes or 15,
                rule=_rule(decision, lang, policy)),
        until=until, back=t(lang, "warn.back"), status_url=status_url, status_link=t(lang, "status.link"),
    )


# -- status -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BudgetRow:
    """One time-box budget of the person looking at the status page."""

    budget: str
    used: int
    limit: int
    resets_at: dt.datetime | None = None

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    @classmethod
    def of(cls, row: BudgetRow | Mapping[str, Any]) -> BudgetRow:
        if isinstance(row, BudgetRow):
            return row
        return cls(str(row["budget"]), int(row["used"]), int(row["limit"]), row.get("resets_at"))


def _rule_words(rule: Rule, policy: Policy, lang: str) -> str:
    return phrases.rule_line(rule, policy, lang)


def _rule_item(rule: Rule, policy: Policy, lang: str, now: dt.datetime) -> Html:
    in_force = not rule.when or any(s.active(now) for s in rule.when)
    badge = tag("span", text(lang, "status.now"), "badge") if in_force and not rule.shadow else ""
    message = local(rule.message, lang)
    shown = Html(f"<br><em>{esc(message)}</em>") if message else ""
    return Html(f"<li><strong>{esc(title(rule, lang))}</strong>{badge}<br>{esc(_rule_words(rule, policy, lang))}"
                f"{shown}</li>")


def _budget_table(rows: list[BudgetRow], lang: str, now: dt.datetime, policy: Policy) -> Html:
    tz = policy.timezone
    if not rows:
        return tag("p", text(lang, "status.no_budgets"))
    head = "".join(f"<th>{t(lang, key)}</th>" for key in ("col.budget", "col.used", "col.left", "col.limit",
                                                             "col.resets"))
    body = []
    for row in rows:
        minutes = [t(lang, "minutes", n=n) for n in (row.used, row.left, row.limit)]
        resets = format_when(row.resets_at.astimezone(tz), now, lang) if row.resets_at else ""
        name = phrases.budget_title(policy, row.budget, lang)
        body.append(f"<tr><td>{esc(name)}</td>" + "".join(f'<td class="num">{m}</td>' for m in minutes)
                    + f"<td>{esc(resets)}</td></tr>")
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def status_page(*, user: str | None, groups: tuple[str, ...], policy: Policy,
                rows: Iterable[BudgetRow | Mapping[str, Any]], lang: str, now: dt.datetime,
                client_ip: str | None = None, requests: Html = NO_HTML) -> str:
    """An employee's own view: who the proxy thinks they are, the rules that apply to them in plain
    words, the minutes left per budget (`rows`), and what is and is not recorded about them."""
    who: list[tuple[str, object]] = [(text(lang, "status.user"), user or text(lang, "status.anonymous"))]
    if client_ip:
        who.append((text(lang, "status.address"), client_ip))
    shown = [title(policy.groups[g], lang) if g in policy.groups else g for g in groups]
    who.append((text(lang, "status.groups"), ", ".join(shown) or text(lang, "status.no_groups")))

    applies = [r for r in policy.rules if r.groups is None or not r.groups.isdisjoint(groups)]
    enforced = [_rule_item(r, policy, lang, now) for r in applies if not r.shadow]
    trials = [_rule_item(r, policy, lang, now) for r in applies if r.shadow]
    listed = Html(f'<ul class="rules">{"".join(enforced)}</ul>') if enforced else tag("p", t(lang, "status.no_rules"))
    parts = [listed, tag("p", t(lang, f"status.default.{policy.default}"))]
    if trials:
        parts += [tag("h3", text(lang, "status.trials")), Html(f'<ul class="rules">{"".join(trials)}</ul>')]

    privacy = policy.privacy
    counted = [text(lang, "privacy.minutes"),
               text(lang, "privacy.metrics", count=privacy.min_group_size, n=privacy.min_group_size),
               text(lang, f"privacy.audit.{privacy.audit_log}", count=privacy.retention_days,
                    days=privacy.retention_days)]
    never = [text(lang, "privacy.urls"), text(lang, "privacy.passthrough")]
    return _page(
        "status", lang, text(lang, "status.title"), "status.html",
        heading=t(lang, "status.heading"), who_heading=t(lang, "status.who"), who=_facts(who),
        rules_heading=t(lang, "status.rules"), order=t(lang, "status.order"), rules=Html("\n".join(parts)),
        budgets_heading=t(lang, "status.budgets"),
        budgets=_budget_table([BudgetRow.of(r) for r in rows], lang, now, policy), requests=requests,
        privacy_heading=t(lang, "privacy.heading"), counted_heading=t(lang, "privacy.counted"),
        counted=Html("\n".join(tag("li", c) for c in counted)), never_heading=t(lang, "privacy.never"),
        never=Html("\n".join(tag("li", n) for n in never)),
    )
