"""The answers the proxy gives itself: block and warn pages, the continue link, the status page and the
PAC file. Built from `pages/` and `pac`, so the addon's hooks stay a few lines each."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable

from mitmproxy import http

from ..metrics import Metrics
from ..pages import (
    PAGE_HEADERS,
    TEXT_HEADERS,
    block_page,
    block_text,
    dest_is_navigation,
    heads_up_page,
    pick_language,
    status_page,
    warn_page,
)
from ..pages.render import Html
from ..policy import Decision, Policy, Who, period_of
from ..policy.budgets import budgets_for
from ..policy.wording import text
from ..usage import Ledger
from . import continuelink, headsup
from .pac import PacCache, proxy_address
from .prebuilt import Prebuilt

_OURS = {"x-gonogo": "1"}
_FORM_CSP = PAGE_HEADERS["Content-Security-Policy"].replace("form-action 'none'", "form-action 'self'")


def _html(status: int, body: str, extra: dict[str, str] | None = None) -> http.Response:
    return http.Response.make(status, body.encode("utf-8"), {**PAGE_HEADERS, **_OURS, **(extra or {})})


def _text(status: int, body: str, extra: dict[str, str] | None = None) -> http.Response:
    return http.Response.make(status, body.encode("utf-8"), {**TEXT_HEADERS, **_OURS, **(extra or {})})


class Responder:
    """`status_host` is passed per call: it is an option that may change while the proxy runs."""

    def __init__(self, key: bytes, ledger: Ledger, metrics: Metrics,
                 on_event: Callable[[str, Policy, Who, Decision, str], None] | None = None) -> None:
        self.key = key
        self.ledger = ledger
        self.metrics = metrics
        self.on_event = on_event
        self._pacs = PacCache()
        self._prebuilt = Prebuilt()  # block answers, rendered once per decision shape
        # set by the exception-request addon (gateway/exceptions.py): the form of a block page, and the
        # person's requests on the status page
        self.request_form: Callable[[Policy, Who, Decision, str, str], Html | None] | None = None
        self.requests_of: Callable[[Who, str, dt.datetime, dt.tzinfo], Awaitable[Html]] | None = None

    async def pac(self, policy: Policy, proxy: str, status_host: str) -> http.Response:
        """The PAC file; the status host always goes through the proxy, or its page could not be reached.
        `proxy` comes from the request's Host header: anything but a host and port is refused."""
        address = proxy_address(proxy)
        if address is None:
            return _text(400, "Bad request: the Host header is not a host name or address with a port.\n")
        body = await self._pacs.get(policy, address, status_host)
        headers = {k.lower(): v for k, v in TEXT_HEADERS.items()}  # nosniff, no framing, like every answer of ours
        headers.update({"content-type": "application/x-ns-proxy-autoconfig", "cache-control": "max-age=300"})
        return http.Response.make(200, body, headers)

    def refusal(self, policy: Policy, person: Who, decision: Decision, host: str,
                req: http.Request, status_host: str) -> http.Response:
        lang = pick_language(req.headers.get("accept-language"))
        now = dt.datetime.now(policy.timezone)
        navigation = dest_is_navigation(req.headers)
        if navigation and decision.decision == "warn" and decision.rule is not None:
            # the continue link is signed for this person and this moment: rendered for each request
            link = continuelink.make_path(self.key, person.key, decision.rule, req.path, time.time())
            return _html(403, warn_page(decision, host=host, lang=lang, now=now, continue_url=link,
                                        status_url=f"http://{status_host}/", policy=policy),
                         self._refusal_headers(decision, lang))
        if navigation and self.request_form is not None:
            form = self.request_form(policy, person, decision, lang, req.path)
            if form is not None:  # the form is this person's (and posts to this site's reserved path)
                headers = {**self._refusal_headers(decision, lang), "Content-Security-Policy": _FORM_CSP}
                return _html(403, block_page(decision, host=host, lang=lang, now=now,
                                             status_url=f"http://{status_host}/", request_form=form, policy=policy),
                             headers)
        # everything else a refusal says follows from this key (see prebuilt.py)
        key = (policy.sha256, decision, host, lang, status_host, navigation, now.date())
        return self._prebuilt.get(key, lambda: self._render_refusal(policy, decision, host, lang, now, status_host,
                                                                    navigation))

    def _render_refusal(self, policy: Policy, decision: Decision, host: str, lang: str, now: dt.datetime,
                        status_host: str, navigation: bool) -> tuple[int, dict[str, str], bytes]:
        status_url = f"http://{status_host}/"
        headers = self._refusal_headers(decision, lang)
        if navigation:  # a warning with a rule was answered with its warn page before
            body = block_page(decision, host=host, lang=lang, now=now, status_url=status_url, policy=policy)
            return 403, {**PAGE_HEADERS, **_OURS, **headers}, body.encode("utf-8")
        body = block_text(decision, host=host, lang=lang, now=now, status_url=status_url, policy=policy)
        return 403, {**TEXT_HEADERS, **_OURS, **headers}, body.encode("utf-8")

    @staticmethod
    def _refusal_headers(decision: Decision, lang: str) -> dict[str, str]:
        return {"x-gonogo-rule": _header_safe(decision.rule or "default"), "x-gonogo-decision": decision.decision,
                "content-language": lang}

    def heads_up(self, policy: Policy, person: Who, decision: Decision, host: str, req: http.Request,
                 status_host: str) -> http.Response:
        """The one-time heads-up before a budget ends, instead of the page (the minute is counted already)."""
        quota = decision.quota
        assert quota is not None
        lang = pick_language(req.headers.get("accept-language"))
        link = continuelink.make_path(self.key, person.key, headsup.key(quota.budget, quota.period), req.path,
                                      time.time())
        body = heads_up_page(decision, host=host, lang=lang, now=dt.datetime.now(policy.timezone),
                             continue_url=link, status_url=f"http://{status_host}/")
        return _html(200, body, {"content-language": lang, "x-gonogo-decision": "heads-up",
                                 "x-gonogo-minutes-left": str(quota.left)})

    async def continue_link(self, policy: Policy, person: Who, req: http.Request,
                            hosts: list[str]) -> http.Response:
        """Answered here, never forwarded: the origin must not learn of our links. Only the person's own
        click counts: a frame or a script of the warned site cannot follow the link (see continuelink)."""
        if not continuelink.followed_by_the_person(req.headers, req.pretty_host):
            lang = pick_language(req.headers.get("accept-language"))
            return _text(403, text(lang, "continue.click") + "\n", {"content-language": lang})
        query = req.path.partition("?")[2]
        grant = continuelink.verify(self.key, person.key, query, time.time())
        seen = headsup.parse(grant.rule) if grant else None
        if grant is not None and seen is not None and seen[0] in policy.budgets:
            return await self._heads_up_seen(policy, person, grant, *seen)
        rule = policy.rule(grant.rule) if grant else None
        if grant is None or rule is None or rule.action != "warn":
            return _text(403, "This continue link is not valid for you (it may have expired). "
                              "Reload the page to get a new one.\n")
        until = time.time() + rule.continue_minutes * 60
        await self.ledger.set_continue(person.key, rule.name, until)
        groups = policy.groups_of(person.user, person.ip, person.groups_from_directory)
        label = self.metrics.group_label(groups, person.key)
        category = next((c for h in hosts if (c := policy.category_of(h))), None)
        self.metrics.warn_continue(label, category or "none", rule.name)
        if self.on_event is not None:
            decision = Decision("allow", "warn", rule.name, category, groups[0] if groups else None,
                                "continued past the warning", continued=True)
            self.on_event("continue", policy, person, decision, hosts[0] if hosts else "")
        return http.Response.make(302, b"", {**TEXT_HEADERS, **_OURS, "location": grant.next_path})

    async def _heads_up_seen(self, policy: Policy, person: Who, grant: continuelink.ContinueGrant, budget: str,
                             period: str) -> http.Response:
        """Remember that the person saw this period's heads-up (until the period ends), then go on."""
        quota = policy.budgets[budget]
        _, resets_at = period_of(quota, dt.datetime.now(policy.timezone), policy)
        await self.ledger.set_continue(person.key, headsup.key(budget, period), resets_at.timestamp() + 3600)
        return http.Response.make(302, b"", {**TEXT_HEADERS, **_OURS, "location": grant.next_path})

    async def status(self, policy: Policy, person: Who, req: http.Request) -> http.Response:
        lang = pick_language(req.headers.get("accept-language"))
        now = dt.datetime.now(policy.timezone)
        groups = policy.groups_of(person.user, person.ip, person.groups_from_directory)
        rows = []
        minute = int(now.timestamp() // 60)
        for name, (quota, rules) in budgets_for(policy, person).items():
            if all(rule.shadow for rule in map(policy.rule, rules) if rule is not None):
                continue  # a trial's budget is never spent: nothing to show
            period, resets_at = period_of(quota, now, policy)
            try:
                balance = await self.ledger.balance(person.key, name, period, minute)
                used, extra = balance.used, balance.extra
            except Exception:
                self.metrics.ledger_error()
                used, extra = 0, 0
            rows.append({"budget": name, "used": used, "limit": quota.minutes + extra, "per": quota.per,
                         "resets_at": resets_at})
        requests = await self.requests_of(person, lang, now, policy.timezone) if self.requests_of else Html("")
        body = status_page(user=person.user, groups=groups, policy=policy, rows=rows, lang=lang, now=now,
                           requests=requests)
        # the Withdraw buttons of open requests post to the status page's own site
        csp = {"Content-Security-Policy": _FORM_CSP} if self.requests_of is not None else {}
        return _html(200, body, {"content-language": lang, **csp})


def _header_safe(value: str) -> str:
    return value.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")
