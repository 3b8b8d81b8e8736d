"""The pages the proxy answers with (block, warn, status) in English and Dutch, and the test of whether a
request is a page load. Pure functions of a decision and a policy: no mitmproxy, no I/O per request."""

from ..policy.wording import LANGUAGES, pick_language
from ..policy.wording.phrases import when as format_when
from .headsup import heads_up_page
from .render import (
    PAGE_HEADERS,
    STATUS_URL,
    TEXT_HEADERS,
    BudgetRow,
    block_page,
    block_text,
    dest_is_navigation,
    status_page,
    warn_page,
)

__all__ = [
    "LANGUAGES", "PAGE_HEADERS", "STATUS_URL", "TEXT_HEADERS", "BudgetRow", "block_page", "block_text",
    "dest_is_navigation", "format_when", "heads_up_page", "pick_language", "status_page", "warn_page",
]
