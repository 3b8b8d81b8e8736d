"""`gonogo notice`: the agreements of a policy written out for employees, in English or Dutch,
as Markdown or as a self-contained HTML page, ready for HR to hand out unedited.

Everything is derived from the compiled policy, so the notice cannot drift from what the proxy
enforces: whose gateway it is (`organisation:`), what it decrypts and keeps under a person's name,
what is free, what is limited and by how much, when, for whom (group titles, never member lists), what
is counted and recorded, where to see one's own status, whom to ask for more time, and an appendix of
every domain. Text from the policy itself (titles, descriptions, messages) is taken in the notice's
language when the policy gives one per language, and escaped for the output format.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from ..policy.model import Policy, Rule
from ..policy.wording import LANGUAGES, local, phrases, text, title
from .notice_appendix import appendix_blocks, category_blocks

STATUS_URL = "http://gonogo.status/"  # the proxy's default status host (gonogo_status_host)


@dataclass(frozen=True)
class Item:
    """A list item: an optional emphasised label, then text."""

    text: str
    label: str | None = None


Block = tuple[str, str | list[Item]]  # ("title" | "intro" | "h2" | "h3" | "p", text) or ("ul", items)


class _Writer:
    """Builds the notice's blocks in one language."""

    def __init__(self, policy: Policy, lang: str, status_url: str = STATUS_URL) -> None:
        self.policy = policy
        self.lang = lang
        self.status_url = status_url

    def w(self, key: str, count: int | None = None, **values: object) -> str:
        return text(self.lang, f"notice.{key}", count, **values)

    def join(self, items: list[str]) -> str:
        return phrases.join(items, self.lang)

    def whom(self, rule: Rule) -> str:
        return phrases.whom(self.policy, rule, self.lang)

    def what(self, rule: Rule) -> str:
        return phrases.what(self.policy, rule, self.lang)

    def when(self, rule: Rule) -> str:
        return phrases.during(rule, self.lang)

    def per(self, per: str) -> str:
        return phrases.per(per, self.lang)

    # -- sections ------------------------------------------------------------------------------
    def blocks(self) -> list[Block]:
        p = self.policy
        enforced = [r for r in p.rules if not r.shadow]
        org = local(p.organisation.name, self.lang)
        out: list[Block] = [
            ("title", self.w("title_org", org=org) if org else self.w("title")),
            ("intro", self.w("intro", org=org or self.w("the_company"), file=Path(p.source).name,
                             version=p.sha256[:12], zone=p.timezone.key)),
            ("h2", self.w("gateway")), ("ul", self.gateway_items()),
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
        out += category_blocks(self.policy, self.lang)
        out += [("h2", self.w("counted")), ("ul", self.counted_items(enforced))]
        out += [("h2", self.w("never")), ("ul", self.recorded_items())]
        out += [("h2", self.w("help")), ("ul", self.help_items(enforced))]
        return out + appendix_blocks(self.policy, self.lang)

    def rule_item(self, rule: Rule, template: str) -> Item:
        quota = rule.quota
        minutes = quota.minutes if quota else rule.continue_minutes or 0
        text = self.w(template, minutes, what=self.what(rule), when=self.when(rule), minutes=minutes,
                      per=self.per(quota.per) if quota else "")
        if not any(text.startswith(d) for d in rule.domains):  # a sentence, but never "Steam.com"
            text = text[0].upper() + text[1:]
        if quota is not None:
            others = [r.name for r in self.policy.rules if r.quota and r.quota.pool == quota.pool and r is not rule]
            if others:
                text += " " + self.w("shared_budget", pool=quota.pool, others=self.join(others))
        message = local(rule.message, self.lang)
        if message:
            text += f" “{message}”"
        if rule.exceptions is not None:
            text += " " + self.w("exception_item", rule.exceptions.max_minutes, minutes=rule.exceptions.max_minutes)
        return Item(text, f"{title(rule, self.lang)} — {self.whom(rule)}")

    def trial_item(self, rule: Rule) -> Item:
        quota = rule.quota
        minutes = quota.minutes if quota else 0
        action = self.w(f"trial_{rule.action}", minutes, minutes=minutes, per=self.per(quota.per) if quota else "")
        text = self.w("trial_item", action=action, what=self.what(rule), when=self.when(rule),
                      whom=_lower_first(self.whom(rule)))
        return Item(text, title(rule, self.lang))

    def when_section(self) -> list[Block]:
        named = {s.name for rule in self.policy.rules for s in rule.when}
        used = [s for name, s in self.policy.schedules.items() if name in named]
        if not used:
            return [("p", self.w("no_schedule"))]
        blocks: list[Block] = [("ul", [Item(phrases.schedule(s, self.lang), title(s, self.lang)) for s in used])]
        which = phrases.holidays(self.policy.holidays, self.lang)
        if which:
            some_on_holidays = any(w.include_holidays for s in used for w in s.windows)
            blocks.append(("p", self.w("holidays_except" if some_on_holidays else "holidays_rule", which=which)))
        return blocks

    def whom_section(self) -> list[Block]:
        groups = self.policy.groups
        if not groups:
            return [("p", self.w("groups_none"))]
        users = any(g.users for g in groups.values())
        subnets = any(g.subnets for g in groups.values())
        how = "groups_how_both" if users and subnets else "groups_how_subnets" if subnets else "groups_how_users"
        directory = any(g.directory for g in groups.values())
        sentences = [self.w(how)] if users or subnets or not directory else []
        if directory:
            sentences.append(self.w("groups_how_directory"))
        return [
            ("p", self.w("groups_intro")),
            ("ul", [Item(local(g.description, self.lang) or "", title(g, self.lang)) for g in groups.values()]),
            ("p", " ".join([*sentences, self.w("groups_everyone")])),
        ]

    def attention_items(self, enforced: list[Rule]) -> list[Item]:
        """What counts as use (policy/attention.py), and which budgets warn before they end."""
        boxes = [r for r in enforced if r.action == "timebox"]
        counting = self.policy.counting
        items = []
        if any((r.counting or counting.mode) == "attention" for r in boxes):
            items.append(Item(self.w("attention", threshold=counting.background_kb)))
            if counting.without_fetch_metadata == "requests":
                items.append(Item(self.w("attention_unknown")))
        every = [r.name for r in boxes if (r.counting or counting.mode) == "requests"]
        if every and len(every) < len(boxes):
            items.append(Item(self.w("requests_counted", names=self.join([f"'{n}'" for n in every]))))
        warned: dict[int, list[str]] = {}
        for r in boxes:
            if r.quota is not None and r.quota.heads_up:
                warned.setdefault(r.quota.heads_up, []).append(f"'{r.name}'")
        for minutes, names in warned.items():
            items.append(Item(self.w("heads_up", count=minutes, names=self.join(names))))
        return items

    def counted_items(self, enforced: list[Rule]) -> list[Item]:
        items = []
        if any(r.action == "timebox" for r in enforced):
            items += [Item(self.w("active_minutes")), *self.attention_items(enforced), Item(self.w("used_up"))]
            for per in ("day", "week"):
                if any(r.quota is not None and r.quota.per == per for r in enforced):
                    items.append(Item(self.w(f"period_{per}", zone=self.policy.timezone.key)))
        else:
            items.append(Item(self.w("no_counting")))
        if any(r.action == "warn" for r in enforced):
            items.append(Item(self.w("continue_counted")))
        if any(r.exceptions is not None for r in enforced):
            items.append(Item(self.w("exception_counted")))
        return items

    def gateway_items(self) -> list[Item]:
        """Said plainly, first: the company gateway decrypts the covered sites (or all of them)."""
        p = self.policy
        catch_all = next((r for r in p.rules if r.host_tags is None), None)
        if catch_all is not None:
            return [Item(self.w("inspect_catch_all", rule=title(catch_all, self.lang)))]
        if p.default != "allow":
            return [Item(self.w("inspect_default"))]
        return [Item(self.w("decrypts")), Item(self.w("passthrough"))]

    def recorded_items(self) -> list[Item]:
        privacy = self.policy.privacy
        items = []
        if any(r.quota is not None and not r.shadow for r in self.policy.rules):
            items.append(Item(self.w("minutes_kept")))
        audit = Item(self.w(f"audit_{privacy.audit_log}", privacy.retention_days, days=privacy.retention_days))
        size = privacy.min_group_size
        return [*items, audit, Item(self.w("metrics", size, size=size)), Item(self.w("no_urls"))]

    def help_items(self, enforced: list[Rule]) -> list[Item]:
        """Where to see one's own status, whom to ask, and how to get more time."""
        contact = local(self.policy.organisation.contact, self.lang)
        items = [Item(self.w("status_page", url=self.status_url)), Item(self.w("block_page")),
                 Item(self.w("contact", contact=contact) if contact else self.w("no_contact"))]
        if any(r.action == "timebox" for r in enforced):
            items.append(Item(self.w("more_time", contact=contact or self.w("your_manager"))))
        if any(r.exceptions is not None for r in enforced):
            items.append(Item(self.w("ask_exception", url=self.status_url)))
        return items


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def notice_blocks(policy: Policy, lang: str = "en", status_url: str = STATUS_URL) -> list[Block]:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    return _Writer(policy, lang, status_url).blocks()


def render_notice(policy: Policy, lang: str = "en", fmt: str = "md", status_url: str = STATUS_URL) -> str:
    blocks = notice_blocks(policy, lang, status_url)
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
            prefix = {"title": "# ", "h2": "## ", "h3": "### ", "intro": "", "p": ""}[kind]
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
h3 { font-size: 1rem; margin: 1.25rem 0 .25rem; }
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
            tag = {"title": "h1", "h2": "h2", "h3": "h3", "intro": 'p class="intro"', "p": "p"}[kind]
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
