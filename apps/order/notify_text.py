"""What a logged notify's `detail` says, in the staff's language.

The notify log stores its details in English (the words of the code and of Alipay's protocol,
stable for grep and for old rows); the admin shows them through the translation catalogue.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# (pattern of the stored detail, English message with the pattern's named groups)
_DETAILS = [
    (r"signature does not verify", gettext_noop("signature does not verify")),
    (r"app_id (?P<value>.*) is not ours", gettext_noop("app_id %(value)s is not ours")),
    (r"seller_id (?P<value>.*) is not ours", gettext_noop("seller_id %(value)s is not ours")),
    (
        r"total_amount is missing or not a number",
        gettext_noop("total_amount is missing or not a number"),
    ),
    (r"refund_fee is not a number", gettext_noop("refund_fee is not a number")),
    (r"unknown order (?P<value>.*)", gettext_noop("unknown order %(value)s")),
    (r"unknown trade_status (?P<value>.*)", gettext_noop("unknown trade_status %(value)s")),
    (
        r"amount (?P<paid>\S+) does not match order total (?P<total>\S+)",
        gettext_noop("amount %(paid)s does not match order total %(total)s"),
    ),
    (r"amount does not match the order", gettext_noop("amount does not match the order")),
    (r"waiting for payment", gettext_noop("waiting for payment")),
    (r"settled", gettext_noop("settled")),
    (r"settled_late", gettext_noop("settled_late")),
    (r"duplicate", gettext_noop("duplicate")),
    (r"refund recorded", gettext_noop("refund recorded")),
    (r"refund confirmed", gettext_noop("refund confirmed")),
    (r"refund known", gettext_noop("refund known")),
    (r"database error: (?P<value>.*)", gettext_noop("database error: %(value)s")),
    (r"database unavailable", gettext_noop("database unavailable")),
    (r"Alipay is not configured", gettext_noop("Alipay is not configured")),
    (r"body too large", gettext_noop("body too large")),
    (r"unreadable Content-Length", gettext_noop("unreadable Content-Length")),
    (r"too many fields", gettext_noop("too many fields")),
]
_COMPILED = [(re.compile(pattern, re.S), message) for pattern, message in _DETAILS]


def notify_detail_text(detail: str) -> str:
    """The detail translated; one we have no words for is shown as stored."""
    for pattern, message in _COMPILED:
        match = pattern.fullmatch(detail)
        if match:
            return _(message) % match.groupdict() if match.groupdict() else _(message)
    return detail
