"""Fixtures for the catalog tests."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from apps.course.search.mroonga import PENDING, TABLE, engine_available
from tests.factories import UserFactory


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def mroonga(settings):
    """Searches go through the Mroonga backend, its index and pending marks empty (Mroonga
    cannot roll back: rows earlier tests wrote would stay). Skips off MariaDB or without the
    engine; fails when TEST_SEARCH_BACKEND=mroonga promised one."""
    if connection.vendor != "mysql":
        pytest.skip("needs MariaDB/MySQL with Mroonga (make test runs it)")
    with connection.cursor() as cursor:
        if not engine_available(cursor):
            if settings.SEARCH_BACKEND == "mroonga":
                pytest.fail("TEST_SEARCH_BACKEND=mroonga but the server has no Mroonga engine")
            pytest.skip("this MariaDB has no Mroonga engine (mariadb-plugin-mroonga)")
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - constants
        cursor.execute(f"DELETE FROM {PENDING}")  # noqa: S608 - constants
    settings.SEARCH_BACKEND = "mroonga"
