"""English and Dutch texts of the pages, the choice between them, and dates in words.

Texts are plain `str.format` templates without markup; `render` escapes the template and every value,
so a translation can never inject HTML and a value can never break out of its place.
"""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"

WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
SHORT_DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "footer": "gonogo, the company's social-media policy gateway",
        "status.link": "See what applies to you",
        "per.day": "day",
        "per.week": "week",
        # block page
        "block.title": "Blocked: {host}",
        "block.heading": "This site is not available right now",
        "block.lead": "{host} is blocked for you by the company's social-media policy.",
        "label.site": "Site",
        "label.rule": "Rule",
        "label.category": "Category",
        "label.why": "Why",
        "label.returns": "Access returns",
        "label.used": "Time used",
        "label.details": "Technical detail",
        "rule.default": "the policy's default",
        "why.block": "Rule “{rule}” blocks this site for you.",
        "why.quota": "The {limit} minutes per {per} of rule “{rule}” are used up.",
        "why.default": "No rule allows this site, and the policy blocks everything no rule allows.",
        "returns.none": "No end time: this rule applies at all times.",
        "used.day": "{used} of {limit} minutes today",
        "used.week": "{used} of {limit} minutes this week",
        "when.today": "today at {time}",
        "when.tomorrow": "tomorrow at {time}",
        "when.weekday": "{weekday} at {time}",
        "when.date": "{weekday} {day} {month} {year} at {time}",
        # short text for non-navigation requests
        "text.blocked": "Blocked by the social-media policy: {host}.",
        "text.returns": "Access returns {when}.",
        "text.used": "Used: {used}.",
        "text.more": "See what applies to you: {url}",
        # warn page
        "warn.title": "Before you continue: {host}",
        "warn.heading": "A moment, please",
        "warn.lead": "The company's social-media policy asks you to confirm before you visit {host}.",
        "warn.button": "Continue to {host}",
        "warn.means": "Continuing lets you use this site for {minutes} minutes (rule “{rule}”) without this "
                      "question. Your choice is recorded as a continue.",
        "warn.until": "This reminder applies until {when}.",
        "warn.back": "Not needed after all? Just close this tab or go back.",
        # status page
        "status.title": "What applies to you",
        "status.heading": "What the social-media policy means for you",
        "status.who": "Who the proxy thinks you are",
        "status.user": "User",
        "status.address": "Address",
        "status.anonymous": "not identified, so the rules for everyone apply",
        "status.groups": "Groups",
        "status.no_groups": "none",
        "status.rules": "Rules that apply to you",
        "status.order": "The first rule that matches a visit decides.",
        "status.no_rules": "No rule applies to you.",
        "status.now": "in force now",
        "status.default.allow": "Everything else: allowed.",
        "status.default.block": "Everything else: blocked.",
        "status.default.warn": "Everything else: a reminder first.",
        "status.trials": "Trials (recorded, never enforced)",
        "status.budgets": "Time left",
        "status.no_budgets": "No time-boxed budget applies to you.",
        "col.budget": "Budget",
        "col.used": "Used",
        "col.left": "Left",
        "col.limit": "Limit",
        "col.resets": "Starts again",
        "minutes": "{n} min",
        "rule.line": "{targets}: {action}",
        "targets.all": "every site",
        "targets.category": "category “{name}”",
        "targets.more": "{count} more",
        "action.allow": "allowed",
        "action.block": "blocked",
        "action.warn": "a reminder first; after you continue, {minutes} minutes without it",
        "action.timebox": "limited to {minutes} minutes per {per} (budget “{budget}”)",
        "cond.when": "during {schedules}",
        "cond.holidays": "not on public holidays or company days off",
        "cond.methods": "only for {methods} requests (sending, not reading)",
        "cond.paths": "only on pages {paths}",
        "window": "{days} {start}-{end}",
        "every_day": "every day",
        "privacy.heading": "Privacy: what is recorded, and what never is",
        "privacy.counted": "What is counted",
        "privacy.minutes": "For time-boxed sites: the minutes in which you were active, per budget, so the limit "
                           "can be enforced. They are deleted when the budget starts again.",
        "privacy.metrics": "Totals per group and category for reports. They never contain your name or address; "
                           "a group with fewer than {n} people is reported as “other”.",
        "privacy.audit.pseudonymous": "Blocks, reminders, continues and used-up budgets go into an audit log with "
                                      "the time, the rule and the site's name (never the full address), under a "
                                      "pseudonym instead of your name. Kept {days} days.",
        "privacy.audit.named": "Blocks, reminders, continues and used-up budgets go into an audit log with the "
                               "time, the rule, the site's name (never the full address) and your user name. "
                               "Kept {days} days.",
        "privacy.audit.off": "No audit log is kept.",
        "privacy.never": "What is never recorded",
        "privacy.urls": "Full addresses (URLs), page contents, what you type, post or send, passwords.",
        "privacy.passthrough": "Sites no rule covers: their traffic passes the proxy without being decrypted.",
    },
    "nl": {
        "footer": "gonogo, de socialmediagateway van het bedrijf",
        "status.link": "Bekijk wat voor jou geldt",
        "per.day": "dag",
        "per.week": "week",
        "block.title": "Geblokkeerd: {host}",
        "block.heading": "Deze site is nu niet beschikbaar",
        "block.lead": "{host} is voor jou geblokkeerd door het socialmediabeleid van het bedrijf.",
        "label.site": "Site",
        "label.rule": "Regel",
        "label.category": "Categorie",
        "label.why": "Waarom",
        "label.returns": "Weer beschikbaar",
        "label.used": "Gebruikte tijd",
        "label.details": "Technisch detail",
        "rule.default": "de standaard van het beleid",
        "why.block": "Regel “{rule}” blokkeert deze site voor jou.",
        "why.quota": "De {limit} minuten per {per} van regel “{rule}” zijn op.",
        "why.default": "Geen regel staat deze site toe, en het beleid blokkeert alles wat geen regel toestaat.",
        "returns.none": "Geen eindtijd: deze regel geldt altijd.",
        "used.day": "{used} van {limit} minuten vandaag",
        "used.week": "{used} van {limit} minuten deze week",
        "when.today": "vandaag om {time}",
        "when.tomorrow": "morgen om {time}",
        "when.weekday": "{weekday} om {time}",
        "when.date": "{weekday} {day} {month} {year} om {time}",
        "text.blocked": "Geblokkeerd door het socialmediabeleid: {host}.",
        "text.returns": "Weer beschikbaar {when}.",
        "text.used": "Gebruikt: {used}.",
        "text.more": "Bekijk wat voor jou geldt: {url}",
        "warn.title": "Voordat je verdergaat: {host}",
        "warn.heading": "Even een moment",
        "warn.lead": "Het socialmediabeleid van het bedrijf vraagt je te bevestigen voordat je {host} bezoekt.",
        "warn.button": "Doorgaan naar {host}",
        "warn.means": "Als je doorgaat, kun je deze site {minutes} minuten gebruiken (regel “{rule}”) zonder "
                      "deze vraag. Je keuze wordt vastgelegd als ‘doorgegaan’.",
        "warn.until": "Deze herinnering geldt tot {when}.",
        "warn.back": "Toch niet nodig? Sluit dit tabblad of ga terug.",
        "status.title": "Wat voor jou geldt",
        "status.heading": "Wat het socialmediabeleid voor jou betekent",
        "status.who": "Wie de proxy denkt dat je bent",
        "status.user": "Gebruiker",
        "status.address": "Adres",
        "status.anonymous": "niet herkend, dus de regels voor iedereen gelden",
        "status.groups": "Groepen",
        "status.no_groups": "geen",
        "status.rules": "Regels die voor jou gelden",
        "status.order": "De eerste regel die bij een bezoek past, beslist.",
        "status.no_rules": "Er geldt geen regel voor jou.",
        "status.now": "nu van kracht",
        "status.default.allow": "Al het andere: toegestaan.",
        "status.default.block": "Al het andere: geblokkeerd.",
        "status.default.warn": "Al het andere: eerst een herinnering.",
        "status.trials": "Proeven (vastgelegd, nooit gehandhaafd)",
        "status.budgets": "Resterende tijd",
        "status.no_budgets": "Voor jou geldt geen tijdsbudget.",
        "col.budget": "Budget",
        "col.used": "Gebruikt",
        "col.left": "Over",
        "col.limit": "Limiet",
        "col.resets": "Begint opnieuw",
        "minutes": "{n} min",
        "rule.line": "{targets}: {action}",
        "targets.all": "elke site",
        "targets.category": "categorie “{name}”",
        "targets.more": "nog {count}",
        "action.allow": "toegestaan",
        "action.block": "geblokkeerd",
        "action.warn": "eerst een herinnering; na doorgaan {minutes} minuten zonder",
        "action.timebox": "beperkt tot {minutes} minuten per {per} (budget “{budget}”)",
        "cond.when": "tijdens {schedules}",
        "cond.holidays": "niet op feestdagen of vrije dagen van het bedrijf",
        "cond.methods": "alleen voor {methods}-verzoeken (versturen, niet lezen)",
        "cond.paths": "alleen op pagina's {paths}",
        "window": "{days} {start}-{end}",
        "every_day": "elke dag",
        "privacy.heading": "Privacy: wat wordt vastgelegd, en wat nooit",
        "privacy.counted": "Wat wordt geteld",
        "privacy.minutes": "Voor sites met een tijdslimiet: de minuten waarin je actief was, per budget, zodat de "
                           "limiet kan gelden. Ze worden gewist als het budget opnieuw begint.",
        "privacy.metrics": "Totalen per groep en categorie voor rapportages. Daarin staan nooit je naam of adres; "
                           "een groep met minder dan {n} mensen telt als “overig”.",
        "privacy.audit.pseudonymous": "Blokkades, herinneringen, doorgaan en opgebruikte budgetten komen in een "
                                      "auditlog met de tijd, de regel en de naam van de site (nooit het volledige "
                                      "adres), onder een pseudoniem in plaats van je naam. {days} dagen bewaard.",
        "privacy.audit.named": "Blokkades, herinneringen, doorgaan en opgebruikte budgetten komen in een auditlog "
                               "met de tijd, de regel, de naam van de site (nooit het volledige adres) en je "
                               "gebruikersnaam. {days} dagen bewaard.",
        "privacy.audit.off": "Er wordt geen auditlog bijgehouden.",
        "privacy.never": "Wat nooit wordt vastgelegd",
        "privacy.urls": "Volledige adressen (URL's), inhoud van pagina's, wat je typt, plaatst of verstuurt, "
                        "wachtwoorden.",
        "privacy.passthrough": "Sites waarvoor geen regel geldt: hun verkeer gaat versleuteld door de proxy en "
                               "wordt niet ontsleuteld.",
    },
}


