"""Account limits under real concurrency and across processes (MariaDB): the password lockout
(admin and API) is counted in the database, and a refresh token is traded for new tokens at
most once."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection, connections
from django.db.models import Sum
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import TEST_PASSWORD, UserFactory

from .helpers import MUL_LOGIN_URL, REFRESH_URL

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]

LOGIN = "/admin/login/"
LIMIT = settings.AXES_FAILURE_LIMIT


def _database_url() -> str:
    db = connection.settings_dict  # the test database pytest-django created
    user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
    return f"mysql://{user}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _all_at_once(count: int, work) -> list:
    """Run `work(i)` on `count` threads released together, each with its own connection."""
    barrier = threading.Barrier(count)

    def task(i: int):
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def _admin_post(identifier: str, password: str, ip: str = "10.1.1.1") -> int:
    client = Client(REMOTE_ADDR=ip)
    data = {"username": identifier, "password": password, "next": "/admin/"}
    return client.post(LOGIN, data).status_code


def test_30_concurrent_admin_guesses_from_one_ip_get_at_most_the_limit_evaluated():
    staff = UserFactory(is_staff=True, is_superuser=True)

    answers = _all_at_once(30, lambda i: _admin_post(staff.mobile, f"wrong-{i}"))

    # Each checked password is one failure recorded; attempts refused while locked add none.
    evaluated = AccessAttempt.objects.aggregate(n=Sum("failures_since_start"))["n"]
    print(f"\n30 concurrent admin logins: {evaluated} evaluated, {answers.count(429)} refused")
    assert set(answers) <= {200, 429}, answers  # no 500 (MariaDB deadlocks without the gate)
    assert evaluated == LIMIT
    assert answers.count(200) == LIMIT - 1  # the attempt reaching the limit gets the lock page
    assert _admin_post(staff.mobile, TEST_PASSWORD, ip="10.1.1.1") == 429


def test_30_concurrent_api_guesses_at_one_account_from_30_addresses_get_the_limit_evaluated():
    """The API login shares the admin's lock per account, and its gate: simultaneous guesses
    from many addresses cannot all be checked against the same count."""
    staff = UserFactory(is_staff=True, is_superuser=True)

    def guess(i: int) -> int:
        client = APIClient(REMOTE_ADDR=f"198.51.100.{i + 1}")
        body = {"username": staff.mobile, "password": f"wrong-{i}"}
        return client.post(MUL_LOGIN_URL, body, format="json").status_code

    answers = _all_at_once(30, guess)

    evaluated = AccessAttempt.objects.aggregate(n=Sum("failures_since_start"))["n"]
    print(f"\n30 concurrent API logins, 30 addresses: {evaluated} evaluated")
    assert set(answers) <= {400, 429}, answers
    assert evaluated == LIMIT
    assert answers.count(400) == LIMIT - 1  # the attempt reaching the limit gets the 429
    assert _admin_post(staff.mobile, TEST_PASSWORD, ip="10.4.4.4") == 429


def test_failures_counted_by_another_process_lock_this_one_out():
    """Another worker process (a separate interpreter on the same database) makes the failures;
    this process is refused. Nothing lives in one process's memory."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        f"for i in range({LIMIT}):\n"
        "    Client(REMOTE_ADDR='10.2.2.2').post("
        f"'{LOGIN}', {{'username': '{staff.mobile}', 'password': f'wrong-{{i}}'}})\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "luffy_api.settings_test",  # the suite's, on this database
        "DATABASE_URL": _database_url(),
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    assert _admin_post(staff.mobile, TEST_PASSWORD, ip="10.3.3.3") == 429  # per account
    assert _admin_post("someone-else", "x", ip="10.2.2.2") == 429  # per IP


def test_one_refresh_token_sent_eight_times_at_once_is_traded_once():
    token = str(RefreshToken.for_user(UserFactory()))

    def trade(_: int) -> int:
        return APIClient().post(REFRESH_URL, {"refresh": token}, format="json").status_code

    answers = _all_at_once(8, trade)

    assert sorted(answers) == [200] + [401] * 7
