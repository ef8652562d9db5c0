"""Garbage in: every account endpoint answers a 4xx envelope and writes nothing."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.user.models import SmsCode, User
from tests.conftest import access_token
from tests.factories import TEST_PASSWORD

from .helpers import (
    LOGOUT_URL,
    MOBILE_LOGIN_URL,
    MOBILE_URL,
    MUL_LOGIN_URL,
    PASSWORD_RESET_URL,
    PASSWORD_URL,
    REFRESH_URL,
    REGISTER_URL,
    SEND_SMS_URL,
    assert_error,
)

pytestmark = pytest.mark.django_db

POST_URLS = [
    pytest.param(SEND_SMS_URL, id="send_sms"),
    pytest.param(MUL_LOGIN_URL, id="mul_login"),
    pytest.param(MOBILE_LOGIN_URL, id="mobile_login"),
    pytest.param(REGISTER_URL, id="mobile_register"),
    pytest.param(REFRESH_URL, id="token_refresh"),
    pytest.param(LOGOUT_URL, id="logout"),
    pytest.param(PASSWORD_URL, id="password"),
    pytest.param(PASSWORD_RESET_URL, id="password_reset"),
]
NEW_PASSWORD = "Brand-new-pass-2026"
# The fields each endpoint reads, with a well-formed value for each.
GOOD_DATA = {
    SEND_SMS_URL: {"mobile": "13712345678"},
    MUL_LOGIN_URL: {"username": "user0", "password": TEST_PASSWORD},
    MOBILE_LOGIN_URL: {"mobile": "13900000000", "code": "123456"},
    REGISTER_URL: {"mobile": "13712345678", "code": "123456", "password": TEST_PASSWORD},
    REFRESH_URL: {"refresh": "x"},
    LOGOUT_URL: {"refresh": "x"},
    PASSWORD_URL: {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    PASSWORD_RESET_URL: {"mobile": "13900000000", "code": "123456", "new_password": NEW_PASSWORD},
}
FIELD_CASES = [(url, field) for url, data in GOOD_DATA.items() for field in data]


@pytest.fixture
def api_client(registered_user) -> APIClient:
    """Logged in as the registered user, which the password change needs; the other endpoints
    are public and take the header in their stride."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(registered_user)}")
    return client


@pytest.fixture
def unchanged_db(db, registered_user, request_code):
    """A user and a live code for them exist; the test must leave both exactly as they were,
    and issue or revoke no token."""
    request_code(registered_user.mobile)

    def snapshot():
        return (
            list(User.objects.order_by("pk").values_list("pk", "password", "last_login")),
            list(SmsCode.objects.order_by("pk").values_list("pk", "attempts", "used_at")),
            OutstandingToken.objects.count(),
            BlacklistedToken.objects.count(),
        )

    before = snapshot()
    yield
    assert snapshot() == before


@pytest.mark.parametrize("url", POST_URLS)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param("{", id="truncated"),
        pytest.param("{'username': 'x'}", id="single-quotes"),
        pytest.param('{"a": 1} trailing', id="trailing-garbage"),
        pytest.param('{"username": NaN, "password": NaN}', id="nan"),
        pytest.param("null", id="null"),
        pytest.param("[]", id="empty-list"),
        pytest.param('[{"username": "user0"}]', id="list-of-object"),
        pytest.param("123", id="number"),
        pytest.param('"a string"', id="string"),
        pytest.param("true", id="true"),
        pytest.param("", id="empty-body"),
        pytest.param("{}", id="empty-object"),
        pytest.param(b'{"username": "\xff\xfe"}', id="invalid-utf8"),
    ],
)
def test_garbage_json_is_400(api_client, unchanged_db, url, body):
    response = api_client.post(url, body, content_type="application/json")
    assert_error(response, 400)


@pytest.mark.parametrize("url", POST_URLS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/octet-stream"]
)
def test_unsupported_media_type_is_415(api_client, unchanged_db, url, content_type):
    response = api_client.post(url, json.dumps(GOOD_DATA[url]), content_type=content_type)
    assert_error(response, 415)


@pytest.mark.parametrize(("url", "field"), FIELD_CASES)
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="null"),
        pytest.param(True, id="bool"),
        pytest.param(["13900000000"], id="list"),
        pytest.param({"value": "x"}, id="object"),
        pytest.param("", id="empty"),
        pytest.param("a\x00b", id="nul-char"),
        pytest.param("9" * 100_000, id="huge"),
    ],
)
def test_wrong_type_or_size_for_each_field_is_400(api_client, unchanged_db, url, field, value):
    data = {**GOOD_DATA[url], field: value}
    response = api_client.post(url, data, format="json")
    assert_error(response, 400, field=field)


@pytest.mark.parametrize(("url", "field"), FIELD_CASES)
def test_missing_field_is_400(api_client, unchanged_db, url, field):
    data = {k: v for k, v in GOOD_DATA[url].items() if k != field}
    assert_error(api_client.post(url, data, format="json"), 400, field=field)


@pytest.mark.parametrize("url", [MOBILE_URL])
@pytest.mark.parametrize(
    "query",
    [
        pytest.param("mobile", id="no-value"),
        pytest.param("mobile=%FF%FE", id="invalid-utf8"),
        pytest.param("mobile[]=13712345678", id="php-array"),
        pytest.param("mobile=1371234567%00", id="nul"),
        pytest.param("mobile=" + "1" * 50_000, id="huge"),
    ],
)
def test_bad_query_strings_are_400(api_client, unchanged_db, url, query):
    assert_error(api_client.get(f"{url}?{query}"), 400)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("application/x-www-form-urlencoded", "mobile=13712345678", id="form"),
        pytest.param("multipart/form-data; boundary=b", "--b--", id="multipart"),
        # What an HTML form on another site can send without asking (no CORS preflight).
        pytest.param("text/plain", '{"mobile": "13712345678"}', id="text-plain"),
    ],
)
def test_send_sms_takes_only_a_json_body(api_client, unchanged_db, content_type, body):
    response = api_client.post(SEND_SMS_URL, body, content_type=content_type)
    assert_error(response, 415)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(["13712345678"], id="list"),
        pytest.param({"mobile": ["13712345678"]}, id="list-value"),
        pytest.param({"mobile": None}, id="null"),
        pytest.param({"mobile": True}, id="bool"),
        pytest.param({"mobile": 13712345678.0}, id="float"),
    ],
)
def test_send_sms_bodies_of_the_wrong_shape_are_400(api_client, unchanged_db, body):
    assert_error(api_client.post(SEND_SMS_URL, body, format="json"), 400)


@pytest.mark.parametrize("url", POST_URLS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405(api_client, unchanged_db, url, method):
    assert_error(getattr(api_client, method)(url), 405)


def test_unknown_account_url_is_a_404_envelope(api_client):
    response = api_client.get("/api/v1/user/user/nope/")
    assert response.status_code == 404
    assert response.json()["code"] == 404


# --- Requests Django refuses before DRF parses them ------------------------------------------


def test_body_over_the_upload_limit_is_413(api_client, unchanged_db, settings):
    big = "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = json.dumps({"username": big, "password": "x"})
    response = api_client.post(MUL_LOGIN_URL, body, content_type="application/json")
    assert_error(response, 413)


def test_too_many_form_fields_is_400(api_client, unchanged_db, settings):
    form = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = api_client.post(
        MUL_LOGIN_URL, form, content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 400)


def test_absurdly_nested_json_is_400(api_client, unchanged_db):
    response = api_client.post(
        MUL_LOGIN_URL, "[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert_error(response, 400)
