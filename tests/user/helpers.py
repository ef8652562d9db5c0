"""URLs and envelope assertions shared by the account tests."""

from __future__ import annotations

import pytest

MOBILE_URL = "/api/v1/user/user/mobile/"
SEND_SMS_URL = "/api/v1/user/user/send_sms/"
MUL_LOGIN_URL = "/api/v1/user/user/mul_login/"
MOBILE_LOGIN_URL = "/api/v1/user/user/mobile_login/"
REGISTER_URL = "/api/v1/user/user/mobile_register/"
REFRESH_URL = "/api/v1/user/token/refresh/"
ME_URL = "/api/v1/user/user/me/"
LOGOUT_URL = "/api/v1/user/user/logout/"
PASSWORD_URL = "/api/v1/user/user/password/"
PASSWORD_RESET_URL = "/api/v1/user/user/password_reset/"

DEFAULT_ICON_URL = "http://testserver/static/user/default-icon.png"
LOGIN_KEYS = {"code", "msg", "token", "refresh", "username", "icon"}
PROFILE_KEYS = {"id", "username", "mobile", "email", "icon", "date_joined"}


def send_sms(client, mobile: object, **extra):
    """POST send_sms/ with the JSON body the storefront sends."""
    return client.post(SEND_SMS_URL, {"mobile": mobile}, format="json", **extra)


INVALID_MOBILES = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("12345678901", id="second-digit-2"),
    pytest.param("10012345678", id="second-digit-0"),
    pytest.param("1381234567", id="10-digits"),
    pytest.param("138123456789", id="12-digits"),
    pytest.param("+8613812345678", id="country-code"),
    pytest.param("138-1234-5678", id="dashes"),
    pytest.param("abcdefghijk", id="letters"),
    pytest.param("13８１２３４５６７８", id="fullwidth-digits"),
    pytest.param("1381234567٨", id="arabic-indic-digit"),
    pytest.param("1381234567\x00", id="nul-byte"),
    pytest.param("1" * 100_000, id="huge"),
]


def assert_ok(response, status: int = 200) -> dict:
    """A success envelope: the HTTP status asked for, code 100 and a message."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == 100, body
    assert isinstance(body["msg"], str) and body["msg"]
    return body


def assert_error(response, status: int, field: str | None = None) -> dict:
    """An error envelope whose code is the HTTP status; `field` must be among `errors`."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == status, body
    assert isinstance(body["msg"], str) and body["msg"]
    assert not body["msg"].startswith("detail"), body  # a message for people, not a dict dump
    if field is not None:
        assert field in body["errors"], body
        assert all(isinstance(m, str) and m for m in body["errors"][field]), body
    return body
