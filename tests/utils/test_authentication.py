"""The JWT check reads the token's user once and refuses as simplejwt does."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import AccessToken

from apps.user.models import User
from tests.conftest import access_token
from tests.user.helpers import ME_URL, assert_error, assert_ok
from utils.authentication import LuffyJWTAuthentication


@pytest.mark.django_db
def test_authenticating_a_request_reads_the_user_in_one_statement(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(user)}")
    with CaptureQueriesContext(connection) as captured:
        assert_ok(client.get(ME_URL))
    reads = [q["sql"] for q in captured.captured_queries if "luffy_user" in q["sql"]]
    assert len(reads) == 1, reads


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda u: User.objects.filter(pk=u.pk).delete(), id="deleted"),
        pytest.param(lambda u: User.objects.filter(pk=u.pk).update(is_active=False), id="inactive"),
        pytest.param(
            lambda u: (u.set_password("Another-pass-2026"), u.save()), id="password-changed"
        ),
    ],
)
def test_a_refused_token_gets_simplejwts_own_error(user, spoil):
    token = AccessToken(access_token(user))
    spoil(user)

    def refusal(auth) -> tuple[type, str, list]:
        with pytest.raises(Exception) as caught:
            auth.get_user(token)
        return type(caught.value), str(caught.value.detail), caught.value.get_codes()

    assert refusal(LuffyJWTAuthentication()) == refusal(JWTAuthentication())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {token}")
    assert_error(client.get(ME_URL), 401)


@pytest.mark.django_db
def test_a_token_without_a_user_claim_gets_simplejwts_own_error(user):
    token = AccessToken(access_token(user))
    del token.payload["user_id"]

    def refusal(auth) -> tuple[type, str]:
        with pytest.raises(Exception) as caught:
            auth.get_user(token)
        return type(caught.value), str(caught.value.detail)

    assert refusal(LuffyJWTAuthentication()) == refusal(JWTAuthentication())


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["jwt", "Bearer", "JWT"])
def test_every_header_prefix_still_authenticates(user, prefix):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{prefix} {access_token(user)}")
    assert_ok(client.get(ME_URL))
