"""Order rules: placing an order, settling a payment exactly once, refunds, the notify log.

Every change of an order's state happens in a transaction holding the order's row lock, so a
notify, the return-page check, the reconcile job, a cancel and a refund can race without harm;
every status change is one of `transitions.TRANSITIONS`, and every course given or taken back
goes through `grants`.
"""

from .errors import SettlementRejected
from .grants import grant_courses, grant_without_order, owned_course_ids, revoke_courses
from .locks import lock_for_grant
from .notify_log import PruneResult, prune_notifications
from .placement import (
    EXPIRY_GRACE,
    PayChannel,
    PlacedOrder,
    cancel_order,
    end_unpaid_order,
    expire_orders,
    new_out_trade_no,
    pay_open_order,
    place_order,
    place_sale_order,
    take_free_courses,
)
from .refunds import (
    AlipayRefundOutcome,
    record_alipay_refund,
    refund_order,
    resolve_pending_refunds,
)
from .settlement import (
    SettledPayment,
    Settlement,
    finish_settlement,
    is_redelivery,
    mark_closed,
    reconcile_orders,
    refresh_from_alipay,
    settle_payment,
    settle_under_lock,
)
from .staff import cancel_unpaid_order, grant_course
from .transitions import TRANSITIONS, Actor, IllegalTransition, change_status

__all__ = [
    "EXPIRY_GRACE",
    "TRANSITIONS",
    "Actor",
    "AlipayRefundOutcome",
    "IllegalTransition",
    "PayChannel",
    "PlacedOrder",
    "PruneResult",
    "SettledPayment",
    "Settlement",
    "SettlementRejected",
    "cancel_order",
    "cancel_unpaid_order",
    "change_status",
    "end_unpaid_order",
    "expire_orders",
    "finish_settlement",
    "grant_course",
    "grant_courses",
    "grant_without_order",
    "is_redelivery",
    "lock_for_grant",
    "mark_closed",
    "new_out_trade_no",
    "owned_course_ids",
    "pay_open_order",
    "place_order",
    "place_sale_order",
    "prune_notifications",
    "reconcile_orders",
    "record_alipay_refund",
    "refresh_from_alipay",
    "refund_order",
    "resolve_pending_refunds",
    "revoke_courses",
    "settle_payment",
    "settle_under_lock",
    "take_free_courses",
]
