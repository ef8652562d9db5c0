"""POST user/token/refresh/ {refresh} → a new access token and a new refresh token; the one
sent is blacklisted (rotation), and tokens die with a password change."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.conftest import access_token
from tests.factories import UserFactory

from .helpers import ME_URL, REFRESH_URL, assert_error, assert_ok


def refresh(client: APIClient, token) -> object:
    return client.post(REFRESH_URL, {"refresh": token}, format="json")


@pytest.mark.django_db
def test_refresh_gives_a_working_access_token(api_client, user):
    other = UserFactory()
    body = assert_ok(refresh(api_client, str(RefreshToken.for_user(user))))
    assert set(body) == {"code", "msg", "token", "refresh"}
    assert body["msg"] == "刷新成功"

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {body['token']}")
    result = assert_ok(client.get(ME_URL))["result"]
    assert result["id"] == user.pk != other.pk


@pytest.mark.django_db
def test_refresh_ignores_a_stale_authorization_header(user):
    """Refreshing is what a client does when its access token has expired."""
    expired = RefreshToken.for_user(user).access_token
    expired.set_exp(lifetime=timedelta(seconds=-1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {expired}")
    assert_ok(refresh(client, str(RefreshToken.for_user(user))))


def _expired_refresh(user) -> str:
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-1))
    return str(token)


def _foreign_key_refresh(user) -> str:
    payload = RefreshToken.for_user(user).payload
    return jwt.encode(payload, "not-our-signing-key-" * 3, algorithm="HS256")


def _unsigned_refresh(user) -> str:
    return jwt.encode(RefreshToken.for_user(user).payload, None, algorithm="none")


def _tampered_refresh(user) -> str:
    """The user's own signature over a payload edited to name another account."""
    header, _, signature = str(RefreshToken.for_user(user)).split(".")
    payload = {**RefreshToken.for_user(user).payload, "user_id": str(UserFactory().pk)}
    forged_body = jwt.encode(payload, settings.SECRET_KEY, algorithm="HS256").split(".")[1]
    return f"{header}.{forged_body}.{signature}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda u: "garbage", id="garbage"),
        pytest.param(lambda u: "a.b.c", id="three-garbage-parts"),
        pytest.param(lambda u: access_token(u), id="access-token-instead"),
        pytest.param(_expired_refresh, id="expired"),
        pytest.param(_foreign_key_refresh, id="foreign-key"),
        pytest.param(_unsigned_refresh, id="alg-none"),
        pytest.param(_tampered_refresh, id="tampered-payload"),
        pytest.param(lambda u: 12345, id="a-number"),
    ],
)
def test_refresh_with_a_bad_token_is_401(api_client, user, make_token):
    response = refresh(api_client, make_token(user))
    body = assert_error(response, 401)
    assert "token" not in body
    assert response["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.django_db
def test_refresh_for_an_inactive_account_is_401(api_client, user):
    token = str(RefreshToken.for_user(user))
    user.is_active = False
    user.save()
    assert_error(refresh(api_client, token), 401)


@pytest.mark.django_db
def test_refresh_for_a_deleted_account_is_401(api_client, user):
    token = str(RefreshToken.for_user(user))
    user.delete()
    assert_error(refresh(api_client, token), 401)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="missing"),
        pytest.param({"refresh": ""}, id="empty"),
        pytest.param({"refresh": None}, id="null"),
        pytest.param({"refresh": ["x"]}, id="list"),
        pytest.param({"refresh": {"x": 1}}, id="object"),
        pytest.param({"refresh": "x" * 5000}, id="huge"),
    ],
)
def test_refresh_without_a_usable_value_is_400(api_client, data):
    assert_error(api_client.post(REFRESH_URL, data, format="json"), 400, field="refresh")


@pytest.mark.django_db
def test_refresh_only_accepts_post(api_client, user):
    response = api_client.get(REFRESH_URL, {"refresh": str(RefreshToken.for_user(user))})
    assert_error(response, 405)


@pytest.mark.django_db
def test_a_refresh_token_works_once_and_its_successor_works_next(api_client, user):
    first = str(RefreshToken.for_user(user))
    second = assert_ok(refresh(api_client, first))["refresh"]

    assert second != first
    assert_error(refresh(api_client, first), 401)  # rotated: blacklisted
    third = assert_ok(refresh(api_client, second))["refresh"]
    assert_error(refresh(api_client, second), 401)
    assert_ok(refresh(api_client, third))


@pytest.mark.django_db
def test_a_rotated_refresh_token_is_refused_even_after_its_successor_was_used(api_client, user):
    """A thief replaying the old token gets nothing, whatever the owner did since."""
    stolen = str(RefreshToken.for_user(user))
    assert_ok(refresh(api_client, stolen))
    body = assert_error(refresh(api_client, stolen), 401)
    assert "token" not in body and "refresh" not in body


@pytest.mark.django_db
def test_refresh_token_issued_before_a_password_change_is_refused(api_client, user):
    old = str(RefreshToken.for_user(user))
    user.set_password("Another-pass-2026")
    user.save()

    body = assert_error(refresh(api_client, old), 401)
    assert body["msg"] == "密码已修改,请重新登录"


@pytest.mark.django_db
def test_access_token_issued_before_set_password_is_refused(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(user)}")
    assert_ok(client.get(ME_URL))

    user.set_password("Another-pass-2026")
    user.save()

    assert_error(client.get(ME_URL), 401)


@pytest.mark.django_db
def test_access_tokens_are_short_lived_by_default(user):
    refresh = RefreshToken.for_user(user)
    token = refresh.access_token
    # From the refresh token's time, which the access token's expiry is counted from: its own
    # `iat` is taken a moment later and read 899 s when a second began in between (issue 28).
    lifetime = token["exp"] - refresh["iat"]
    assert lifetime == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() == 15 * 60
