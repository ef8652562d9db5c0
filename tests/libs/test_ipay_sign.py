"""Every request AlipayClient signs goes through the SDK's `sign_data`, whose last step (the RSA2
signature of the message the SDK built) runs in OpenSSL (issue 12). PKCS#1 v1.5 signatures are
deterministic, so the bar is the very bytes: the pay URL and every gateway request (trade query,
close, refund, refund query) must be what an unmodified python-alipay-sdk client (pycryptodome)
produces with the same keys, parameters and moment, and the local gateway must accept them."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any
from urllib.error import URLError

import alipay
import pytest
from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs import iPay
from libs.iPay.client import _AliPay
from libs.iPay.types import BEIJING
from tests.support.alipay import FakeAlipayGateway, KeyPair, generate_keypair

from .test_ipay import APP_ID, _FrozenNow, conf

EXPIRES_AT = _FrozenNow.now().replace(tzinfo=BEIJING)
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)
TRADE_NOS = st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1, max_size=64)
HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def gateway(app, ali):
    with FakeAlipayGateway(APP_ID, app.public_pem, ali.private_pem) as gw:
        yield gw
    assert not gw.errors, gw.errors


class Sent:
    """The URLs the SDK opens (its module's `urlopen`), each passed on to the real one."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._urlopen = alipay.urlopen

    def __call__(self, url: str, *args: Any, **kwargs: Any) -> Any:
        self.urls.append(url)
        return self._urlopen(url, *args, **kwargs)


@pytest.fixture
def sent(monkeypatch) -> Sent:
    """The SDK's clock frozen (timestamps equal) and its requests recorded."""
    recorder = Sent()
    monkeypatch.setattr(alipay, "urlopen", recorder)
    monkeypatch.setattr(alipay, "datetime", _FrozenNow)
    monkeypatch.setattr(iPay.client, "datetime", _FrozenNow)
    return recorder


@pytest.fixture
def client(settings, app, ali, gateway) -> iPay.AlipayClient:
    settings.ALIPAY = conf(app, ali, GATEWAY=gateway.url)
    return iPay.get_client()


@pytest.fixture
def reference(app, ali, gateway) -> AliPay:
    return plain_sdk(app, ali, gateway.url)


def plain_sdk(app: KeyPair, ali: KeyPair, gateway_url: str, sign_type: str = "RSA2") -> AliPay:
    """An unmodified SDK client (pycryptodome) with the same keys and gateway: the reference."""
    sdk = AliPay(
        appid=APP_ID,
        app_notify_url=None,
        app_private_key_string=app.private_pem,
        alipay_public_key_string=ali.public_pem,
        sign_type=sign_type,
    )
    sdk._gateway = gateway_url
    return sdk


def test_the_sdk_still_builds_every_request_only_the_rsa_signature_is_openssls(client):
    assert isinstance(client.sdk, AliPay)
    assert type(client.sdk).sign_data is AliPay.sign_data
    assert type(client.sdk).build_body is AliPay.build_body
    assert type(client.sdk)._sign is not AliPay._sign
    assert client.sdk.sign_type == "RSA2"  # the only sign type the wrapper builds


@pytest.fixture(scope="module", params=["RSA2", "RSA"])
def signers(request, app, ali) -> tuple[_AliPay, AliPay]:
    """Ours and the unmodified SDK's, for each sign type the SDK knows (the wrapper uses RSA2)."""
    ours = _AliPay(
        appid=APP_ID,
        app_private_key_string=app.private_pem,
        alipay_public_key_string=ali.public_pem,
        sign_type=request.param,
    )
    return ours, plain_sdk(app, ali, "", request.param)


@HYPOTHESIS
@given(message=st.text(st.characters(codec="utf-8"), max_size=300))
def test_any_message_is_signed_as_the_sdk_signs_it(signers, message):
    ours, reference = signers
    assert ours._sign(message) == reference._sign(message)


def test_a_pkcs8_app_key_signs_as_the_sdk_signs_with_it(ali):
    app8 = generate_keypair(pkcs8=True)
    ours = _AliPay(
        appid=APP_ID,
        app_private_key_string=app8.private_pem,
        alipay_public_key_string=ali.public_pem,
    )
    message = 'app_id=1&biz_content={"subject":"路飞 & 课程=Python"}&sign_type=RSA2'
    assert ours._sign(message) == plain_sdk(app8, ali, "")._sign(message)


@HYPOTHESIS
@given(subject=TEXT, amount=AMOUNTS, out_trade_no=TRADE_NOS)
def test_the_pay_url_is_the_unmodified_sdks_byte_for_byte(
    client, reference, sent, subject, amount, out_trade_no
):
    url = client.page_pay_url(
        out_trade_no=out_trade_no, total_amount=amount, subject=subject, expires_at=EXPIRES_AT
    )
    expected = reference.api_alipay_trade_page_pay(
        subject=subject,
        out_trade_no=out_trade_no,
        total_amount=iPay.format_amount(amount),
        return_url=client.settings.return_url,
        notify_url=client.settings.notify_url,
        time_expire="2026-03-01 10:30:45",
    )
    assert url == f"{client.settings.gateway}?{expected}"


# What each side raises when the gateway's answer is not what the call wanted: the answer is not
# what these tests are about, the request sent is. (The SDK's own answer check counts braces
# inside strings too: an id with `{` or `}` makes both sides refuse a good answer.)
OURS_REFUSED = iPay.AlipayUnavailable
REFERENCE_REFUSED = (AliPayException, AliPayValidationError, URLError)


@HYPOTHESIS
@given(
    out_trade_no=TRADE_NOS,
    trade_no=st.sampled_from(["", "2026030122001400000000000001"]),
    amount=AMOUNTS,
    out_request_no=TRADE_NOS,
    reason=st.text(st.characters(codec="utf-8"), max_size=300),
)
def test_every_gateway_request_is_the_unmodified_sdks_byte_for_byte_and_accepted(
    client, reference, gateway, sent, out_trade_no, trade_no, amount, out_request_no, reason
):
    sent.urls.clear()
    gateway.requests.clear()
    gateway.add_trade(out_trade_no, amount)
    trade = {"trade_no": trade_no} if trade_no else {"out_trade_no": out_trade_no}
    pairs = [
        (
            lambda: client.query_trade(out_trade_no),
            lambda: reference.api_alipay_trade_query(out_trade_no=out_trade_no),
        ),
        (
            lambda: client.close_trade(out_trade_no),
            lambda: reference.api_alipay_trade_close(out_trade_no=out_trade_no),
        ),
        (
            lambda: client.refund(
                out_trade_no,
                amount=amount,
                out_request_no=out_request_no,
                reason=reason,
                trade_no=trade_no,
            ),
            lambda: reference.api_alipay_trade_refund(
                refund_amount=iPay.format_amount(amount),
                out_request_no=out_request_no,
                refund_reason=reason[:256],
                **trade,
            ),
        ),
        (
            lambda: client.query_refund(
                out_trade_no, out_request_no=out_request_no, trade_no=trade_no
            ),
            lambda: reference.api_alipay_trade_fastpay_refund_query(
                out_request_no=out_request_no, **trade
            ),
        ),
    ]
    for ours, theirs in pairs:
        with contextlib.suppress(OURS_REFUSED):
            ours()
        with contextlib.suppress(*REFERENCE_REFUSED):
            theirs()
    assert len(sent.urls) == 2 * len(pairs)
    for i in range(len(pairs)):
        assert sent.urls[2 * i] == sent.urls[2 * i + 1]
    assert [r["signature_ok"] for r in gateway.requests] == [True] * 2 * len(pairs)
