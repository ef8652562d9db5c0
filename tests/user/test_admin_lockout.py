"""The admin login is locked after repeated failures, per client IP and per account
(django-axes, counted in the database), whichever identifier names the account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from apps.user.models import LoginGate
from tests.factories import TEST_PASSWORD, UserFactory

from .helpers import MUL_LOGIN_URL, assert_ok

LOGIN = "/admin/login/"
LIMIT = settings.AXES_FAILURE_LIMIT
LOCK_MESSAGE = "登录失败次数过多"

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


def admin_login(identifier: str, password: str, ip: str = "10.0.0.1") -> object:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": identifier, "password": password, "next": "/admin/"})
    response.client_used = client
    return response


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def locked(response) -> bool:
    return response.status_code == 429 and LOCK_MESSAGE in response.content.decode()


def test_24_wrong_passwords_for_the_staff_mobile_lock_the_right_one_out(staff):
    answers = [admin_login(staff.mobile, f"wrong-{i}").status_code for i in range(24)]

    assert answers[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, "please correct"
    assert answers[LIMIT - 1 :] == [429] * (24 - LIMIT + 1)
    response = admin_login(staff.mobile, TEST_PASSWORD)
    assert locked(response)
    assert "_auth_user_id" not in response.client_used.session


def test_the_lockout_page_says_why_and_for_how_long_in_chinese(staff):
    for i in range(LIMIT):
        response = admin_login(staff.username, f"wrong-{i}")
    assert locked(response)
    body = response.content.decode()
    assert f"{settings.AXES_COOLOFF_TIME.seconds // 60} 分钟后再试" in body
    assert response["Content-Type"].startswith("text/html")


def test_failures_with_the_mobile_lock_the_account_for_its_email_and_username_too(staff):
    for i in range(LIMIT):
        admin_login(staff.mobile, f"wrong-{i}", ip=f"10.0.1.{i}")  # a new IP each time

    assert locked(admin_login(staff.email, TEST_PASSWORD, ip="10.0.2.1"))
    assert locked(admin_login(staff.username, TEST_PASSWORD, ip="10.0.2.2"))


def test_failures_from_one_ip_lock_that_ip_for_every_account(staff):
    for i in range(LIMIT):
        admin_login(f"nobody-{i}", "wrong")  # a different made-up account each time

    assert locked(admin_login(staff.username, TEST_PASSWORD))


def test_another_ip_and_another_account_are_not_blocked(staff):
    other = UserFactory(is_staff=True, is_superuser=True)
    for i in range(LIMIT + 5):
        admin_login(staff.mobile, f"wrong-{i}")

    assert logged_in(admin_login(other.mobile, TEST_PASSWORD, ip="10.9.9.9"))


def test_the_lock_expires_after_the_cool_off(staff):
    for i in range(LIMIT):
        admin_login(staff.mobile, f"wrong-{i}")
    assert locked(admin_login(staff.mobile, TEST_PASSWORD))

    # Stand-in for waiting: the failures become as old as the cool-off.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert logged_in(admin_login(staff.mobile, TEST_PASSWORD))


def test_attempts_during_a_lockout_store_nothing_more(staff):
    for i in range(LIMIT):
        admin_login(staff.mobile, f"wrong-{i}")
    before = list(AccessAttempt.objects.values_list("failures_since_start", "post_data"))

    for i in range(20):
        admin_login(staff.mobile, f"again-{i}")

    assert list(AccessAttempt.objects.values_list("failures_since_start", "post_data")) == before


def test_a_right_password_under_the_limit_logs_in_and_clears_the_count(staff):
    for i in range(LIMIT - 1):
        admin_login(staff.mobile, f"wrong-{i}")
    assert logged_in(admin_login(staff.mobile, TEST_PASSWORD))

    for i in range(LIMIT - 1):
        admin_login(staff.mobile, f"wrong-again-{i}")
    assert logged_in(admin_login(staff.mobile, TEST_PASSWORD))


def test_the_stored_attempt_never_holds_the_password(staff):
    admin_login(staff.mobile, "a-secret-guess")
    attempt = AccessAttempt.objects.get()
    assert "a-secret-guess" not in attempt.post_data
    assert attempt.username == staff.username  # the account, not the identifier typed


def test_api_login_still_works_with_the_lockout_backend_first(api_client, staff):
    assert settings.AUTHENTICATION_BACKENDS[0] == "apps.user.backends.LoginLockoutBackend"
    body = assert_ok(
        api_client.post(
            MUL_LOGIN_URL, {"username": staff.mobile, "password": TEST_PASSWORD}, format="json"
        )
    )
    assert body["username"] == staff.username


def test_failed_api_logins_count_nothing_towards_the_admin_lock(api_client, staff):
    """The API has its own throttles; its guesses must not lock the staff out of the admin."""
    for i in range(LIMIT + 2):
        api_client.post(
            MUL_LOGIN_URL, {"username": staff.mobile, "password": f"wrong-{i}"}, format="json"
        )
        cache.clear()  # past the API's own per-IP throttle

    assert AccessAttempt.objects.count() == 0
    assert logged_in(admin_login(staff.mobile, TEST_PASSWORD, ip="127.0.0.1"))


def test_api_login_is_not_turned_into_the_admin_lockout_page(api_client, staff):
    """The admin lock is the admin's: the API keeps its envelope (and its own throttles)."""
    for i in range(LIMIT):
        admin_login(staff.mobile, f"wrong-{i}", ip="127.0.0.1")

    response = api_client.post(
        MUL_LOGIN_URL, {"username": staff.mobile, "password": TEST_PASSWORD}, format="json"
    )
    assert_ok(response)


def test_gate_rows_of_clients_gone_quiet_for_a_cool_off_are_dropped(staff):
    admin_login(staff.mobile, "wrong", ip="10.5.5.5")
    assert set(LoginGate.objects.values_list("key", flat=True)) == {
        "ip:10.5.5.5",
        f"account:{staff.username}",
    }
    LoginGate.objects.update(
        touched_at=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    admin_login("nobody", "wrong", ip="10.6.6.6")

    assert set(LoginGate.objects.values_list("key", flat=True)) == {
        "ip:10.6.6.6",
        "account:nobody",
    }


def test_authenticating_without_a_request_skips_the_lock_instead_of_crashing(staff):
    """The test client's login() and shell scripts have no request; axes alone would raise."""
    for i in range(LIMIT):
        admin_login(staff.mobile, f"wrong-{i}")

    assert authenticate(username=staff.mobile, password=TEST_PASSWORD) == staff


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    "path",
    ["admin:login", "/admin/login", "/admin/logout/", "/api/v1/order/pay/", "/xadmin/login/"],
)
def test_only_a_post_to_the_admins_login_path_is_gated(rf, method, path):
    """is_admin_login_post looks at the path's end before calling reverse(): the same answer
    as comparing with reverse("admin:login") alone."""
    from django.urls import reverse

    from apps.user.lockout import is_admin_login_post

    path = reverse(path) if ":" in path else path
    request = rf.generic(method, path)
    expected = method == "POST" and path == reverse("admin:login")
    assert is_admin_login_post(request) is expected
    assert expected is (method == "POST" and path == "/admin/login/")
