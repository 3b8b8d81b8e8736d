"""The English words of exception requests (asking for an exception from a block page), kept beside en.py
in their own module; table.py merges them into the English column."""

from __future__ import annotations

EN_EXCEPTIONS: dict[str, str | tuple[str, str]] = {
    "reason.exception": "allowed by exception {id} to rule '{rule}' until {until}",
    "rule.exceptions": (
        "people may ask for an exception of up to {minutes} minute",
        "people may ask for an exception of up to {minutes} minutes",
    ),
    "explain.exception": "exception {id} to rule '{rule}' is in force until {until}",
    "notice.exception_item": (
        "If you need it for your work, you can ask for an exception from the page that blocks it, for at "
        "most {minutes} minute; IT decides.",
        "If you need it for your work, you can ask for an exception from the page that blocks it, for at "
        "most {minutes} minutes; IT decides.",
    ),
    "notice.exception_counted": "A request for an exception keeps your reason, the site and the rule until "
                                "IT decides, and afterwards as long as audit records are kept.",
    "form.heading": "Need it for your work?",
    "form.lead": "Ask IT for an exception. If they approve it, this site works for you for the time you ask.",
    "form.reason": "Reason (what do you need it for?)",
    "form.minutes": "For how long (minutes, at most {max})",
    "form.submit": "Ask for an exception",
    "form.note": "Your request, with your reason, is recorded and shown to IT.",
    "sent.title": "Request sent",
    "sent.heading": "Your request was sent",
    "sent.lead": "IT will look at it. You can follow it on your status page.",
    "refused.title": "Request not sent",
    "refused.heading": "Your request was not sent",
    "refused.too_many": (
        "You already have {count} open request. Wait until IT has decided on it.",
        "You already have {count} open requests. Wait until IT has decided on them.",
    ),
    "refused.rate": "You sent too many requests in a short time. Try again later.",
    "refused.forbidden": "This form was not sent from the gateway's own page, or it has expired. Reload the "
                         "blocked page and try again.",
    "refused.invalid": "The request is not complete: {what}.",
    "refused.reason_missing": "write a reason",
    "refused.reason_long": "the reason is longer than {max} characters",
    "refused.minutes": "the duration must be between 1 and {max} minutes",
    "refused.rule": "this rule does not take requests",
    "refused.unavailable": "The request store cannot be reached right now. Try again in a minute.",
    "label.request": "Request",
    "label.state": "State",
    "label.asked": "Asked",
    "label.until": "Until",
    "label.reason": "Reason",
    "label.note": "Note from IT",
    "state.open": "waiting for IT",
    "state.approved": "approved",
    "state.denied": "denied",
    "state.expired": "expired",
    "state.withdrawn": "withdrawn",
    "withdraw.button": "Withdraw",
    "withdraw.label": "Withdraw request {id}: you no longer need it",
    "withdrawn.title": "Request withdrawn",
    "withdrawn.heading": "Your request was withdrawn",
    "withdrawn.lead": "IT will not decide on it any more. If you need the site after all, you can ask again from "
                      "the page that blocks it.",
    "withdraw.refused_title": "Request not withdrawn",
    "withdraw.refused_heading": "Your request was not withdrawn",
    "withdraw.forbidden": "This button was not sent from your own status page, or it has expired. Reload your "
                          "status page and try again.",
    "withdraw.unknown": "You have no request with this number.",
    "withdraw.not_open": "This request can no longer be withdrawn; its state is: {state}.",
    "status.requests": "Your requests for an exception",
    "status.no_requests": "You have not asked for an exception.",
    "col.request": "Request",
    "col.rule": "Rule",
    "col.site": "Site",
    "col.state": "State",
    "col.asked": "Asked",
    "col.until": "Until",
    "notify.requested": "New exception request {id}: {who} asks for {minutes} min on {host} (rule '{rule}'). "
                        "Approve: gonogo requests approve {id}",
    "notify.requested_reason": "Reason: {reason}",
    "notify.approved": "Exception request {id} approved: {who} may use {host} (rule '{rule}') until {until}.",
    "notify.denied": "Exception request {id} denied: {who}, {host} (rule '{rule}').",
    "notify.expired": "Exception request {id} expired: {who}, {host} (rule '{rule}').",
    "notify.withdrawn": "Exception request {id} withdrawn: {who} no longer needs {host} (rule '{rule}').",
    "notify.someone": "someone ({pseudonym})",
}
