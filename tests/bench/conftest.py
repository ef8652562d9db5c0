"""The order tests' Alipay fixtures: keys, a configured client, orders (test_probe.py)."""

from tests.order.conftest import (  # noqa: F401 - fixtures
    alipay,
    alipay_keys,
    gateway,
    make_order,
    send_notify,
)
