"""POST user/user/mul_login/ (password) and user/user/mobile_login/ (SMS code)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.user.models import SmsCode, User
from tests.factories import TEST_PASSWORD, UserFactory

from .helpers import (
    DEFAULT_ICON_URL,
    LOGIN_KEYS,
    ME_URL,
    MOBILE_LOGIN_URL,
    MUL_LOGIN_URL,
    assert_error,
    assert_ok,
)

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def assert_login_payload(response, user: User) -> dict:
    body = assert_ok(response)
    assert set(body) == LOGIN_KEYS
    assert body["msg"] == "登录成功"
    assert body["username"] == user.username
    # The access token really is the user's: /me answers with this very account.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert assert_ok(client.get(ME_URL))["result"]["id"] == user.pk
    assert body["refresh"] != body["token"]
    user.refresh_from_db()
    assert user.last_login is not None
    assert timezone.now() - user.last_login < timedelta(minutes=1)
    return body


# --- mul_login --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "identifier",
    [
        pytest.param(lambda u: u.username, id="username"),
        pytest.param(lambda u: u.mobile, id="mobile"),
        pytest.param(lambda u: u.email, id="email"),
        pytest.param(lambda u: u.email.upper(), id="email-any-case"),
    ],
)
def test_mul_login_accepts_username_mobile_or_email(api_client, user, identifier):
    UserFactory()  # another account that must not be picked
    response = api_client.post(
        MUL_LOGIN_URL, {"username": identifier(user), "password": TEST_PASSWORD}, format="json"
    )
    body = assert_login_payload(response, user)
    assert body["icon"] == DEFAULT_ICON_URL


@pytest.mark.django_db
def test_mul_login_accepts_form_posts_too(api_client, user):
    response = api_client.post(
        MUL_LOGIN_URL, {"username": user.username, "password": TEST_PASSWORD}
    )
    assert_login_payload(response, user)


@pytest.mark.django_db
def test_mul_login_icon_is_the_absolute_url_of_an_uploaded_avatar(api_client, user):
    user.icon = SimpleUploadedFile("me.png", PNG, content_type="image/png")
    user.save()
    response = api_client.post(
        MUL_LOGIN_URL, {"username": user.username, "password": TEST_PASSWORD}, format="json"
    )
    icon = assert_login_payload(response, user)["icon"]
    assert icon == f"http://testserver{user.icon.url}"
    assert icon.startswith("http://testserver/media/icon/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("identifier", "password"),
    [
        pytest.param(lambda u: u.username, "wrong-password", id="wrong-password"),
        pytest.param(lambda u: u.mobile, "wrong-password", id="mobile-wrong-password"),
        pytest.param(lambda u: u.username, TEST_PASSWORD.upper(), id="password-is-case-sensitive"),
        pytest.param(lambda u: u.username, f" {TEST_PASSWORD}", id="password-not-trimmed"),
        pytest.param(lambda u: "nobody", TEST_PASSWORD, id="unknown-user"),
    ],
)
def test_mul_login_wrong_credentials_are_400(api_client, user, identifier, password):
    response = api_client.post(
        MUL_LOGIN_URL, {"username": identifier(user), "password": password}, format="json"
    )
    body = assert_error(response, 400, field="non_field_errors")
    assert body["msg"] == "用户名或密码错误"
    assert "token" not in body
    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.django_db
def test_mul_login_refuses_inactive_users(api_client):
    inactive = UserFactory(is_active=False)
    response = api_client.post(
        MUL_LOGIN_URL, {"username": inactive.username, "password": TEST_PASSWORD}, format="json"
    )
    assert_error(response, 400, field="non_field_errors")


@pytest.mark.django_db
def test_mul_login_exact_username_beats_someone_elses_mobile(api_client, user):
    # An account whose *username* is the other user's mobile number.
    namesake = UserFactory(username=user.mobile, mobile=None)
    response = api_client.post(
        MUL_LOGIN_URL, {"username": user.mobile, "password": TEST_PASSWORD}, format="json"
    )
    assert_login_payload(response, namesake)


@pytest.mark.django_db
def test_mul_login_ambiguous_email_logs_nobody_in(api_client):
    UserFactory(email="shared@example.com")
    UserFactory(email="shared@example.com")
    response = api_client.post(
        MUL_LOGIN_URL, {"username": "shared@example.com", "password": TEST_PASSWORD}, format="json"
    )
    assert_error(response, 400)


@pytest.mark.django_db
def test_mul_login_is_throttled_at_10_a_minute_per_ip(api_client, user):
    for n in range(10):  # other accounts each time: the address's limit, not an account's
        guess = {"username": f"nobody-{n}", "password": "wrong-password"}
        assert_error(api_client.post(MUL_LOGIN_URL, guess, format="json"), 400)
    right = {"username": user.username, "password": TEST_PASSWORD}
    body = assert_error(api_client.post(MUL_LOGIN_URL, right, format="json"), 429)
    assert "token" not in body
    assert 0 < body["wait"] <= 60
    user.refresh_from_db()
    assert user.last_login is None
    # Another address is not held back.
    assert_ok(api_client.post(MUL_LOGIN_URL, right, format="json", REMOTE_ADDR="10.0.0.4"))


@pytest.mark.django_db
def test_mul_login_throttle_is_not_reset_by_a_made_up_forwarded_for(api_client, user):
    wrong = {"username": user.username, "password": "wrong-password"}
    for n in range(10):  # other accounts each time: the address's limit, not an account's
        guess = {"username": f"nobody-{n}", "password": "wrong-password"}
        assert_error(api_client.post(MUL_LOGIN_URL, guess, format="json"), 400)
    response = api_client.post(
        MUL_LOGIN_URL, wrong, format="json", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert_error(response, 429)


# --- mobile_login -----------------------------------------------------------------------------


@pytest.fixture
def mobile_login(api_client):
    def post(mobile: str, code: str):
        return api_client.post(MOBILE_LOGIN_URL, {"mobile": mobile, "code": code}, format="json")

    return post


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.django_db
def test_mobile_login_with_the_code_received(mobile_login, user, request_code, latest_code_row):
    code = request_code(user.mobile)
    body = assert_login_payload(mobile_login(user.mobile, code), user)
    assert body["icon"] == DEFAULT_ICON_URL
    assert latest_code_row(user.mobile).used_at is not None


@pytest.mark.django_db
def test_mobile_login_code_works_only_once(mobile_login, user, request_code):
    code = request_code(user.mobile)
    assert_ok(mobile_login(user.mobile, code))
    body = assert_error(mobile_login(user.mobile, code), 400, field="code")
    assert "token" not in body


@pytest.mark.django_db
def test_mobile_login_wrong_code_is_400_and_counted(
    mobile_login, user, request_code, latest_code_row
):
    code = request_code(user.mobile)
    body = assert_error(mobile_login(user.mobile, wrong_code(code)), 400, field="code")
    assert body["errors"]["code"] == ["验证码错误"]
    row = latest_code_row(user.mobile)
    assert row.attempts == 1 and row.used_at is None
    # A wrong guess does not burn the code.
    assert_login_payload(mobile_login(user.mobile, code), user)


@pytest.mark.django_db
def test_mobile_login_code_dies_after_five_wrong_tries(
    mobile_login, user, request_code, latest_code_row, settings
):
    assert settings.SMS_CODE_MAX_ATTEMPTS == 5
    code = request_code(user.mobile)
    for _ in range(5):
        assert_error(mobile_login(user.mobile, wrong_code(code)), 400, field="code")
    body = assert_error(mobile_login(user.mobile, code), 400, field="code")
    assert body["errors"]["code"] == ["验证码错误次数过多,请重新获取"]
    row = latest_code_row(user.mobile)
    assert row.attempts == 5 and row.used_at is None


@pytest.mark.django_db
def test_mobile_login_four_wrong_tries_still_leave_the_code_usable(
    mobile_login, user, request_code
):
    code = request_code(user.mobile)
    for _ in range(4):
        assert_error(mobile_login(user.mobile, wrong_code(code)), 400)
    assert_login_payload(mobile_login(user.mobile, code), user)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("shift", "works"),
    [
        pytest.param(timedelta(seconds=-1), False, id="expired-a-second-ago"),
        pytest.param(timedelta(seconds=30), True, id="30-seconds-left"),
    ],
)
def test_mobile_login_code_expiry(mobile_login, user, request_code, latest_code_row, shift, works):
    code = request_code(user.mobile)
    # Time travel: move the expiry instead of the clock.
    SmsCode.objects.filter(pk=latest_code_row(user.mobile).pk).update(
        expires_at=timezone.now() + shift
    )
    response = mobile_login(user.mobile, code)
    if works:
        assert_login_payload(response, user)
    else:
        body = assert_error(response, 400, field="code")
        assert body["errors"]["code"] == ["验证码已过期,请重新获取"]
        assert latest_code_row(user.mobile).used_at is None


@pytest.mark.django_db
def test_mobile_login_without_any_code_sent_is_400(mobile_login, user):
    body = assert_error(mobile_login(user.mobile, "123456"), 400, field="code")
    assert body["errors"]["code"] == ["请先获取验证码"]


@pytest.mark.django_db
def test_mobile_login_code_is_bound_to_its_mobile(mobile_login, user, request_code):
    other = UserFactory()
    code = request_code(user.mobile)
    assert_error(mobile_login(other.mobile, code), 400, field="code")
    assert_login_payload(mobile_login(user.mobile, code), user)


@pytest.mark.django_db
def test_mobile_login_unregistered_mobile_is_400_and_keeps_the_code(
    mobile_login, new_mobile, request_code, latest_code_row
):
    code = request_code(new_mobile)
    body = assert_error(mobile_login(new_mobile, code), 400, field="mobile")
    assert body["errors"]["mobile"] == ["该手机号未注册"]
    row = latest_code_row(new_mobile)
    assert row.used_at is None and row.attempts == 0


@pytest.mark.django_db
def test_mobile_login_refuses_inactive_users(mobile_login, request_code):
    inactive = UserFactory(is_active=False)
    code = request_code(inactive.mobile)
    assert_error(mobile_login(inactive.mobile, code), 400, field="mobile")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code",
    [
        pytest.param("12345", id="5-digits"),
        pytest.param("1234567", id="7-digits"),
        pytest.param("12a456", id="letter"),
        pytest.param("１２３４５６", id="fullwidth-digits"),
        pytest.param("", id="empty"),
        pytest.param("1" * 10_000, id="huge"),
    ],
)
def test_mobile_login_malformed_code_is_400_and_not_counted(
    mobile_login, user, request_code, latest_code_row, code
):
    real = request_code(user.mobile)
    assert_error(mobile_login(user.mobile, code), 400, field="code")
    assert latest_code_row(user.mobile).attempts == 0
    assert_ok(mobile_login(user.mobile, real))


@pytest.mark.django_db
def test_mobile_login_is_throttled_with_the_other_logins(mobile_login, api_client, user):
    for _ in range(10):
        assert_error(mobile_login(user.mobile, "123456"), 400)
    assert_error(mobile_login(user.mobile, "123456"), 429)
    wrong = {"username": user.username, "password": "wrong-password"}
    assert_error(api_client.post(MUL_LOGIN_URL, wrong, format="json"), 429)
