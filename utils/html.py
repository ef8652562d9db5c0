"""Staff-written HTML (course descriptions) cleaned to a small, safe subset with nh3 (Ammonia):
text formatting, headings, lists, tables, quotes, code and links; no scripts, styles, event
attributes, images or frames."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "del", "ins",
        "mark", "sub", "sup", "small", "blockquote", "code", "pre", "ul", "ol", "li", "dl", "dt",
        "dd", "table", "thead", "tbody", "tr", "th", "td", "caption", "a", "span",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def sanitize_html(text: str) -> str:
    """`text` with every tag, attribute and URL outside the allowed ones removed (their text
    kept, script and style contents dropped); links open nothing in our window's context."""
    if not text:
        return ""
    return nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
