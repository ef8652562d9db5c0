"""Examples and rules of the coupon endpoints for the API docs (/api/docs/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

COUPON = {
    "id": 3,
    "name": "Python 满 199 减 30",
    "kind": "threshold",
    "kind_name": "满减",
    "amount": "30.00",
    "min_spend": "199.00",
    "percent_off": None,
    "max_discount": None,
    "scope": "categories",
    "categories": [1],
    "courses": [],
    "validity": "after_claim",
    "valid_from": None,
    "valid_until": None,
    "valid_days": 7,
    "claim_ends_at": "2026-12-31T23:59:59+08:00",
    "per_user_limit": 1,
    "stock_left": 87,
}
USER_COUPON = {
    "id": 41,
    "coupon": COUPON,
    "status": "usable",
    "valid_from": "2026-12-07T10:00:00+08:00",
    "valid_until": "2026-12-14T10:00:00+08:00",
    "out_trade_no": None,
    "obtained_at": "2026-12-07T10:00:00+08:00",
    "used_at": None,
}
COUPON_PAGE = OpenApiExample("A page of coupons", value=COUPON, response_only=True)
USER_COUPON_PAGE = OpenApiExample("A page of my coupons", value=USER_COUPON, response_only=True)

LIST_DESCRIPTION = """Coupons shoppers can claim now (active, in their claim window, stock left),
soonest-ending first, 10 a page. `?course=<id>`: only those that apply to that course (scope
everything, its category, or the course). No login needed."""

CLAIM_DESCRIPTION = """Claim one coupon: **201** with the shopper's coupon. **400** outside the
claim window, **404** unknown or not claimable (code and staff coupons), **409** the per-user
limit reached or the stock gone. The stock and the limit are taken atomically: 500 shoppers
claiming the last 100 get exactly 100."""
CLAIMED = OpenApiExample(
    "Claimed (201)",
    value={"code": 100, "msg": "领取成功", "coupon": USER_COUPON},
    response_only=True,
    status_codes=["201"],
)

REDEEM_DESCRIPTION = """Redeem a coupon code (case and spaces ignored), a coupon's shared code
or a single-use code of a batch staff made: **201** with the shopper's coupon, **400** a code
unknown or out of its window (one answer for both), **409** a single-use code already redeemed,
the per-user limit reached or the stock gone. 10 tries a minute per shopper."""
REDEEM_REQUEST = OpenApiExample("A code", value={"code": "LUFFY2026"}, request_only=True)

WALLET_DESCRIPTION = """The logged-in shopper's coupons, 10 a page. `status`: `usable` (default;
valid now or later, including one an unpaid order holds: `status` held and its `out_trade_no`),
`used`, or `expired` (never used, validity over)."""

PREVIEW_DESCRIPTION = """The checkout step before `order/pay/`: the courses at their current
prices, the shopper's coupons that apply with the discount each gives (largest first, the first
`best`), and the amount to pay with `coupon` applied (none when it is absent).

The discount is split across the lines the coupon covers in proportion to their prices, exact to
the fen (`lines[].discount` add up to `discount`). **The ¥0.01 rule:** a coupon never takes the
lines it covers below ¥0.01 in total; a coupon whose discount would be 0.00 does not apply.

Errors: **400** a course missing or off sale, a coupon used, held by another unpaid order,
expired, not valid yet or not applicable to these courses; **404** a coupon that is not the
shopper's. Send `total_amount` and `coupon` as they are to `order/pay/`."""
PREVIEW_REQUEST = OpenApiExample(
    "Two courses with a coupon", value={"courses": [1, 2], "coupon": 41}, request_only=True
)
PREVIEW_ANSWER = OpenApiExample(
    "Preview",
    value={
        "code": 100,
        "msg": "OK",
        "lines": [
            {
                "course": 1,
                "course_name": "Python 全栈开发",
                "price": "299.00",
                "real_price": "199.00",
                "discount": "19.95",
                "pay_amount": "179.05",
            },
            {
                "course": 2,
                "course_name": "Linux 入门",
                "price": "100.00",
                "real_price": "100.00",
                "discount": "10.05",
                "pay_amount": "89.95",
            },
        ],
        "subtotal": "299.00",
        "coupons": [{"coupon": USER_COUPON, "discount": "30.00", "best": True}],
        "coupon": 41,
        "discount": "30.00",
        "total_amount": "269.00",
    },
    response_only=True,
)
