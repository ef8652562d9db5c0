"""POST user/user/logout/ {refresh}: blacklists the refresh token and ends its session (its
access tokens are refused at once; other sessions stay); idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import TEST_PASSWORD

from .helpers import LOGOUT_URL, ME_URL, MUL_LOGIN_URL, REFRESH_URL, assert_error, assert_ok
from .test_token import _foreign_key_refresh, _tampered_refresh, _unsigned_refresh

pytestmark = pytest.mark.django_db


def logout(client: APIClient, token) -> object:
    return client.post(LOGOUT_URL, {"refresh": token}, format="json")


def login(client: APIClient, user) -> dict:
    data = {"username": user.username, "password": TEST_PASSWORD}
    return assert_ok(client.post(MUL_LOGIN_URL, data, format="json"))


def test_after_logout_the_refresh_token_mints_nothing(api_client, user):
    tokens = login(api_client, user)

    body = assert_ok(logout(api_client, tokens["refresh"]))

    assert body["msg"] == "已退出登录"
    assert_error(api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}), 401)


def test_logout_leaves_the_other_sessions_logged_in(api_client, user):
    phone = login(APIClient(), user)
    laptop = login(APIClient(), user)

    assert_ok(logout(api_client, phone["refresh"]))

    assert_ok(api_client.post(REFRESH_URL, {"refresh": laptop["refresh"]}, format="json"))


def test_logging_out_twice_is_still_a_success_and_blacklists_once(api_client, user):
    tokens = login(api_client, user)
    assert_ok(logout(api_client, tokens["refresh"]))

    body = assert_ok(logout(api_client, tokens["refresh"]))

    assert body["msg"] == "已退出登录(此前已退出)"
    assert BlacklistedToken.objects.count() == 1


def test_logout_works_with_an_expired_access_token_in_the_header(user):
    """Logging out is what a client does when it is done, whatever state its access token is in."""
    expired = RefreshToken.for_user(user).access_token
    expired.set_exp(lifetime=timedelta(seconds=-1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {expired}")
    assert_ok(logout(client, str(RefreshToken.for_user(user))))


def test_logout_with_a_rotated_refresh_token_is_already_done(api_client, user):
    old = login(api_client, user)["refresh"]
    assert_ok(api_client.post(REFRESH_URL, {"refresh": old}, format="json"))
    assert_ok(logout(api_client, old))


def _expired_refresh(user) -> str:
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-1))
    return str(token)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda u: "garbage", id="garbage"),
        pytest.param(lambda u: "a.b.c", id="three-garbage-parts"),
        pytest.param(lambda u: str(RefreshToken.for_user(u).access_token), id="access-token"),
        pytest.param(_expired_refresh, id="expired"),
        pytest.param(_foreign_key_refresh, id="foreign-key"),
        pytest.param(_unsigned_refresh, id="alg-none"),
        pytest.param(_tampered_refresh, id="tampered-payload"),
    ],
)
def test_logout_with_a_token_that_is_not_a_live_refresh_token_of_ours_is_401(
    api_client, user, make_token
):
    response = logout(api_client, make_token(user))
    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert BlacklistedToken.objects.count() == 0


def test_logout_does_not_need_the_access_token_and_still_ends_it(api_client, user):
    tokens = login(api_client, user)
    assert_ok(logout(APIClient(), tokens["refresh"]))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {tokens['token']}")
    # The refresh token names the session: its access token is refused, not left to expire.
    assert_error(client.get(ME_URL), 401)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {token}")
    return client


def test_after_logout_the_sessions_access_token_is_refused_at_once(api_client, user):
    tokens = login(api_client, user)
    assert_ok(bearer(tokens["token"]).get(ME_URL))

    assert_ok(logout(api_client, tokens["refresh"]))

    assert_error(bearer(tokens["token"]).get(ME_URL), 401)
    assert bearer(tokens["token"]).get("/api/v1/order/").status_code == 401


def test_logout_ends_every_token_of_the_session_through_its_refreshes(api_client, user):
    first = login(api_client, user)
    second = assert_ok(api_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json"))

    assert_ok(logout(api_client, second["refresh"]))

    for access in (first["token"], second["token"]):
        assert_error(bearer(access).get(ME_URL), 401)


def test_logout_leaves_the_other_sessions_access_tokens_working(api_client, user):
    phone = login(APIClient(), user)
    laptop = login(APIClient(), user)

    assert_ok(logout(api_client, phone["refresh"]))

    assert_ok(bearer(laptop["token"]).get(ME_URL))
    assert_error(bearer(phone["token"]).get(ME_URL), 401)


def test_an_ended_session_is_forgotten_once_its_access_tokens_have_expired(
    api_client, user, monkeypatch
):
    import time

    old = login(api_client, user)
    assert_ok(logout(api_client, old["refresh"]))
    later = time.time() + 20 * 60  # past ACCESS_TOKEN_LIFETIME (15 minutes) and its margin
    monkeypatch.setattr(time, "time", lambda: later)
    new = login(api_client, user)

    assert_ok(logout(api_client, new["refresh"]))

    user.refresh_from_db()
    assert list(user.ended_sessions) == [RefreshToken(new["refresh"], verify=False)["sid"]]
