"""`gonogo notice`: the agreements of a policy written out for employees, in English or Dutch,
as Markdown or as a self-contained HTML page.

Everything is derived from the compiled policy, so the notice cannot drift from what the proxy
enforces: what is free, what is limited and by how much, when, for whom (group names, never member
lists), what is counted and what is never recorded. Text from the policy itself (names, descriptions,
messages) is quoted as written and escaped for the output format.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from ..pages.i18n import MONTHS, WEEKDAYS
from ..policy.model import Policy, Rule
from ..policy.schedules import Schedule, Window

_EXAMPLES = 6  # domains named per category; the rest are counted
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_METHOD_ORDER = {m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"))}


@dataclass(frozen=True)
class Item:
    """A list item: an optional emphasised label, then text."""

    text: str
    label: str | None = None


Block = tuple[str, str | list[Item]]  # ("title" | "intro" | "h2" | "p", text) or ("ul", items)


# --- the words, per language ----------------------------------------------------------------------

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Social media at work: our agreements",
        "intro": "These agreements are written from the policy the web gateway enforces ({file}, version {version}). "
                 "All times are {zone} time.",
        "order": "Where agreements overlap, the one that comes first in the policy applies.",
        "free": "What is free",
        "limited": "What is limited, and by how much",
        "confirm": "What asks you to confirm first",
        "blocked": "What is not allowed",
        "trials": "Trials",
        "when": "When",
        "whom": "For whom",
        "counted": "What is counted",
        "never": "What is never recorded",
        "everyone": "Everyone",
        "members": "Members of {groups}",
        "at_any_time": "at any time",
        "during": "during {schedules}",
        "sites_of": "the {names} sites",
        "more": "and {count} more",
        "every_site": "every site",
        "writes": "posting and changing things ({methods} requests) on {what}",
        "methods": "{methods} requests to {what}",
        "paths": "{what}, on pages matching {paths}",
        "free_item": "{what}, {when}.",
        "limited_item": "{what}, {when}: at most {minutes} minutes per {per}.",
        "shared_budget": "This budget ({pool}) is shared with: {others}.",
        "confirm_item": "{what}, {when}: a reminder asks you to confirm first; after you continue you are "
                        "not asked again for {minutes} minutes.",
        "blocked_item": "{what}, {when}.",
        "trial_item": "The policy tries out: {action} {what}, {when}, for {whom}. A trial is never enforced; "
                      "it only counts how often it would apply.",
        "trial_block": "blocking",
        "trial_allow": "allowing",
        "trial_warn": "a reminder before",
        "trial_timebox": "a time limit of {minutes} minutes per {per} on",
        "default_allow": "Everything not named in these agreements is not limited.",
        "default_block": "Everything not named in these agreements is blocked.",
        "nothing": "Nothing.",
        "day": "day",
        "week": "week",
        "window": "{days}, {start}–{end}",
        "overnight": "{days}, {start} until {end} the next morning",
        "all_day": "{days}, all day",
        "every_day": "every day",
        "range": "{first} to {last}",
        "and": "and",
        "also_holidays": " (also on holidays)",
        "holidays_public": "public holidays ({country})",
        "holidays_dates": "the company's days off: {dates}",
        "holidays_rule": "These times do not apply on {which}, unless a time says otherwise.",
        "no_schedule": "The agreements above apply at any time; there are no time windows.",
        "groups_intro": "Agreements name these groups:",
        "groups_how_users": "Which groups you are in follows from your user name at the gateway.",
        "groups_how_both": "Which groups you are in follows from your user name at the gateway or from the "
                           "network you work from.",
        "groups_how_subnets": "Which groups you are in follows from the network you work from.",
        "groups_none": "The agreements apply to everyone alike; there are no groups.",
        "groups_everyone": "Agreements for everyone apply to people in no group too.",
        "active_minutes": "Time is counted in active minutes: a minute of the clock in which you make at least "
                          "one request to a time-limited site counts as one minute. More requests in a minute "
                          "that is already counted cost nothing.",
        "used_up": "When the minutes are used up, the next request that would need a new minute is blocked "
                   "until the limit starts again.",
        "period_day": "A day starts at 00:00 ({zone} time).",
        "period_week": "A week starts on Monday at 00:00 ({zone} time).",
        "no_counting": "No time is counted: none of the agreements is a time limit.",
        "continue_counted": "When you continue past a reminder, that choice is remembered for the minutes named "
                            "above.",
        "passthrough": "Sites that no agreement covers are passed through without being decrypted: the gateway "
                       "does not see which pages you visit there, and keeps no record of them.",
        "inspect_catch_all": "Because the agreement '{rule}' applies to every site, all web traffic through the "
                             "gateway is inspected.",
        "inspect_default": "Because everything not named here is blocked, all web traffic through the gateway "
                           "is inspected.",
        "no_urls": "Full web addresses (URLs, with their paths and search terms) are never stored; at most the "
                   "name of the site.",
        "metrics": "Dashboards and metrics never name a person: they count per group, and a group with fewer "
                   "than {size} people is shown as 'other'.",
        "audit_off": "There is no audit log of individual decisions.",
        "audit_pseudonymous": "When you are blocked, see a reminder, continue past one or use up a time limit, "
                              "an audit record is written with the time, the agreement and the site name, under "
                              "a pseudonym (a code, not your name). Records are deleted after {days} days.",
        "audit_named": "When you are blocked, see a reminder, continue past one or use up a time limit, an "
                       "audit record is written with the time, the agreement, the site name and your user "
                       "name. Records are deleted after {days} days.",
    },
    "nl": {
        "title": "Sociale media op het werk: onze afspraken",
        "intro": "Deze afspraken zijn opgesteld uit het beleid dat de webgateway uitvoert ({file}, versie "
                 "{version}). Alle tijden zijn in de tijdzone {zone}.",
        "order": "Waar afspraken elkaar overlappen, geldt de afspraak die als eerste in het beleid staat.",
        "free": "Wat vrij is",
        "limited": "Wat beperkt is, en hoeveel",
        "confirm": "Waarbij je eerst moet bevestigen",
        "blocked": "Wat niet mag",
        "trials": "Proeven",
        "when": "Wanneer",
        "whom": "Voor wie",
        "counted": "Wat er geteld wordt",
        "never": "Wat nooit wordt vastgelegd",
        "everyone": "Iedereen",
        "members": "Leden van {groups}",
        "at_any_time": "op elk moment",
        "during": "tijdens {schedules}",
        "sites_of": "de sites van {names}",
        "more": "en nog {count}",
        "every_site": "elke site",
        "writes": "berichten plaatsen en wijzigen ({methods}-verzoeken) op {what}",
        "methods": "{methods}-verzoeken naar {what}",
        "paths": "{what}, op pagina's die passen bij {paths}",
        "free_item": "{what}, {when}.",
        "limited_item": "{what}, {when}: hoogstens {minutes} minuten per {per}.",
        "shared_budget": "Dit tegoed ({pool}) wordt gedeeld met: {others}.",
        "confirm_item": "{what}, {when}: je krijgt eerst een herinnering en bevestigt zelf; daarna word je "
                        "{minutes} minuten niet opnieuw gevraagd.",
        "blocked_item": "{what}, {when}.",
        "trial_item": "Het beleid probeert uit: {action} {what}, {when}, voor {whom}. Een proef wordt nooit "
                      "uitgevoerd; er wordt alleen geteld hoe vaak die zou gelden.",
        "trial_block": "blokkeren van",
        "trial_allow": "toestaan van",
        "trial_warn": "een herinnering vóór",
        "trial_timebox": "een tijdslimiet van {minutes} minuten per {per} op",
        "default_allow": "Alles wat niet in deze afspraken genoemd wordt, is niet beperkt.",
        "default_block": "Alles wat niet in deze afspraken genoemd wordt, is geblokkeerd.",
        "nothing": "Niets.",
        "day": "dag",
        "week": "week",
        "window": "{days}, {start}–{end}",
        "overnight": "{days}, {start} tot {end} de volgende ochtend",
        "all_day": "{days}, de hele dag",
        "every_day": "elke dag",
        "range": "{first} tot en met {last}",
        "and": "en",
        "also_holidays": " (ook op feestdagen)",
        "holidays_public": "officiële feestdagen ({country})",
        "holidays_dates": "de vrije dagen van het bedrijf: {dates}",
        "holidays_rule": "Deze tijden gelden niet op {which}, tenzij bij een tijd anders staat.",
        "no_schedule": "De afspraken hierboven gelden op elk moment; er zijn geen tijdvakken.",
        "groups_intro": "De afspraken noemen deze groepen:",
        "groups_how_users": "In welke groepen je zit, volgt uit je gebruikersnaam bij de gateway.",
        "groups_how_both": "In welke groepen je zit, volgt uit je gebruikersnaam bij de gateway of uit het "
                           "netwerk waarvandaan je werkt.",
        "groups_how_subnets": "In welke groepen je zit, volgt uit het netwerk waarvandaan je werkt.",
        "groups_none": "De afspraken gelden voor iedereen gelijk; er zijn geen groepen.",
        "groups_everyone": "Afspraken voor iedereen gelden ook voor wie in geen enkele groep zit.",
        "active_minutes": "Tijd wordt geteld in actieve minuten: een klokminuut waarin je minstens één verzoek "
                          "doet naar een site met een tijdslimiet, telt als één minuut. Meer verzoeken in een "
                          "minuut die al geteld is, kosten niets extra.",
        "used_up": "Zijn de minuten op, dan wordt het volgende verzoek dat een nieuwe minuut nodig heeft "
                   "geblokkeerd, tot de limiet opnieuw begint.",
        "period_day": "Een dag begint om 00:00 (tijdzone {zone}).",
        "period_week": "Een week begint op maandag om 00:00 (tijdzone {zone}).",
        "no_counting": "Er wordt geen tijd geteld: geen van de afspraken is een tijdslimiet.",
        "continue_counted": "Als je na een herinnering doorgaat, wordt die keuze onthouden voor het aantal "
                            "minuten dat hierboven staat.",
        "passthrough": "Sites waar geen afspraak over gaat, worden doorgegeven zonder ontsleuteling: de gateway "
                       "ziet niet welke pagina's je daar bezoekt en legt er niets van vast.",
        "inspect_catch_all": "Omdat de afspraak '{rule}' voor elke site geldt, wordt al het webverkeer via de "
                             "gateway bekeken.",
        "inspect_default": "Omdat alles wat hier niet genoemd wordt geblokkeerd is, wordt al het webverkeer via "
                           "de gateway bekeken.",
        "no_urls": "Volledige webadressen (URL's, met paden en zoektermen) worden nooit opgeslagen; hoogstens "
                   "de naam van de site.",
        "metrics": "Dashboards en meetgegevens noemen nooit een persoon: ze tellen per groep, en een groep met "
                   "minder dan {size} mensen wordt getoond als 'other' (overig).",
        "audit_off": "Er is geen auditlog van afzonderlijke beslissingen.",
        "audit_pseudonymous": "Als je geblokkeerd wordt, een herinnering ziet, daarna doorgaat of een tijdslimiet "
                              "opmaakt, wordt een auditregel geschreven met het tijdstip, de afspraak en de naam "
                              "van de site, onder een pseudoniem (een code, niet je naam). Regels worden na {days} "
                              "dagen verwijderd.",
        "audit_named": "Als je geblokkeerd wordt, een herinnering ziet, daarna doorgaat of een tijdslimiet "
                       "opmaakt, wordt een auditregel geschreven met het tijdstip, de afspraak, de naam van de "
                       "site en je gebruikersnaam. Regels worden na {days} dagen verwijderd.",
    },
}

_COUNTRIES_NL = {
    "NL": "Nederland", "BE": "België", "DE": "Duitsland", "FR": "Frankrijk", "LU": "Luxemburg",
    "GB": "het Verenigd Koninkrijk", "UK": "het Verenigd Koninkrijk", "IE": "Ierland", "US": "de Verenigde Staten",
    "ES": "Spanje", "PT": "Portugal", "IT": "Italië", "AT": "Oostenrijk", "CH": "Zwitserland", "DK": "Denemarken",
    "SE": "Zweden", "NO": "Noorwegen", "FI": "Finland", "PL": "Polen", "CZ": "Tsjechië", "SR": "Suriname",
    "CW": "Curaçao", "AW": "Aruba",
}


class _Writer:
    """Builds the notice's blocks in one language."""

    def __init__(self, policy: Policy, lang: str) -> None:
        self.policy = policy
        self.lang = lang
        self.words = _WORDS[lang]

    def w(self, key: str, **values: object) -> str:
        return self.words[key].format(**values)

    def join(self, items: list[str]) -> str:
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.w('and')} {items[-1]}"

    # -- pieces --------------------------------------------------------------------------------
    def whom(self, rule: Rule) -> str:
        if rule.groups is None:
            return self.w("everyone")
        return self.w("members", groups=self.join([g for g in self.policy.groups if g in rule.groups]))

    def what(self, rule: Rule) -> str:
        parts = []
        if rule.categories:
            parts.append(self.w("sites_of", names=self.join(list(rule.categories))) + self.examples(rule))
        parts.extend(rule.domains)
        what = self.join(parts) if parts else self.w("every_site")
        if rule.methods is not None:
            methods = ", ".join(sorted(rule.methods, key=lambda m: (_METHOD_ORDER.get(m, 99), m)))
            what = self.w("writes" if rule.methods <= _WRITES else "methods", methods=methods, what=what)
        if rule.paths:
            what = self.w("paths", what=what, paths=", ".join(rule.paths))
        return what

    def examples(self, rule: Rule) -> str:
        names: list[str] = []
        total = 0
        for category in rule.categories:
            found = self.policy.categories.get(category)
            if found is None:
                continue
            total += found.domain_count
            names.extend(d for d in self.policy.index.examples(found.tag, _EXAMPLES) if d not in names)
        shown = names[:_EXAMPLES]
        if not shown:
            return ""
        rest = total - len(shown)
        return f" ({', '.join(shown)}{', ' + self.w('more', count=rest) if rest > 0 else ''})"

    def when(self, rule: Rule) -> str:
        if not rule.when:
            return self.w("at_any_time")
        return self.w("during", schedules=self.join([s.name for s in rule.when]))

    def per(self, per: str) -> str:
        return self.w(per)

    def day_set(self, days: frozenset[int]) -> str:
        names = WEEKDAYS[self.lang]
        if len(days) == 7:
            return self.w("every_day")
        for first in sorted(days):  # a run like mon-fri, or fri-mon across the week's end
            run = [(first + i) % 7 for i in range(len(days))]
            if len(days) >= 3 and set(run) == days:
                return self.w("range", first=names[run[0]], last=names[run[-1]])
        return self.join([names[d] for d in sorted(days)])

    def window(self, window: Window) -> str:
        days = self.day_set(window.days)
        start, end = _clock(window.start), _clock(window.end)
        if window.start == 0 and window.end == 1440:
            text = self.w("all_day", days=days)
        elif window.overnight:
            text = self.w("overnight", days=days, start=start, end=end)
        else:
            text = self.w("window", days=days, start=start, end=end)
        return text + (self.w("also_holidays") if window.include_holidays else "")

    def schedule(self, schedule: Schedule) -> str:
        return "; ".join(self.window(w) for w in schedule.windows)

    def date(self, day: object) -> str:
        import datetime as dt

        assert isinstance(day, dt.date)
        return f"{day.day} {MONTHS[self.lang][day.month - 1]} {day.year}"

    def country(self, code: str, subdivision: str | None = None) -> str:
        """'Netherlands, NL' (English names from the holidays package; Dutch ones for nearby countries)."""
        upper = code.upper()
        name = _COUNTRIES_NL.get(upper) if self.lang == "nl" else None
        if name is None:
            from holidays import registry

            name = next((v[0] for v in registry.COUNTRIES.values() if upper in v[1:]), None)
        region = upper + (f"-{subdivision}" if subdivision else "")
        return f"{name}, {region}" if name else region

    # -- sections ------------------------------------------------------------------------------
    def blocks(self) -> list[Block]:
        p = self.policy
        enforced = [r for r in p.rules if not r.shadow]
        out: list[Block] = [
            ("title", self.w("title")),
            ("intro", self.w("intro", file=Path(p.source).name, version=p.sha256[:12], zone=p.timezone.key)),
        ]
        sections = (
            ("free", "allow", "free_item"),
            ("limited", "timebox", "limited_item"),
            ("confirm", "warn", "confirm_item"),
            ("blocked", "block", "blocked_item"),
        )
        for heading, action, template in sections:
            items = [self.rule_item(r, template) for r in enforced if r.action == action]
            if action == p.default:
                items.append(Item(self.w(f"default_{p.default}")))
            if items or action in ("allow", "timebox"):
                out.append(("h2", self.w(heading)))
                out.append(("ul", items or [Item(self.w("nothing"))]))
        shadows = [r for r in p.rules if r.shadow]
        if shadows:
            out += [("h2", self.w("trials")), ("ul", [self.trial_item(r) for r in shadows])]
        if len(enforced) > 1:
            out.append(("p", self.w("order")))
        out += [("h2", self.w("when")), *self.when_section()]
        out += [("h2", self.w("whom")), *self.whom_section()]
        out += [("h2", self.w("counted")), ("ul", self.counted_items(enforced))]
        out += [("h2", self.w("never")), ("ul", self.never_items())]
        return out

    def rule_item(self, rule: Rule, template: str) -> Item:
        quota = rule.quota
        text = self.w(template, what=self.what(rule), when=self.when(rule),
                      minutes=quota.minutes if quota else rule.continue_minutes,
                      per=self.per(quota.per) if quota else "")
        if not any(text.startswith(d) for d in rule.domains):  # a sentence, but never "Steam.com"
            text = text[0].upper() + text[1:]
        if quota is not None:
            others = [r.name for r in self.policy.rules if r.quota and r.quota.pool == quota.pool and r is not rule]
            if others:
                text += " " + self.w("shared_budget", pool=quota.pool, others=self.join(others))
        if rule.message:
            text += f" “{rule.message}”"
        return Item(text, f"{rule.name} — {self.whom(rule)}")

    def trial_item(self, rule: Rule) -> Item:
        quota = rule.quota
        action = self.w(f"trial_{rule.action}", minutes=quota.minutes if quota else 0,
                        per=self.per(quota.per) if quota else "")
        text = self.w("trial_item", action=action, what=self.what(rule), when=self.when(rule),
                      whom=_lower_first(self.whom(rule)))
        return Item(text, rule.name)

    def when_section(self) -> list[Block]:
        named = {s.name for rule in self.policy.rules for s in rule.when}
        used = [s for name, s in self.policy.schedules.items() if name in named]
        if not used:
            return [("p", self.w("no_schedule"))]
        blocks: list[Block] = [("ul", [Item(self.schedule(s), s.name) for s in used])]
        holidays = self.policy.holidays
        which = []
        if holidays.country:
            which.append(self.w("holidays_public", country=self.country(holidays.country, holidays.subdivision)))
        if holidays.dates:
            which.append(self.w("holidays_dates", dates=self.join([self.date(d) for d in sorted(holidays.dates)])))
        if which:
            blocks.append(("p", self.w("holidays_rule", which=self.join(which))))
        return blocks

    def whom_section(self) -> list[Block]:
        groups = self.policy.groups
        if not groups:
            return [("p", self.w("groups_none"))]
        users = any(g.users for g in groups.values())
        subnets = any(g.subnets for g in groups.values())
        how = "groups_how_both" if users and subnets else "groups_how_subnets" if subnets else "groups_how_users"
        return [
            ("p", self.w("groups_intro")),
            ("ul", [Item(g.description or "", g.name) for g in groups.values()]),
            ("p", f"{self.w(how)} {self.w('groups_everyone')}"),
        ]

    def counted_items(self, enforced: list[Rule]) -> list[Item]:
        items = []
        if any(r.action == "timebox" for r in enforced):
            items += [Item(self.w("active_minutes")), Item(self.w("used_up"))]
            for per in ("day", "week"):
                if any(r.quota is not None and r.quota.per == per for r in enforced):
                    items.append(Item(self.w(f"period_{per}", zone=self.policy.timezone.key)))
        else:
            items.append(Item(self.w("no_counting")))
        if any(r.action == "warn" for r in enforced):
            items.append(Item(self.w("continue_counted")))
        return items

    def never_items(self) -> list[Item]:
        p = self.policy
        catch_all = next((r for r in p.rules if r.host_tags is None), None)
        if catch_all is not None:
            first = Item(self.w("inspect_catch_all", rule=catch_all.name))
        elif p.default != "allow":
            first = Item(self.w("inspect_default"))
        else:
            first = Item(self.w("passthrough"))
        privacy = p.privacy
        audit = Item(self.w(f"audit_{privacy.audit_log}", days=privacy.retention_days))
        return [first, Item(self.w("no_urls")), Item(self.w("metrics", size=privacy.min_group_size)), audit]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def notice_blocks(policy: Policy, lang: str = "en") -> list[Block]:
    if lang not in _WORDS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(_WORDS)}")
    return _Writer(policy, lang).blocks()


