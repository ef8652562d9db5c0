"""POST user/user/password/ (logged in: old and new password) and
POST user/user/password_reset/ (mobile, SMS code, new password): every older token dies."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.user.models import SmsCode
from tests.factories import TEST_PASSWORD

from .helpers import (
    ME_URL,
    MUL_LOGIN_URL,
    PASSWORD_RESET_URL,
    PASSWORD_URL,
    REFRESH_URL,
    assert_error,
    assert_ok,
)

NEW_PASSWORD = "Brand-new-pass-2026"

pytestmark = pytest.mark.django_db


def login(user, password: str = TEST_PASSWORD) -> dict:
    data = {"username": user.mobile, "password": password}
    return assert_ok(APIClient().post(MUL_LOGIN_URL, data, format="json"))


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {access}")
    return client


def refresh(token: str) -> object:
    return APIClient().post(REFRESH_URL, {"refresh": token}, format="json")


def change(client: APIClient, old: str = TEST_PASSWORD, new: str = NEW_PASSWORD) -> object:
    return client.post(PASSWORD_URL, {"old_password": old, "new_password": new}, format="json")


# --- Change (logged in) -------------------------------------------------------------------------


def test_password_change_kills_every_older_token_and_keeps_this_client_logged_in(user):
    other_device = login(user)
    this_device = login(user)
    client = bearer(this_device["token"])

    body = assert_ok(change(client))

    assert body["msg"] == "密码已修改"
    assert set(body) == {"code", "msg", "token", "refresh"}
    for old in (other_device, this_device):
        assert_error(bearer(old["token"]).get(ME_URL), 401)
        assert_error(refresh(old["refresh"]), 401)
    assert_ok(bearer(body["token"]).get(ME_URL))
    assert_ok(refresh(body["refresh"]))


def test_after_a_change_only_the_new_password_logs_in(user):
    assert_ok(change(bearer(login(user)["token"])))

    wrong = {"username": user.mobile, "password": TEST_PASSWORD}
    assert_error(APIClient().post(MUL_LOGIN_URL, wrong, format="json"), 400)
    login(user, NEW_PASSWORD)


def test_wrong_old_password_is_400_and_changes_nothing(user):
    tokens = login(user)
    client = bearer(tokens["token"])
    password = user.password

    body = assert_error(change(client, old="not-my-password"), 400, field="old_password")

    assert body["msg"] == "old_password: 原密码错误"
    user.refresh_from_db()
    assert user.password == password
    assert_ok(client.get(ME_URL))
    assert_ok(refresh(tokens["refresh"]))


@pytest.mark.parametrize(
    "new",
    [
        pytest.param("short1", id="too-short"),
        pytest.param("12345678901", id="all-digits"),
        pytest.param("password123", id="too-common"),
    ],
)
def test_weak_new_password_is_400_and_changes_nothing(user, new):
    client = bearer(login(user)["token"])
    password = user.password

    assert_error(change(client, new=new), 400, field="new_password")

    user.refresh_from_db()
    assert user.password == password


def test_new_password_like_the_username_is_refused(user):
    client = bearer(login(user)["token"])
    assert_error(change(client, new=user.email), 400, field="new_password")


@pytest.mark.parametrize("header", [None, "jwt garbage"], ids=["anonymous", "bad-token"])
def test_password_change_needs_a_valid_login(api_client, user, header):
    if header:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(change(api_client), 401)
    login(user)  # the old password still works


def test_guessing_the_old_password_is_throttled(user, settings):
    client = bearer(login(user)["token"])
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    answers = [change(client, old=f"guess-{i}").status_code for i in range(limit + 2)]
    assert 429 in answers
    assert set(answers) <= {400, 429}


# --- Reset by SMS code --------------------------------------------------------------------------


def reset(mobile: str, code: str, new: str = NEW_PASSWORD) -> object:
    data = {"mobile": mobile, "code": code, "new_password": new}
    return APIClient().post(PASSWORD_RESET_URL, data, format="json")


def test_reset_by_sms_sets_the_password_and_kills_older_tokens(user, request_code):
    old = login(user)

    body = assert_ok(reset(user.mobile, request_code(user.mobile)))

    assert body["msg"] == "密码已重置,请重新登录"
    assert_error(bearer(old["token"]).get(ME_URL), 401)
    assert_error(refresh(old["refresh"]), 401)
    login(user, NEW_PASSWORD)


def test_reset_with_a_wrong_code_is_400_and_counts_the_attempt(user, request_code, latest_code_row):
    code = request_code(user.mobile)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    password = user.password

    assert_error(reset(user.mobile, wrong), 400, field="code")

    assert latest_code_row(user.mobile).attempts == 1
    user.refresh_from_db()
    assert user.password == password


def test_reset_code_is_single_use(user, request_code):
    code = request_code(user.mobile)
    assert_ok(reset(user.mobile, code))
    assert_error(reset(user.mobile, code, new="Third-pass-2026"), 400, field="code")
    login(user, NEW_PASSWORD)


def test_reset_with_a_weak_password_keeps_the_code_usable(user, request_code):
    code = request_code(user.mobile)

    assert_error(reset(user.mobile, code, new="123"), 400, field="new_password")

    assert SmsCode.objects.get().used_at is None
    assert_ok(reset(user.mobile, code))


def test_reset_for_an_unregistered_mobile_is_400(new_mobile, request_code):
    code = request_code(new_mobile)
    assert_error(reset(new_mobile, code), 400, field="mobile")


def test_reset_is_throttled_like_login(user, settings):
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    answers = [reset(user.mobile, "000000").status_code for _ in range(limit + 2)]
    assert answers[-1] == 429
