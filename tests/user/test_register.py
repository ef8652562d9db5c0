"""POST user/user/mobile_register/ {mobile, code, password}."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.user.models import SmsCode, User
from tests.factories import TEST_PASSWORD, UserFactory

from .helpers import MUL_LOGIN_URL, REGISTER_URL, assert_error, assert_ok


@pytest.fixture
def register(api_client):
    def post(mobile: str, code: str, password: str = TEST_PASSWORD):
        data = {"mobile": mobile, "code": code, "password": password}
        return api_client.post(REGISTER_URL, data, format="json")

    return post


@pytest.mark.django_db
def test_register_creates_the_account(
    api_client, register, new_mobile, request_code, latest_code_row
):
    code = request_code(new_mobile)

    body = assert_ok(register(new_mobile, code), status=201)

    assert body == {"code": 100, "msg": "注册成功"}
    user = User.objects.get(mobile=new_mobile)
    assert user.username == new_mobile
    assert user.is_active and not user.is_staff and not user.is_superuser
    assert user.check_password(TEST_PASSWORD)
    assert latest_code_row(new_mobile).used_at is not None
    # The new account can log in with its password.
    login = {"username": new_mobile, "password": TEST_PASSWORD}
    assert assert_ok(api_client.post(MUL_LOGIN_URL, login, format="json"))["username"] == (
        new_mobile
    )


@pytest.mark.django_db
def test_register_twice_with_the_same_code_fails(register, new_mobile, request_code):
    code = request_code(new_mobile)
    assert_ok(register(new_mobile, code), status=201)
    assert_error(register(new_mobile, code), 409)
    assert User.objects.filter(mobile=new_mobile).count() == 1


@pytest.mark.django_db
def test_register_an_already_registered_mobile_is_409(
    register, user, request_code, latest_code_row
):
    code = request_code(user.mobile)
    users = User.objects.count()

    body = assert_error(register(user.mobile, code, "Another-strong-pass-7"), 409)

    assert body["msg"] == "该手机号已注册"
    assert User.objects.count() == users
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)
    assert latest_code_row(user.mobile).used_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    [
        pytest.param("Ab1-xyz", id="too-short"),
        pytest.param("12345678901", id="all-digits"),
        pytest.param("password123", id="common"),
        pytest.param("13712345678a", id="like-the-mobile"),
    ],
)
def test_weak_password_is_400_and_keeps_the_code(
    register, new_mobile, request_code, latest_code_row, password
):
    code = request_code(new_mobile)

    body = assert_error(register(new_mobile, code, password), 400, field="password")

    assert body["msg"].startswith("password: ")
    assert not User.objects.exists()
    row = latest_code_row(new_mobile)
    assert row.used_at is None and row.attempts == 0
    # Same code, better password.
    assert_ok(register(new_mobile, code), status=201)


@pytest.mark.django_db
def test_register_with_a_wrong_code_is_400_and_creates_nobody(
    register, new_mobile, request_code, latest_code_row
):
    code = request_code(new_mobile)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    body = assert_error(register(new_mobile, wrong), 400, field="code")

    assert body["errors"]["code"] == ["验证码错误"]
    assert not User.objects.exists()
    assert latest_code_row(new_mobile).attempts == 1


@pytest.mark.django_db
def test_register_with_an_expired_code_is_400(register, new_mobile, request_code):
    code = request_code(new_mobile)
    SmsCode.objects.filter(mobile=new_mobile).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert_error(register(new_mobile, code), 400, field="code")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_without_a_code_sent_is_400(register, new_mobile):
    assert_error(register(new_mobile, "123456"), 400, field="code")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_a_code_sent_to_another_mobile_does_not_register(register, new_mobile, request_code):
    code = request_code("13612345678")
    assert_error(register(new_mobile, code), 400, field="code")
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"code": "123456", "password": TEST_PASSWORD}, "mobile", id="no-mobile"),
        pytest.param({"mobile": "13712345678", "password": TEST_PASSWORD}, "code", id="no-code"),
        pytest.param({"mobile": "13712345678", "code": "123456"}, "password", id="no-password"),
        pytest.param(
            {"mobile": "13712345678", "code": "123456", "password": ""}, "password", id="empty"
        ),
        pytest.param(
            {"mobile": "13712345678", "code": "123456", "password": "x" * 129},
            "password",
            id="password-too-long",
        ),
        pytest.param(
            {"mobile": "23712345678", "code": "123456", "password": TEST_PASSWORD},
            "mobile",
            id="bad-mobile",
        ),
    ],
)
def test_register_incomplete_or_invalid_data_is_400(api_client, data, field):
    assert_error(api_client.post(REGISTER_URL, data, format="json"), 400, field=field)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_does_not_touch_other_accounts(register, new_mobile, request_code):
    other = UserFactory()
    code = request_code(new_mobile)
    assert_ok(register(new_mobile, code), status=201)
    other.refresh_from_db()
    assert other.check_password(TEST_PASSWORD)
    assert User.objects.count() == 2
