"""Fixtures of the order and account suites, reused here by name."""

from tests.order.conftest import (  # noqa: F401
    alipay,
    alipay_keys,
    course,
    gateway,
    make_order,
    send_notify,
)
from tests.user.conftest import sms_log  # noqa: F401
