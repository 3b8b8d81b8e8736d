"""Asking for an exception: the form on the block page of an opted-in rule (`exceptions: {max_minutes: N}`), its
POST to a reserved path the proxy answers itself, the person's requests on the status page, the header of a
request an exception allowed, the "Withdraw" button of each open request on the status page (posted to the same
path with `action=withdraw`), and the background book that keeps approvals current (exception_book.py).

Cross-site submission is refused twice over: the form carries a token signed with the proxy's key for this
person and rule (like a continue link), which another site cannot read; and a browser's `Sec-Fetch-Site` and
`Origin`, when sent, must say the form came from the very site it is posted to (the block page's own origin).
A withdrawal's token is signed for this person and that request id.
One person can only ever make, see, withdraw or be granted their own requests: every lookup is by the person the
proxy identified, never by an id from the client alone.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any

from mitmproxy import ctx, http

from ..pages import PAGE_HEADERS, pick_language
from ..pages.render import Html
from ..pages.requests import (
    REQUEST_PATH,
    refused_page,
    request_form,
    requests_section,
    sent_page,
    withdrawn_page,
)
from ..policy import Decision, Policy, Who
from ..policy.wording import text
from ..usage.ledger import LedgerUnavailable
from ..usage.requests import (
    MAX_REASON,
    ExceptionRequest,
    NotOpen,
    RateLimited,
    TooManyOpen,
    new_id,
    open_requests,
)
from . import continuelink
from .exception_book import ExceptionBook
from .identity import flow_person
from .state import GatewayState, normalised, refuse
from .webhook import Webhook

log = logging.getLogger("gonogo")

TOKEN_LIFETIME_SECONDS = 3600
MAX_BODY = 8192


ASK = "exception-request"  # what a token allows: asking for an exception to a rule,
WITHDRAW = "exception-withdraw"  # or withdrawing one request (so neither token can stand in for the other)


def make_token(key: bytes, person: str, subject: str, now: float, purpose: str = ASK) -> str:
    """A token for `person` to do `purpose` with `subject` (a rule name, or a request id), valid an hour."""
    expires = int(now) + TOKEN_LIFETIME_SECONDS
    return f"{expires}.{_sign(key, purpose, person, subject, expires)}"


def verify_token(key: bytes, person: str, subject: str, token: str, now: float, purpose: str = ASK) -> bool:
    stamp, _, sig = token.partition(".")
    try:
        expires = int(stamp)
    except ValueError:
        return False
    return expires >= now and hmac.compare_digest(sig, _sign(key, purpose, person, subject, expires))


def _sign(key: bytes, purpose: str, person: str, subject: str, expires: int) -> str:
    message = "\x00".join((purpose, person, subject, str(expires))).encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()[:18]).decode()


def cross_site(req: http.Request) -> bool:
    """Whether a browser says the POST comes from another site than the one it is sent to."""
    site = req.headers.get("sec-fetch-site")
    if site is not None and site.lower() != "same-origin":
        return True
    origin = req.headers.get("origin")
    if origin is None:
        return False  # not a browser form (curl), or an old browser: the token still has to be right
    host = req.host_header or req.host
    return origin.lower() != f"{req.scheme}://{host}".lower()


class ExceptionRequests:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.book: ExceptionBook | None = None
        self.key = b""

    async def running(self) -> None:
        state = self.state
        if not state.ready or state.fatal or state.decider is None or state.responder is None:
            return
        try:
            store = open_requests(ctx.options.gonogo_state)
        except Exception as exc:
            state.stop(f"gonogo: cannot open the exception requests in {ctx.options.gonogo_state}: {exc}")
            return
        self.key = continuelink.load_key(state.state_dir / "continue.key")
        webhook = Webhook(lambda: state.policy.notify.webhook if state.policy is not None else None)
        self.book = ExceptionBook(store, state, webhook, self.key)
        self.book.start()
        state.decider.exceptions_of = self.book.of
        state.responder.request_form = self.form
        state.responder.requests_of = self.requests_of

    async def done(self) -> None:
        if self.book is not None:
            await self.book.close()
            self.book = None

    # -- pages --------------------------------------------------------------------------------------

    def form(self, policy: Policy, person: Who, decision: Decision, lang: str, next_path: str) -> Html | None:
        """The request form for a block page, if the deciding rule takes requests."""
        rule = policy.rule(decision.rule) if decision.rule is not None else None
        if rule is None or rule.exceptions is None or self.book is None:
            return None
        token = make_token(self.key, person.key, rule.name, time.time())
        return request_form(lang=lang, rule=rule.name, max_minutes=rule.exceptions.max_minutes, token=token,
                            next_path=next_path)

    async def requests_of(self, person: Who, lang: str, now: dt.datetime, tz: dt.tzinfo) -> Html:
        """The status page's list of this person's requests (empty while the store cannot be read)."""
        if self.book is None:
            return Html("")
        try:
            found = await self.book.store.find(person.key)
        except Exception:
            self.state.metrics.ledger_error()
            return Html("")
        return requests_section(found, lang=lang, tz=tz, now=now, withdraw_token=lambda request_id: make_token(
            self.key, person.key, request_id, time.time(), WITHDRAW))

    # -- hooks --------------------------------------------------------------------------------------

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.request.path.split("?")[0] != REQUEST_PATH or flow.response is not None:
            return
        if not self.state.ready or self.book is None:
            flow.response = _plain(503, "The gateway is starting; try again in a moment.\n")
            return
        try:
            flow.response = await self._submit(flow)
        except Exception:
            refuse(flow, "an exception request")

    def response(self, flow: http.HTTPFlow) -> None:
        """Say on an allowed response that an exception allowed it: `X-Gonogo-Exception: <id> until <time>`."""
        decision: Decision | None = flow.metadata.get("gonogo")
        who = flow.metadata.get("gonogo_who")
        if (decision is None or flow.response is None or self.book is None or not isinstance(who, Who)
                or decision.decision != "allow" or decision.rule is None or decision.quota is not None
                or decision.action not in ("block", "timebox")):
            return
        granted = self.book.of(who.key).get(decision.rule)
        if granted is not None:
            flow.response.headers["X-Gonogo-Exception"] = f"{granted[0]} until {granted[1].isoformat()}"

    async def _submit(self, flow: http.HTTPFlow) -> http.Response:
        state, req = self.state, flow.request
        policy = state.policy
        assert policy is not None and self.book is not None
        lang = pick_language(req.headers.get("accept-language"))
        status_url = f"http://{state.status_host}/"
        if req.method != "POST":
            return _refused(405, text(lang, "refused.forbidden"), lang, status_url)
        if req.raw_content is None or len(req.raw_content) > MAX_BODY:  # None: streamed
            return _refused(403, text(lang, "refused.forbidden"), lang, status_url)
        form = _form(req)
        if form.get("action") == "withdraw":
            if cross_site(req):
                return _refused(403, text(lang, "withdraw.forbidden"), lang, status_url, withdraw=True)
            return await self._withdraw(flow_person(policy, flow, state.directory), form, lang, status_url)
        if cross_site(req):
            return _refused(403, text(lang, "refused.forbidden"), lang, status_url)
        return await self._ask(flow, form, lang, status_url)

    async def _withdraw(self, person: Who, form: Mapping[str, str], lang: str, status_url: str) -> http.Response:
        """The person takes back one of their open requests; the book announces it (it sees the store change)."""
        assert self.book is not None
        request_id = form.get("id", "")
        if not verify_token(self.key, person.key, request_id, form.get("token", ""), time.time(), WITHDRAW):
            return _refused(403, text(lang, "withdraw.forbidden"), lang, status_url, withdraw=True)
        try:
            done = await self.book.store.withdraw(request_id, person.key, time.time())
        except NotOpen as exc:
            why = text(lang, "withdraw.not_open", state=text(lang, f"state.{exc.state}"))
            return _refused(409, why, lang, status_url, withdraw=True)
        except (LedgerUnavailable, OSError) as exc:
            log.warning(f"gonogo: cannot withdraw an exception request: {exc}")
            self.state.metrics.ledger_error()
            return _refused(503, text(lang, "refused.unavailable"), lang, status_url, withdraw=True)
        if done is None:
            return _refused(404, text(lang, "withdraw.unknown"), lang, status_url, withdraw=True)
        return _page(200, withdrawn_page(done, lang=lang, status_url=status_url), lang)

    async def _ask(self, flow: http.HTTPFlow, form: Mapping[str, str], lang: str, status_url: str) -> http.Response:
        """A new request from a block page's form."""
        state, req = self.state, flow.request
        policy = state.policy
        assert policy is not None and self.book is not None

        def refused(status: int, why: str) -> http.Response:
            return _refused(status, why, lang, status_url)

        person = flow_person(policy, flow, state.directory)
        rule = policy.rule(form.get("rule", ""))
        if rule is None or not verify_token(self.key, person.key, rule.name, form.get("token", ""), time.time()):
            return refused(403, text(lang, "refused.forbidden"))
        if rule.exceptions is None:
            return refused(400, text(lang, "refused.invalid", what=text(lang, "refused.rule")))
        reason = "".join(c for c in form.get("reason", "") if c in "\n\t" or c.isprintable()).strip()
        problem = _problem(lang, reason, form.get("minutes", ""), rule.exceptions.max_minutes)
        if problem is not None:
            return refused(400, text(lang, "refused.invalid", what=problem))
        hosts = normalised([req.host, req.host_header])
        new = ExceptionRequest(new_id(), person.key, person.user, person.ip, rule.name, hosts[0] if hosts else "",
                               reason, int(form["minutes"]), "open", time.time())
        # the proxy that takes the request announces it at once (and stores it as announced): were it left to
        # the background claim, an approval landing first would leave the "requested" event unannounced
        new = dataclasses.replace(new, announced="open")
        try:
            made = await self.book.store.create(new)
        except TooManyOpen as exc:
            return refused(429, text(lang, "refused.too_many", count=exc.count))
        except RateLimited:
            return refused(429, text(lang, "refused.rate"))
        except (LedgerUnavailable, OSError) as exc:
            log.warning(f"gonogo: cannot store an exception request: {exc}")
            state.metrics.ledger_error()
            return refused(503, text(lang, "refused.unavailable"))
        self.book.announce(made)
        now = dt.datetime.now(policy.timezone)
        return _page(200, sent_page(made, lang=lang, tz=policy.timezone, now=now, status_url=status_url), lang)


