"""Alipay page and phone (wap) payments through python-alipay-sdk, configured by
settings.ALIPAY: the AlipaySettings that settings.py builds from the environment
(config.settings_from_env)."""

from .client import (
    AlipayClient,
    get_client,
    is_configured,
    load_settings,
)
from .config import AlipayConfigError, AlipaySettings, settings_from_env, settings_from_mapping
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
    "AlipayConfigError",
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
    "settings_from_env",
    "settings_from_mapping",
]
