"""GET user/user/me/ and JWT authentication: `Bearer` and `jwt` headers, forged tokens."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.conftest import access_token
from tests.factories import UserFactory

from .helpers import DEFAULT_ICON_URL, ME_URL, PROFILE_KEYS, assert_error, assert_ok


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.mark.django_db
def test_me_returns_the_profile(auth_client, user):
    UserFactory()
    body = assert_ok(auth_client.get(ME_URL))
    assert set(body) == {"code", "msg", "result"}
    result = body["result"]
    assert set(result) == PROFILE_KEYS
    assert result["id"] == user.pk
    assert result["username"] == user.username
    assert result["mobile"] == user.mobile
    assert result["email"] == user.email
    assert result["icon"] == DEFAULT_ICON_URL
    assert parse_datetime(result["date_joined"]) == user.date_joined


@pytest.mark.django_db
def test_me_for_a_staff_account_without_mobile(api_client):
    staff = UserFactory(mobile=None, is_staff=True)
    result = assert_ok(client_with(f"jwt {access_token(staff)}").get(ME_URL))["result"]
    assert result["mobile"] is None
    assert "password" not in result and "is_staff" not in result


@pytest.mark.django_db
def test_me_without_a_token_is_401(api_client):
    response = api_client.get(ME_URL)
    assert_error(response, 401)
    assert response.has_header("WWW-Authenticate")


@pytest.mark.django_db
@pytest.mark.parametrize("keyword", ["Bearer", "jwt", "JWT"])
def test_both_header_styles_authenticate(user, keyword):
    body = assert_ok(client_with(f"{keyword} {access_token(user)}").get(ME_URL))
    assert body["result"]["id"] == user.pk


def _expired(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-1))
    return str(token)


def _foreign_key(user) -> str:
    return jwt.encode(AccessToken.for_user(user).payload, "another-key-" * 4, algorithm="HS256")


def _unsigned(user) -> str:
    return jwt.encode(AccessToken.for_user(user).payload, None, algorithm="none")


def _other_users_payload_with_my_signature(user) -> str:
    header, _, signature = access_token(user).split(".")
    other = UserFactory()
    payload = {**AccessToken.for_user(user).payload, "user_id": str(other.pk)}
    body = jwt.encode(payload, settings.SECRET_KEY, algorithm="HS256").split(".")[1]
    return f"{header}.{body}.{signature}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda u: f"jwt {_expired(u)}", id="expired"),
        pytest.param(lambda u: f"Bearer {_foreign_key(u)}", id="signed-with-another-key"),
        pytest.param(lambda u: f"Bearer {_unsigned(u)}", id="alg-none"),
        pytest.param(
            lambda u: f"jwt {_other_users_payload_with_my_signature(u)}", id="tampered-payload"
        ),
        pytest.param(lambda u: f"jwt {RefreshToken.for_user(u)}", id="refresh-token"),
        pytest.param(lambda u: "jwt garbage", id="garbage"),
        pytest.param(lambda u: "jwt " + "x" * 10_000, id="huge"),
        pytest.param(lambda u: f"Token {access_token(u)}", id="unknown-keyword"),
        pytest.param(lambda u: access_token(u), id="no-keyword"),
        pytest.param(lambda u: "jwt", id="keyword-only"),
        pytest.param(lambda u: f"jwt {access_token(u)} extra", id="extra-part"),
    ],
)
def test_forged_or_malformed_tokens_are_401(user, make_header):
    body = assert_error(client_with(make_header(user)).get(ME_URL), 401)
    assert "result" not in body


@pytest.mark.django_db
def test_token_of_a_deactivated_account_is_401(user):
    client = client_with(f"jwt {access_token(user)}")
    assert_ok(client.get(ME_URL))
    user.is_active = False
    user.save()
    assert_error(client.get(ME_URL), 401)


@pytest.mark.django_db
def test_token_of_a_deleted_account_is_401(user):
    client = client_with(f"jwt {access_token(user)}")
    user.delete()
    assert_error(client.get(ME_URL), 401)


@pytest.mark.django_db
def test_me_only_answers_get(auth_client):
    assert_error(auth_client.post(ME_URL, {}, format="json"), 405)
    assert_error(auth_client.delete(ME_URL), 405)
