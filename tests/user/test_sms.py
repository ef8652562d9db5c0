"""POST user/user/send_sms/ {"mobile": ...}: issue a 6-digit code, throttled per IP and per
mobile; the daily caps per mobile of codes sent and of wrong codes."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework.test import APIClient

from apps.user.models import SmsCode
from apps.user.sms import LogSmsBackend, SmsDeliveryError
from libs.tencent import SMS_REQUIRED

from .helpers import (
    INVALID_MOBILES,
    MOBILE_LOGIN_URL,
    PASSWORD_RESET_URL,
    SEND_SMS_URL,
    assert_error,
    assert_ok,
    send_sms,
)

TENCENT_KEYS = ("SECRET_ID", "SECRET_KEY", "SDK_APP_ID", "SIGN_NAME", "TEMPLATE_ID")


@pytest.fixture
def use_tencent(settings):
    """Switch to the Tencent backend with the given config (missing keys stay empty)."""

    def switch(**config: str) -> None:
        settings.SMS_BACKEND = "tencent"
        blank = dict.fromkeys(SMS_REQUIRED, "")
        settings.TENCENT_SMS = replace(settings.TENCENT_SMS, **{**blank, **config})

    return switch


@pytest.mark.django_db
def test_sends_a_six_digit_code_and_stores_only_its_hash(api_client, new_mobile, sms_log):
    before = timezone.now()
    body = assert_ok(send_sms(api_client, new_mobile))
    assert body == {"code": 100, "msg": "验证码已发送"}

    [(mobile, code)] = sms_log()
    assert mobile == new_mobile
    assert len(code) == 6 and code.isascii() and code.isdigit()

    row = SmsCode.objects.get()
    assert row.mobile == new_mobile
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.attempts == 0 and row.used_at is None
    lifetime = row.expires_at - before
    assert timedelta(seconds=299) <= lifetime <= timedelta(seconds=301)


@pytest.mark.django_db
def test_registered_and_unregistered_numbers_both_get_codes(registered_user, new_mobile, sms_log):
    for mobile in (registered_user.mobile, new_mobile):
        assert_ok(send_sms(APIClient(), mobile))
    assert [m for m, _ in sms_log()] == [registered_user.mobile, new_mobile]


@pytest.mark.django_db
@pytest.mark.parametrize("mobile", INVALID_MOBILES)
def test_invalid_mobile_is_400_and_sends_nothing(api_client, mobile, sms_log):
    assert_error(send_sms(api_client, mobile), 400, field="mobile")
    assert SmsCode.objects.count() == 0
    assert sms_log() == []


@pytest.mark.django_db
def test_missing_mobile_is_400(api_client, sms_log):
    assert_error(api_client.post(SEND_SMS_URL, {}, format="json"), 400, field="mobile")
    assert SmsCode.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "again",
    [
        pytest.param("{}", id="same"),
        pytest.param(" {}", id="leading-space"),
        pytest.param("{} ", id="trailing-space"),
        pytest.param("\t{}\n", id="tab-newline"),
        pytest.param("\u3000{}", id="ideographic-space"),
    ],
)
def test_one_code_per_mobile_per_minute_whatever_the_spelling(
    api_client, new_mobile, sms_log, again
):
    assert_ok(send_sms(api_client, new_mobile))
    # A different client address: the per-mobile limit does not care who asks.
    response = send_sms(api_client, again.format(new_mobile), REMOTE_ADDR="10.0.0.9")
    body = assert_error(response, 429)
    assert 0 < body["wait"] <= 60
    assert SmsCode.objects.count() == 1
    assert len(sms_log()) == 1


@pytest.mark.django_db
def test_other_mobiles_are_not_held_back_by_one_number(api_client, new_mobile, registered_user):
    assert_ok(send_sms(api_client, new_mobile))
    assert_ok(send_sms(api_client, registered_user.mobile))


@pytest.mark.django_db
def test_ten_sms_per_ip_per_hour(api_client, sms_log):
    mobiles = [f"1360000{n:04d}" for n in range(11)]
    for mobile in mobiles[:10]:
        assert_ok(send_sms(api_client, mobile))
    body = assert_error(send_sms(api_client, mobiles[10]), 429)
    assert 3500 < body["wait"] <= 3600
    assert not SmsCode.objects.filter(mobile=mobiles[10]).exists()
    # The limit is per address: someone else can still ask.
    assert_ok(send_sms(api_client, "13600009999", REMOTE_ADDR="10.0.0.3"))
    assert len(sms_log()) == 11


@pytest.mark.django_db
def test_sms_ip_throttle_is_not_reset_by_a_made_up_forwarded_for(api_client):
    for n in range(10):
        assert_ok(send_sms(api_client, f"1360000{n:04d}"))
    response = send_sms(api_client, "13600009999", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert_error(response, 429)
    assert not SmsCode.objects.filter(mobile="13600009999").exists()


@pytest.mark.django_db
def test_a_new_code_replaces_the_previous_one(
    api_client, new_mobile, registered_user, request_code, forget_throttles
):
    mobile = registered_user.mobile
    first = request_code(mobile)
    forget_throttles()
    second = request_code(mobile)
    if first == second:  # one chance in a million; the check below would prove nothing
        pytest.skip("the two random codes happen to be equal")
    assert_error(api_client.post(MOBILE_LOGIN_URL, {"mobile": mobile, "code": first}), 400)
    assert_ok(api_client.post(MOBILE_LOGIN_URL, {"mobile": mobile, "code": second}))


@pytest.mark.django_db
def test_unconfigured_tencent_backend_is_a_logged_500_that_leaves_no_code(
    api_client, registered_user, request_code, forget_throttles, sms_log, caplog, use_tencent
):
    """A deployment error, not bad input: the client gets a 500 envelope (never HTML), the
    traceback is logged, and the failed send neither leaves a code nobody received nor breaks
    the code the user already holds."""
    mobile = registered_user.mobile
    held = request_code(mobile)
    forget_throttles()
    use_tencent()

    response = send_sms(api_client, mobile)

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": 500, "msg": "服务器内部错误"}
    assert SmsCode.objects.count() == 1
    assert len(sms_log()) == 1
    [error] = [r for r in caplog.records if r.name == "luffy.errors"]
    assert error.levelno == logging.ERROR
    assert isinstance(error.exc_info[1], ImproperlyConfigured)
    assert "TENCENT_SMS_SECRET_ID" in str(error.exc_info[1])
    assert_ok(api_client.post(MOBILE_LOGIN_URL, {"mobile": mobile, "code": held}))


@pytest.fixture
def refusing_provider(monkeypatch):
    """The SMS provider refuses every message (the only stand-in in this module: it replaces
    the provider, not the code service under test)."""

    def refuse(self, mobile: str, code: str, ttl_minutes: int) -> None:
        raise SmsDeliveryError("provider said no")

    monkeypatch.setattr(LogSmsBackend, "send_code", refuse)


@pytest.mark.django_db
def test_refused_delivery_is_503_and_leaves_no_code(
    api_client, new_mobile, refusing_provider, caplog
):
    response = send_sms(api_client, new_mobile)

    body = assert_error(response, 503)
    assert body["msg"] == "短信发送失败,请稍后再试"
    assert SmsCode.objects.count() == 0
    assert any(
        r.name == "luffy.user" and r.levelno == logging.ERROR and new_mobile in r.getMessage()
        for r in caplog.records
    )


def test_server_refuses_to_start_with_an_unconfigured_sms_provider():
    env = {
        "PATH": os.environ["PATH"],
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_DEBUG": "true",
        "SMS_BACKEND": "tencent",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SMS_BACKEND=tencent needs TENCENT_SMS_SECRET_ID" in result.stderr


def check_with_tencent(**extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_DEBUG": "true",
        "SMS_BACKEND": "tencent",
        **{f"TENCENT_SMS_{key}": "x" for key in TENCENT_KEYS},
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_configured_tencent_backend_starts_with_the_sdk_from_requirements():
    result = check_with_tencent()
    assert result.returncode == 0, result.stderr


def test_server_refuses_to_start_when_the_tencent_sdk_is_missing(tmp_path):
    """A machine without the SDK: a `tencentcloud` package that cannot be imported shadows the
    installed one, as if `pip install` had been skipped."""
    shadow = tmp_path / "tencentcloud"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('No module named tencentcloud')\n")

    result = check_with_tencent(PYTHONPATH=str(tmp_path))

    assert result.returncode != 0
    assert "SMS_BACKEND=tencent needs the Tencent Cloud SMS SDK" in result.stderr
    assert "tencentcloud-sdk-python-sms" in result.stderr


# --- Abuse: the order of the limits, daily caps, IPv6 (issue 23) ---------------------------------


@pytest.fixture
def sms_rates(monkeypatch):
    """Set the SMS rates for a test (the throttles read them when built, per request)."""
    from rest_framework.throttling import SimpleRateThrottle

    def set_rates(**rates: str) -> None:
        for scope, rate in rates.items():
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


@pytest.mark.django_db
def test_an_address_past_its_limit_opens_no_numbers_window(api_client, new_mobile, sms_log):
    """Before: every throttle ran and counted, so an address with no quota left still opened
    the victim's one-minute window (and its 429's `wait` said when to do it again)."""
    for n in range(10):  # the attacker's address uses up its own quota on other numbers
        assert_ok(send_sms(api_client, f"1360000{n:04d}"))

    body = assert_error(send_sms(api_client, new_mobile), 429)
    assert body["wait"] > 60  # the address's window (an hour), not the victim's minute

    assert_ok(send_sms(APIClient(), new_mobile, REMOTE_ADDR="198.51.100.7"))  # the victim
    assert [m for m, _ in sms_log()][-1] == new_mobile


@pytest.mark.django_db
def test_a_mobile_gets_at_most_the_daily_number_of_codes_from_any_addresses(
    new_mobile, sms_log, sms_rates
):
    sms_rates(sms_mobile="1000/min", sms_mobile_day="10/day")
    for n in range(10):
        assert_ok(send_sms(APIClient(), new_mobile, REMOTE_ADDR=f"198.51.100.{n}"))

    body = assert_error(send_sms(APIClient(), new_mobile, REMOTE_ADDR="203.0.113.1"), 429)

    assert 86000 < body["wait"] <= 86400
    assert len(sms_log()) == SmsCode.objects.filter(mobile=new_mobile).count() == 10
    assert_ok(send_sms(APIClient(), "13600001234", REMOTE_ADDR="203.0.113.1"))  # others: fine


@pytest.mark.django_db
def test_a_json_number_counts_for_the_mobile_like_its_digits(api_client, new_mobile):
    assert_ok(send_sms(api_client, int(new_mobile)))
    assert_error(send_sms(APIClient(), new_mobile, REMOTE_ADDR="198.51.100.1"), 429)
    assert SmsCode.objects.filter(mobile=new_mobile).count() == 1


@pytest.mark.django_db
def test_addresses_of_one_ipv6_64_share_one_limit(sms_log):
    for n in range(10):
        address = f"2001:db8:1:2::{n + 1:x}"  # ten addresses of one /64
        assert_ok(send_sms(APIClient(), f"1360000{n:04d}", REMOTE_ADDR=address))

    same_64 = send_sms(APIClient(), "13600009999", REMOTE_ADDR="2001:db8:1:2:ffff::1")
    other_64 = send_sms(APIClient(), "13600009998", REMOTE_ADDR="2001:db8:1:3::1")

    assert_error(same_64, 429)
    assert_ok(other_64)


@pytest.mark.django_db
def test_failed_checks_across_codes_lock_code_login_and_reset_for_the_mobile(
    registered_user, request_code, sms_rates, settings
):
    """Before: each new code brought SMS_CODE_MAX_ATTEMPTS new guesses, without end."""
    settings.SMS_CHECK_FAILURES_PER_DAY = 7
    sms_rates(sms_mobile="1000/min")
    mobile = registered_user.mobile
    for guesses in (5, 2):  # 7 wrong codes over two codes
        code = request_code(mobile)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(guesses):
            response = APIClient().post(MOBILE_LOGIN_URL, {"mobile": mobile, "code": wrong})
            assert_error(response, 400, field="code")

    code = request_code(mobile)  # a fresh code, right this time
    login = APIClient().post(MOBILE_LOGIN_URL, {"mobile": mobile, "code": code})
    reset = APIClient().post(
        PASSWORD_RESET_URL,
        {"mobile": mobile, "code": code, "new_password": "Brand-new-pass-2026"},
        format="json",
    )

    for response in (login, reset):
        body = assert_error(response, 429)
        assert 86000 < body["wait"] <= 86400
    assert SmsCode.objects.filter(mobile=mobile).latest("id").used_at is None
    # A day after the failing codes were sent, the number can be used again.
    latest = SmsCode.objects.filter(mobile=mobile).latest("id")
    SmsCode.objects.filter(mobile=mobile).exclude(pk=latest.pk).update(
        created_at=timezone.now() - timedelta(days=1, seconds=1)
    )
    assert_ok(APIClient().post(MOBILE_LOGIN_URL, {"mobile": mobile, "code": code}))