def pick_language(accept_language: str | None) -> str:
    """The supported language the browser prefers most (RFC 9110 q-values; `nl-BE` counts as `nl`;
    `*` and anything unreadable mean the default, English)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for order, item in enumerate(accept_language.split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if not tag or not 0 < q <= 1:
            continue
        primary = tag.split("-")[0].lower()
        if primary == "*":
            primary = DEFAULT_LANGUAGE
        if primary in LANGUAGES:
            choices.append((-q, order, primary))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE


def text(lang: str, key: str, **values: object) -> str:
    """A translated plain-text sentence (English when `lang` or the key is unknown)."""
    table = TEXTS.get(lang, TEXTS[DEFAULT_LANGUAGE])
    template = table.get(key) or TEXTS[DEFAULT_LANGUAGE][key]
    return template.format(**values) if values else template


def format_when(moment: dt.datetime, now: dt.datetime, lang: str) -> str:
    """`moment` in words relative to `now`, in `moment`'s own zone (the policy's local time):
    "today at 17:30", "tomorrow at 08:30", "Monday at 08:30", else a full date."""
    if moment.tzinfo is not None and now.tzinfo is not None:
        now = now.astimezone(moment.tzinfo)
    days = (moment.date() - now.date()).days
    time = f"{moment:%H:%M}"
    if days == 0:
        return text(lang, "when.today", time=time)
    if days == 1:
        return text(lang, "when.tomorrow", time=time)
    weekday = WEEKDAYS.get(lang, WEEKDAYS["en"])[moment.weekday()]
    if 1 < days < 7:
        return text(lang, "when.weekday", weekday=weekday, time=time)
    month = MONTHS.get(lang, MONTHS["en"])[moment.month - 1]
    return text(lang, "when.date", weekday=weekday, day=moment.day, month=month, year=moment.year, time=time)
