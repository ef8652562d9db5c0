"""The order suite's Alipay fixtures (generated keys, the local gateway, placing through the
API), for buying with a coupon."""

from tests.order.conftest import (  # noqa: F401  (fixtures)
    alipay,
    alipay_keys,
    gateway,
    place,
    send_notify,
)
