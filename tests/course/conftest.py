"""Fixtures for the catalog tests."""

from __future__ import annotations

import MySQLdb
import pytest
from django.db import connection
from django.test import Client

from apps.course.search.accelerators import groonga
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


def _as_admin(statement: str) -> None:
    """Run a statement on a connection of its own: CREATE/DROP FUNCTION commits implicitly,
    which on the test's connection would commit the test's transaction."""
    options = connection.get_connection_params()
    admin = MySQLdb.connect(**{k: v for k, v in options.items() if k != "conv"})
    try:
        admin.cursor().execute(statement)
    finally:
        admin.close()


@pytest.fixture
def without_groonga(mroonga):
    """The server without the mroonga_command UDF (dropped for the test, created again after):
    searches take Mroonga's SQL path."""
    _as_admin(f"DROP FUNCTION IF EXISTS {groonga.UDF}")
    groonga.forget()
    yield
    _as_admin(groonga.CREATE_UDF)
    groonga.forget()


@pytest.fixture(params=["groonga", "sql", "off"])
def count_path(request, mroonga, settings) -> str:
    """Each test three times: with the UDF (Groonga's select counts and pages), without it (the
    other accelerators on Mroonga's SQL), and with the accelerators off (Mroonga's SQL alone)."""
    if request.param == "off":
        settings.SEARCH_ACCELERATORS = False
    elif request.param == "sql":
        request.getfixturevalue("without_groonga")
    elif not groonga.available():
        pytest.fail("the test server has no mroonga_command UDF (scripts/mariadb.sh creates it)")
    return request.param
