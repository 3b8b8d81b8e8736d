"""The notice's categories: a section naming each category with its number of sites, and an appendix
naming every site of each (sorted, so a person finds a name), with the lists they come from and
their licenses (CC-BY-SA and similar lists ask to be credited). Instead of "and 16 more".

A category of more than FULL_LIST sites (a published list of thousands) is not printed name by name;
the appendix names the lists it comes from, which do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..policy.model import Category, Policy
from ..policy.wording import local, text, title

if TYPE_CHECKING:
    from .notice import Block, Item

FULL_LIST = 2000  # sites of a category printed name by name in the appendix


def category_blocks(policy: Policy, lang: str) -> list[Block]:
    """'Categories': each category, its number of sites and its description."""
    from .notice import Item

    if not policy.categories:
        return []
    items = []
    for category in policy.categories.values():
        count = text(lang, "notice.category_count", category.domain_count, n=f"{category.domain_count:,}")
        described = local(category.description, lang)
        items.append(Item(count + (f" — {described}" if described else ""), title(category, lang)))
    return [("h2", text(lang, "notice.categories")), ("p", text(lang, "notice.categories_intro")), ("ul", items)]


def appendix_blocks(policy: Policy, lang: str) -> list[Block]:
    """The appendix: every site of each category, or the lists naming them, and the lists' licenses."""
    if not policy.categories:
        return []
    out: list[Block] = [("h2", text(lang, "notice.appendix")), ("p", text(lang, "notice.appendix_intro"))]
    for category in policy.categories.values():
        n = category.domain_count
        out.append(("h3", text(lang, "notice.appendix_category", n, name=title(category, lang), n=f"{n:,}")))
        sources = _sources(category, lang, every=n > FULL_LIST)
        if n > FULL_LIST:
            out.append(("p", text(lang, "notice.appendix_from_lists", n, n=f"{n:,}")))
            out.append(("ul", sources))
            continue
        if n:
            out.append(("p", ", ".join(sorted(policy.index.examples(category.tag, n)))))
        if sources:
            out += [("p", text(lang, "notice.appendix_sources")), ("ul", sources)]
    return out


def _sources(category: Category, lang: str, every: bool) -> list[Item]:
    """The category's lists as the appendix names them: every one when they stand in for the names,
    else those a reader may want to know of (published ones, and any with a license)."""
    from .notice import Item

    items = []
    for source in category.sources:
        if every or source.remote or source.license:
            key = "notice.appendix_list" if source.license else "notice.appendix_list_no_license"
            items.append(Item(text(lang, key, where=source.where, license=source.license)))
    return items
