"""Fixtures shared by every test module."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory

pytest_plugins = [
    "tests.support.seed",  # --seed: one seed for every random draw, printed for reruns
    "tests.support.media",  # the fake_qiniu fixture
    "tests.support.cashier",  # local_cashier: the shop paying through apps/cashier
]


def _uses_database(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "django_db_setup"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest):
    """Catalog versions and the like live in the (database) cache; no test may inherit them."""
    if not _uses_database(request):
        yield
        return
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


def pytest_collection_modifyitems(config, items) -> None:
    """Tests of row locks and real concurrency need MariaDB/MySQL; SQLite runs skip them."""
    from django.db import connection

    if connection.vendor == "mysql":
        return
    skip = pytest.mark.skip(reason="needs MariaDB/MySQL (make test runs it)")
    for item in items:
        if "mysql_only" in item.keywords:
            item.add_marker(skip)
