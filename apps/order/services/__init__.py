"""Order rules: placing an order, settling a payment exactly once, refunds, the notify log.

Every change of an order's state happens in a transaction holding the order's row lock, so a
notify, the return-page check, the reconcile job, a cancel and a refund can race without harm.
"""

from .errors import SettlementRejected
from .locks import lock_for_grant
from .notify_log import PruneResult, prune_notifications
from .placement import (
    EXPIRY_GRACE,
    PlacedOrder,
    cancel_order,
    expire_orders,
    new_out_trade_no,
    place_order,
)
from .refunds import (
    AlipayRefundOutcome,
    record_alipay_refund,
    refund_order,
    resolve_pending_refunds,
)
from .settlement import (
    OrderChangedSinceRead,
    SettledPayment,
    Settlement,
    UnsettledOrder,
    check_payment,
    finish_settlement,
    mark_closed,
    reconcile_orders,
    refresh_from_alipay,
    settle_checked,
    settle_payment,
    settle_under_lock,
)
from .staff import cancel_unpaid_order, grant_course

__all__ = [
    "EXPIRY_GRACE",
    "AlipayRefundOutcome",
    "OrderChangedSinceRead",
    "PlacedOrder",
    "PruneResult",
    "SettledPayment",
    "Settlement",
    "SettlementRejected",
    "UnsettledOrder",
    "cancel_order",
    "cancel_unpaid_order",
    "check_payment",
    "expire_orders",
    "finish_settlement",
    "grant_course",
    "lock_for_grant",
    "mark_closed",
    "new_out_trade_no",
    "place_order",
    "prune_notifications",
    "reconcile_orders",
    "record_alipay_refund",
    "refresh_from_alipay",
    "refund_order",
    "resolve_pending_refunds",
    "settle_checked",
    "settle_payment",
    "settle_under_lock",
]
