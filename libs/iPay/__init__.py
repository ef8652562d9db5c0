"""Alipay page payments through python-alipay-sdk, configured from settings.ALIPAY (env)."""

from .client import (
    AlipayClient,
    AlipaySettings,
    get_client,
    is_configured,
    load_settings,
)
from .types import (
    NOTIFY_MAX_BYTES,
    NOTIFY_MAX_FIELDS,
    PAID_STATUSES,
    AlipayUnavailable,
    CloseResult,
    NotifyRejected,
    PaymentNotConfigured,
    RefundResult,
    TradeEvent,
    TradeStatus,
    format_amount,
    parse_alipay_time,
)

__all__ = [
    "NOTIFY_MAX_BYTES",
    "NOTIFY_MAX_FIELDS",
    "PAID_STATUSES",
    "AlipayClient",
    "AlipaySettings",
    "AlipayUnavailable",
    "CloseResult",
    "NotifyRejected",
    "PaymentNotConfigured",
    "RefundResult",
    "TradeEvent",
    "TradeStatus",
    "format_amount",
    "get_client",
    "is_configured",
    "load_settings",
    "parse_alipay_time",
]