def render_notice(policy: Policy, lang: str = "en", fmt: str = "md") -> str:
    blocks = notice_blocks(policy, lang)
    if fmt == "md":
        return render_markdown(blocks)
    if fmt == "html":
        return render_html(blocks, lang)
    raise ValueError(f"unknown format {fmt!r}; use md or html")


# --- output formats -------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&!])")


def md_escape(text: str) -> str:
    """Text that Markdown shows as written: markup characters are backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for kind, content in blocks:
        if kind == "ul":
            assert isinstance(content, list)
            out.append("\n".join(f"- {_md_item(item)}" for item in content))
        else:
            assert isinstance(content, str)
            prefix = {"title": "# ", "h2": "## ", "intro": "", "p": ""}[kind]
            text = md_escape(content)
            out.append(f"{prefix}*{text}*" if kind == "intro" else prefix + text)
    return "\n\n".join(out) + "\n"


def _md_item(item: Item) -> str:
    text = md_escape(item.text)
    if item.label is None:
        return text
    return f"**{md_escape(item.label)}**" + (f": {text}" if text else "")


_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 44rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d232a; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 1.75rem; border-bottom: 1px solid #d6dbe0; padding-bottom: .2rem; }
.intro { color: #4a5560; font-style: italic; }
li { margin: .35rem 0; }
"""


def render_html(blocks: list[Block], lang: str) -> str:
    """A complete page with no external resources: it can be mailed, printed or put on an intranet."""
    esc = html.escape
    title = next((c for k, c in blocks if k == "title"), "")
    assert isinstance(title, str)
    body: list[str] = []
    for kind, content in blocks:
        if kind == "ul":
            assert isinstance(content, list)
            lis = "\n".join(f"  <li>{_html_item(item)}</li>" for item in content)
            body.append(f"<ul>\n{lis}\n</ul>")
        else:
            assert isinstance(content, str)
            tag = {"title": "h1", "h2": "h2", "intro": 'p class="intro"', "p": "p"}[kind]
            body.append(f"<{tag}>{esc(content)}</{tag.split()[0]}>")
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _html_item(item: Item) -> str:
    text = html.escape(item.text)
    if item.label is None:
        return text
    return f"<strong>{html.escape(item.label)}</strong>" + (f": {text}" if text else "")
