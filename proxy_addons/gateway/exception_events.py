"""What is said about an exception request when it is made or decided: the audit record, the metric and the
webhook payload. The payload never says more than the policy's privacy level allows: the person by name and
the reason only with `audit_log: named`; otherwise the same pseudonym the audit log uses, and no reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..policy import Policy
from ..policy.wording import text
from ..usage.requests import ExceptionRequest

EVENT_OF_STATE = {"open": "requested", "approved": "approved", "denied": "denied", "expired": "expired",
                  "withdrawn": "withdrawn"}


def payload(req: ExceptionRequest, policy: Policy, pseudonym: str | None) -> dict[str, Any]:
    """The webhook's JSON: `text` for chat tools, and the fields for anything else."""
    named = policy.privacy.audit_log == "named"
    who = req.who if named else text("en", "notify.someone", pseudonym=pseudonym or "?")
    event = EVENT_OF_STATE[req.state]
    until = "" if req.until is None else dt.datetime.fromtimestamp(req.until, policy.timezone).strftime(
        "%Y-%m-%d %H:%M %Z")
    words = text("en", f"notify.{event}", id=req.id, who=who, minutes=req.minutes, host=req.host, rule=req.rule,
                 until=until)
    if named and event == "requested":
        words += "\n" + text("en", "notify.requested_reason", reason=req.reason)
    words = chat_escape(words)
    body: dict[str, Any] = {"text": words, "event": event, "id": req.id, "rule": req.rule, "host": req.host,
                            "minutes": req.minutes, "state": req.state,
                            "user": req.who if named else None, "pseudonym": None if named else pseudonym}
    if named:
        body["reason"] = req.reason
    if req.until is not None:
        body["until"] = dt.datetime.fromtimestamp(req.until, dt.UTC).isoformat()
    if req.granted is not None:
        body["granted_minutes"] = req.granted
    return body


def chat_escape(words: str) -> str:
    """Slack/Mattermost read `<...>` as links and mentions (`<!channel>`): escape &, < and > as they document,
    so a reason cannot ping a channel or dress up a link. Control characters other than newlines go too."""
    words = "".join(c for c in words if c == "\n" or c.isprintable())
    return words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
