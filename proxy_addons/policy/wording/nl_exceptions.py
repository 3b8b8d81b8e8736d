"""De Nederlandse woorden van uitzonderingsverzoeken, naast nl.py in een eigen module; table.py voegt ze
aan de Nederlandse kolom toe."""

from __future__ import annotations

NL_EXCEPTIONS: dict[str, str | tuple[str, str]] = {
    "reason.exception": "toegestaan door uitzondering {id} op regel '{rule}' tot {until}",
    "rule.exceptions": (
        "mensen kunnen een uitzondering van hoogstens {minutes} minuut vragen",
        "mensen kunnen een uitzondering van hoogstens {minutes} minuten vragen",
    ),
    "explain.exception": "uitzondering {id} op regel '{rule}' geldt tot {until}",
    "notice.exception_item": (
        "Heb je het nodig voor je werk, dan kun je op de pagina die het blokkeert een uitzondering vragen, "
        "voor hoogstens {minutes} minuut; IT beslist.",
        "Heb je het nodig voor je werk, dan kun je op de pagina die het blokkeert een uitzondering vragen, "
        "voor hoogstens {minutes} minuten; IT beslist.",
    ),
    "notice.exception_counted": "Een verzoek om een uitzondering bewaart je reden, de site en de regel tot IT "
                                "beslist, en daarna zo lang als auditgegevens bewaard worden.",
    "form.heading": "Heb je het nodig voor je werk?",
    "form.lead": "Vraag IT om een uitzondering. Keurt IT die goed, dan werkt deze site voor jou zo lang als je "
                 "vraagt.",
    "form.reason": "Reden (waarvoor heb je het nodig?)",
    "form.minutes": "Hoe lang (minuten, hoogstens {max})",
    "form.submit": "Vraag een uitzondering",
    "form.note": "Je verzoek wordt met je reden vastgelegd en aan IT getoond.",
    "sent.title": "Verzoek verstuurd",
    "sent.heading": "Je verzoek is verstuurd",
    "sent.lead": "IT bekijkt het. Je kunt het volgen op je statuspagina.",
    "refused.title": "Verzoek niet verstuurd",
    "refused.heading": "Je verzoek is niet verstuurd",
    "refused.too_many": (
        "Je hebt al {count} open verzoek. Wacht tot IT erover beslist heeft.",
        "Je hebt al {count} open verzoeken. Wacht tot IT erover beslist heeft.",
    ),
    "refused.rate": "Je hebt in korte tijd te veel verzoeken gestuurd. Probeer het later opnieuw.",
    "refused.forbidden": "Dit formulier komt niet van de eigen pagina van de gateway, of het is verlopen. Laad "
                         "de geblokkeerde pagina opnieuw en probeer het nog eens.",
    "refused.invalid": "Het verzoek is niet volledig: {what}.",
    "refused.reason_missing": "schrijf een reden",
    "refused.reason_long": "de reden is langer dan {max} tekens",
    "refused.minutes": "de duur moet tussen 1 en {max} minuten liggen",
    "refused.rule": "voor deze regel kun je geen verzoek doen",
    "refused.unavailable": "De opslag van verzoeken is nu niet bereikbaar. Probeer het over een minuut opnieuw.",
    "label.request": "Verzoek",
    "label.state": "Status",
    "label.asked": "Gevraagd",
    "label.until": "Tot",
    "label.reason": "Reden",
    "label.note": "Opmerking van IT",
    "state.open": "wacht op IT",
    "state.approved": "goedgekeurd",
    "state.denied": "afgewezen",
    "state.expired": "verlopen",
    "state.withdrawn": "ingetrokken",
    "withdraw.button": "Intrekken",
    "withdraw.label": "Verzoek {id} intrekken: je hebt het niet meer nodig",
    "withdrawn.title": "Verzoek ingetrokken",
    "withdrawn.heading": "Je verzoek is ingetrokken",
    "withdrawn.lead": "IT beslist er niet meer over. Heb je de site toch nodig, dan kun je opnieuw een verzoek "
                      "doen op de pagina die hem blokkeert.",
    "withdraw.refused_title": "Verzoek niet ingetrokken",
    "withdraw.refused_heading": "Je verzoek is niet ingetrokken",
    "withdraw.forbidden": "Deze knop komt niet van je eigen statuspagina, of hij is verlopen. Laad je "
                          "statuspagina opnieuw en probeer het nog eens.",
    "withdraw.unknown": "Je hebt geen verzoek met dit nummer.",
    "withdraw.not_open": "Dit verzoek kun je niet meer intrekken; de status is: {state}.",
    "status.requests": "Je verzoeken om een uitzondering",
    "status.no_requests": "Je hebt geen uitzondering gevraagd.",
    "col.request": "Verzoek",
    "col.rule": "Regel",
    "col.site": "Site",
    "col.state": "Status",
    "col.asked": "Gevraagd",
    "col.until": "Tot",
    "notify.requested": "Nieuw uitzonderingsverzoek {id}: {who} vraagt {minutes} min op {host} (regel "
                        "'{rule}'). Goedkeuren: gonogo requests approve {id}",
    "notify.requested_reason": "Reden: {reason}",
    "notify.approved": "Uitzonderingsverzoek {id} goedgekeurd: {who} mag {host} (regel '{rule}') gebruiken tot "
                       "{until}.",
    "notify.denied": "Uitzonderingsverzoek {id} afgewezen: {who}, {host} (regel '{rule}').",
    "notify.expired": "Uitzonderingsverzoek {id} verlopen: {who}, {host} (regel '{rule}').",
    "notify.withdrawn": "Uitzonderingsverzoek {id} ingetrokken: {who} heeft {host} (regel '{rule}') niet meer "
                        "nodig.",
    "notify.someone": "iemand ({pseudonym})",
}
