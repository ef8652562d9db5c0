"""Examples and rules of the order endpoints for the API docs (/api/docs/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

OUT_TRADE_NO = "202601261030151234569f2c4e1a7b3d5f60"
PAY_URL = (
    "https://openapi.alipay.com/gateway.do?app_id=2021000000000000&method=alipay.trade.page.pay"
    "&charset=utf-8&sign_type=RSA2&timestamp=2026-01-26+10%3A30%3A15&version=1.0&biz_content=…"
    "&sign=…"
)

PAY_DESCRIPTION = """Place an order for `courses` and get the Alipay page to pay it.

**Price match.** The server prices the courses (discounts included) and compares the sum with
`total_amount`, the total the buyer saw, to the cent:

- equal, and the buyer has an open (unpaid, not expired) order for exactly these courses:
  **200**, that order again (same `out_trade_no`, same amount, a pay URL for the same Alipay
  trade), so paying twice is impossible;
- equal, otherwise: **201**, a new order (open orders sharing a course are cancelled first);
- not equal: **400** with `errors.total_amount` saying the current price ("课程价格已变动,当前应
  付 199.00 元,请刷新后重试"): refresh the prices and ask the buyer again;
- a course the buyer already owns, or an older order that turned out paid: **409**.

**Coupon.** `coupon` is one of the buyer's coupons (`POST order/preview/` shows the discount);
`total_amount` is then the discounted amount. The unpaid order holds the coupon (**409** when
another open order holds it), its payment uses it, cancelling or expiry gives it back. **404**
someone else's coupon; **400** used, expired or not applicable.

`pay_channel` picks Alipay's cashier: `page` (default) the desktop page
(`alipay.trade.page.pay`), `wap` the phone page (`alipay.trade.wap.pay`, product code
`QUICK_WAP_WAY`; a buyer who leaves it returns to the first course's page). Both settle through the
same notify and return page.

**Free courses.** When every course costs nothing now (`total_amount` 0.00) no order is made:
the courses are the buyer's at once, **201** with `pay_url` and `out_trade_no` null, and
nothing shows among the buyer's orders (older orders of free courses stay as they were).
Send the browser to `pay_url`; Alipay brings the buyer back to the return page, which polls
`GET order/success/`. An order not paid within ORDER_PAY_TIMEOUT_MINUTES (15) times out."""

PAY_STATUS_DESCRIPTION = """For the pay-success page after Alipay sends the buyer back: is the
order paid? Asks Alipay when our side has not heard yet, so it settles an order whose notify is
late. Always 200 for a known order: `code` **100** paid (the courses are the buyer's),
**101** not paid yet (ask again in a few seconds). An unknown `out_trade_no` is a 404. No login
needed (the order number is unguessable)."""

NOTIFY_DESCRIPTION = """Alipay's asynchronous notify (server to server, signed with RSA2,
form-encoded), not for the front end. Answers `success` once the notify is verified and the order
settled (or was already), `failure` otherwise, so Alipay sends it again."""

PAY_REQUEST = OpenApiExample(
    "Two courses",
    value={"courses": [1, 2], "total_amount": "398.00"},
    request_only=True,
)


def pay_answer(
    name: str, status: int, msg: str, pay_url: str | None, out_trade_no: str | None = OUT_TRADE_NO
) -> OpenApiExample:
    return OpenApiExample(
        name,
        value={"code": 100, "msg": msg, "pay_url": pay_url, "out_trade_no": out_trade_no},
        response_only=True,
        status_codes=[str(status)],
    )


PAY_CREATED = pay_answer("New order (201)", 201, "订单已创建,请前往支付宝支付", PAY_URL)
PAY_FREE = pay_answer("Free courses (201)", 201, "课程已开通", None, None)
PAY_REUSED = pay_answer(
    "Open order handed out again (200)", 200, "您已有这些课程的待支付订单,请继续支付", PAY_URL
)
PAY_AGAIN_REQUEST = OpenApiExample("On a phone", value={"pay_channel": "wap"}, request_only=True)
PAY_AGAIN = pay_answer("Where to pay the open order", 200, "请继续支付", PAY_URL)
PAID = OpenApiExample("Paid (100)", value={"code": 100, "msg": "支付成功"}, response_only=True)
NOT_PAID_YET = OpenApiExample(
    "Not paid yet (101)",
    value={"code": 101, "msg": "暂未收到您的付款,请稍后刷新再试"},
    response_only=True,
)
CANCELLED = OpenApiExample(
    "Cancelled", value={"code": 100, "msg": "订单已取消"}, response_only=True
)
ORDER = {
    "out_trade_no": OUT_TRADE_NO,
    "subject": "Python 全栈开发",
    "total_amount": "199.00",
    "order_status": 1,
    "order_status_name": "已支付",
    "pay_type": 1,
    "pay_type_name": "支付宝",
    "trade_no": "2026012622001400000000000001",
    "pay_time": "2026-01-26T10:31:02+08:00",
    "expires_at": "2026-01-26T10:45:15+08:00",
    "created_time": "2026-01-26T10:30:15+08:00",
    "order_courses": [
        {
            "course": 1,
            "course_name": "Python 全栈开发",
            "course_img": "https://shop.example.com/media/courses/python.png",
            "price": "299.00",
            "real_price": "199.00",
        }
    ],
}
ORDER_EXAMPLE = OpenApiExample("A paid order", value=ORDER, response_only=True)
# One item: the docs put it in the page themselves.
ORDER_PAGE = OpenApiExample("A page of orders", value=ORDER, response_only=True)