def _form(req: http.Request) -> Mapping[str, str]:
    if "application/x-www-form-urlencoded" not in req.headers.get("content-type", "").lower():
        return {}
    return {k: v for k, v in req.urlencoded_form.items()}


def _problem(lang: str, reason: str, minutes: str, max_minutes: int) -> str | None:
    if not reason:
        return text(lang, "refused.reason_missing")
    if len(reason) > MAX_REASON:
        return text(lang, "refused.reason_long", max=MAX_REASON)
    try:
        value = int(minutes)
    except ValueError:
        value = 0
    if not 1 <= value <= max_minutes:
        return text(lang, "refused.minutes", max=max_minutes)
    return None


def _refused(status: int, why: str, lang: str, status_url: str, *, withdraw: bool = False) -> http.Response:
    return _page(status, refused_page(lang=lang, why=why, status_url=status_url, withdraw=withdraw), lang)


def _page(status: int, body: str, lang: str) -> http.Response:
    headers: dict[str, Any] = {**PAGE_HEADERS, "x-gonogo": "1", "content-language": lang}
    return http.Response.make(status, body.encode("utf-8"), headers)


def _plain(status: int, body: str) -> http.Response:
    return http.Response.make(status, body.encode("utf-8"), {"content-type": "text/plain; charset=utf-8",
                                                             "cache-control": "no-store", "x-gonogo": "1"})
