"""Fixtures shared by every test module."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; no test may inherit another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


def access_token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def auth_client(user) -> APIClient:
    """A client logged in as `user` the way the Vue app does it: `Authorization: jwt <token>`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(user)}")
    return client
