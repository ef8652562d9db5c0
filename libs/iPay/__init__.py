"""Alipay page payments through python-alipay-sdk, configured from settings.ALIPAY (env)."""

from .client import (
    PAID_STATUSES,
    AlipayClient,
    AlipaySettings,
    AlipayUnavailable,
    PaymentNotConfigured,
    TradeStatus,
    format_amount,
    get_client,
    is_configured,
    load_settings,
    parse_alipay_time,
)

__all__ = [
    "PAID_STATUSES",
    "AlipayClient",
    "AlipaySettings",
    "AlipayUnavailable",
    "PaymentNotConfigured",
    "TradeStatus",
    "format_amount",
    "get_client",
    "is_configured",
    "load_settings",
    "parse_alipay_time",
]
