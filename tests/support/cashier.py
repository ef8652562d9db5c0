"""pytest fixtures that run the shop against the local Alipay cashier, as `make run` does.

`local_cashier` mounts apps/cashier on pytest-django's live server (through
tests/support/cashier_urls.py, since the suite runs with DEBUG off) and points settings.ALIPAY at
it with development keys made once per session: pay URLs open the cashier page, its notify reaches
the real notify endpoint over HTTP, and trade query/close/refund go through python-alipay-sdk.
Browser tests use it the same way: `def test_x(local_cashier, page): page.goto(pay_url)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from apps.cashier.devkeys import DevKeys, alipay_overrides, ensure_dev_keys
from libs.iPay.config import env_mapping as alipay_env_mapping

CASHIER_URLCONF = "tests.support.cashier_urls"


@dataclass(frozen=True)
class LocalCashier:
    site_url: str  # the live server, e.g. http://localhost:41234
    gateway_url: str
    keys: DevKeys


@pytest.fixture(scope="session")
def cashier_keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    return ensure_dev_keys(Path(tmp_path_factory.mktemp("dev-alipay")))


@pytest.fixture
def local_cashier(settings, live_server, cashier_keys: DevKeys) -> LocalCashier:
    """The local cashier on the live server, and the shop's Alipay settings pointing at it."""
    site = live_server.url
    gateway = f"{site}/cashier/gateway.do"
    settings.LOCAL_CASHIER = True
    settings.LOCAL_CASHIER_KEY_DIR = cashier_keys.folder
    settings.ROOT_URLCONF = CASHIER_URLCONF
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "127.0.0.1"]
    # The dict shape of the ALIPAY_* variables, which libs.iPay's load_settings also reads.
    settings.ALIPAY = {
        **alipay_env_mapping(
            {},
            sandbox=True,
            notify_url=f"{site}/api/v1/order/success/",
            return_url=f"{site}/pay/success",
        ),
        **alipay_overrides(cashier_keys, gateway=gateway),
        "TIMEOUT_SECONDS": 5,
    }
    return LocalCashier(site_url=site, gateway_url=gateway, keys=cashier_keys)
