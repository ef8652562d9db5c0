"""Examples and descriptions of the flash-sale endpoints in the OpenAPI schema."""

from drf_spectacular.utils import OpenApiExample

LIST_DESCRIPTION = (
    "Flash sales running now (started: true) and coming (started: false), soonest first, with "
    "the seats left and the server's time, so a page counts down on the server's clock."
)
BUY_DESCRIPTION = (
    "Take a seat of a running sale and get an order at the sale price (decided by the server), "
    "payable for FLASH_SALE_PAY_MINUTES (5 by default). One seat per buyer; a seat whose order "
    "is cancelled or times out goes back on sale. No request body."
)
LISTED = OpenApiExample(
    "Running and coming sales",
    response_only=True,
    value={
        "code": 1,
        "msg": "成功",
        "server_time": "2026-12-07T10:00:00+08:00",
        "sales": [
            {
                "id": 1,
                "course": 3,
                "course_name": "Python 入门",
                "price": "399.00",
                "sale_price": "99.00",
                "seats": 100,
                "seats_left": 37,
                "starts_at": "2026-12-07T09:00:00+08:00",
                "ends_at": "2026-12-10T09:00:00+08:00",
                "started": True,
            }
        ],
    },
)
BOUGHT = OpenApiExample(
    "Seat taken, order placed",
    status_codes=["201"],
    response_only=True,
    value={
        "code": 1,
        "msg": "抢购成功,请尽快完成支付",
        "pay_url": "https://openapi-sandbox.dl.alipaydev.com/gateway.do?...",
        "out_trade_no": "20261207100000123456a1b2c3d4e5f60718",
        "total_amount": "99.00",
        "expires_at": "2026-12-07T10:05:00+08:00",
    },
)
