"""AlipayClient.verify_notify goes through the SDK's `verify`, whose last step (the RSA2 check of
the message the SDK built) runs in OpenSSL (issue 12): it must answer exactly what an unmodified
python-alipay-sdk client answers, for good notifies and for every way a notify can be damaged or
forged."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from alipay import AliPay
from alipay.exceptions import AliPayException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs import iPay
from tests.support.alipay import KeyPair, generate_keypair, notify_params, sign_notify

from .test_ipay import conf

APP_ID = "2021000122609999"


@pytest.fixture(scope="module")
def stranger() -> KeyPair:
    return generate_keypair()


@pytest.fixture(scope="module")
def client(ali: KeyPair) -> iPay.AlipayClient:
    return iPay.AlipayClient(iPay.settings_from_mapping(conf(generate_keypair(), ali)))


@pytest.fixture(scope="module")
def plain_sdk(ali: KeyPair) -> AliPay:
    """An unmodified SDK client (pycryptodome) trusting the same Alipay key: the reference."""
    return AliPay(
        appid=APP_ID,
        app_notify_url=None,
        app_private_key_string=generate_keypair().private_pem,
        alipay_public_key_string=ali.public_pem,
        sign_type="RSA2",
    )


def sdk_answer(plain_sdk: AliPay, params: dict[str, Any]) -> bool:
    """What verify_notify answered when the SDK checked signatures with pycryptodome."""
    data = dict(params)
    signature = data.pop("sign", "")
    if not signature or data.get("sign_type", "RSA2") != "RSA2":
        return False
    try:
        return plain_sdk.verify(data, signature)
    except (ValueError, TypeError, AliPayException):
        return False


def same(client: iPay.AlipayClient, plain_sdk: AliPay, params: dict[str, Any]) -> bool:
    before = dict(params)
    answer = client.verify_notify(params)
    assert answer is sdk_answer(plain_sdk, params), params
    assert params == before  # the caller's dict is left alone
    return answer


def test_the_sdk_still_builds_the_message_only_the_rsa_check_is_openssls(client):
    assert isinstance(client.sdk, AliPay)
    assert type(client.sdk).verify is AliPay.verify
    assert type(client.sdk)._verify is not AliPay._verify


def signed(ali: KeyPair, out_trade_no: str = "T-1", **fields: Any) -> dict[str, str]:
    return sign_notify(
        notify_params(app_id=APP_ID, out_trade_no=out_trade_no, total_amount="99.90", **fields),
        ali.private_pem,
    )


def signed_with_a_plus(ali: KeyPair) -> dict[str, str]:
    """A good notify whose base64 signature holds a `+`, for the case that reads `+` as a space.

    About one signature in 200 has none (344 characters, each a `+` with odds 1 in 64): that
    case was then the untouched notify, which verifies (issue 28). Another trade number signs
    differently, so the loop ends at the first or second try.
    """
    for attempt in range(50):
        notify = signed(ali, out_trade_no=f"T-1-{attempt}")
        if "+" in notify["sign"]:
            return notify
    raise AssertionError("50 signatures without a `+`: the key or the signer is broken")


def test_a_good_notify_verifies_as_the_sdk_says(client, plain_sdk, ali):
    assert same(client, plain_sdk, signed(ali)) is True
    assert same(client, plain_sdk, signed(ali, subject="路飞学城 & 课程=Python")) is True


def damaged(notify: dict[str, str], stranger: KeyPair) -> list[dict[str, str]]:
    sign = notify["sign"]
    raw = base64.b64decode(sign)
    unsigned = {k: v for k, v in notify.items() if k != "sign"}
    return [
        {**notify, "total_amount": "0.01"},
        {**notify, "extra": ""},  # a field added, even empty
        {k: v for k, v in notify.items() if k != "subject"},  # a field dropped
        {k: v for k, v in notify.items() if k != "sign_type"},  # no sign_type: still RSA2
        {**notify, "sign_type": "RSA"},
        {**notify, "sign_type": ""},
        {**notify, "sign": ""},
        {k: v for k, v in notify.items() if k != "sign"},
        {**notify, "sign": "!!!not base64!!!"},
        {**notify, "sign": "abc"},
        {**notify, "sign": "=="},
        {**notify, "sign": "*" * 344},
        {**notify, "sign": sign[:-4]},
        {**notify, "sign": sign + "AAAA"},
        {**notify, "sign": "\n".join([sign[:100], sign[100:]])},  # line breaks: still decodes
        {**notify, "sign": sign.replace("+", " ")},  # `+` read as a space from a bad form
        {**notify, "sign": base64.b64encode(raw[1:]).decode()},  # one byte short
        {**notify, "sign": base64.b64encode(b"\0" + raw).decode()},  # one byte long
        {**notify, "sign": base64.b64encode(bytes([raw[0] ^ 1]) + raw[1:]).decode()},
        {**notify, "sign": base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()},
        sign_notify(unsigned, stranger.private_pem),  # forged with another key
    ]


def test_every_damaged_or_forged_notify_is_refused_as_the_sdk_refuses_it(
    client, plain_sdk, ali, stranger
):
    notify = signed_with_a_plus(ali)
    cases = damaged(notify, stranger)
    # Each case must damage what it says it damages: none may be the good notify itself.
    assert [i for i, params in enumerate(cases) if params == notify] == []
    answers = [same(client, plain_sdk, params) for params in cases]
    # Only those that differ in form, not in content, still verify (for the SDK too): no
    # sign_type, the signature broken over lines, or followed by bytes after its padding.
    assert [i for i, answer in enumerate(answers) if answer] == [3, 13, 14]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
        st.text(st.characters(codec="utf-8"), max_size=20),
        max_size=5,
    ),
    flip=st.integers(min_value=-1, max_value=255),
)
def test_any_notify_any_bit_flipped_verifies_as_the_sdk_says(client, plain_sdk, ali, fields, flip):
    notify = sign_notify(
        {**notify_params(app_id=APP_ID, out_trade_no="T-2", total_amount="1.00"), **fields},
        ali.private_pem,
    )
    if flip >= 0:
        raw = bytearray(base64.b64decode(notify["sign"]))
        raw[flip] ^= 0x80
        notify["sign"] = base64.b64encode(bytes(raw)).decode()
    untouched = flip < 0 and notify.get("sign_type", "RSA2") == "RSA2"
    assert same(client, plain_sdk, notify) is untouched
