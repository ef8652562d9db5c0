"""The password logins (admin and API) lock after repeated failures: per account on both, shared,
whatever the address; per client address (IPv6: per /64) on the admin (django-axes, counted in
the database), whichever identifier names the account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.user.models import LoginGate
from tests.factories import TEST_PASSWORD, UserFactory

from .helpers import MUL_LOGIN_URL, assert_error, assert_ok

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


def api_login(identifier: str, password: str, ip: str):
    return APIClient(REMOTE_ADDR=ip).post(
        MUL_LOGIN_URL, {"username": identifier, "password": password}, format="json"
    )


def test_api_guesses_from_many_addresses_lock_the_account_on_the_admin_too(staff):
    """Before: the API counted per address only, so a staff password could be guessed from
    many addresses there and then used once on the admin."""
    answers = [
        api_login(staff.mobile, f"wrong-{i}", ip=f"198.51.100.{i}").status_code
        for i in range(LIMIT + 5)
    ]

    assert answers == [400] * (LIMIT - 1) + [429] * 6  # the attempt reaching the limit: 429
    right_on_api = api_login(staff.username, TEST_PASSWORD, ip="203.0.113.9")
    body = assert_error(right_on_api, 429)
    assert LOCK_MESSAGE in body["msg"]
    assert body["wait"] == settings.AXES_COOLOFF_TIME.total_seconds()
    assert locked(admin_login(staff.email, TEST_PASSWORD, ip="203.0.113.10"))
    # Refused attempts were not checked: the count stayed at the limit.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == LIMIT


def test_admin_failures_lock_the_api_login_with_the_same_429(staff):
    for i in range(LIMIT):
        admin_login(staff.username, f"wrong-{i}", ip=f"10.9.0.{i}")

    response = api_login(staff.mobile, TEST_PASSWORD, ip="203.0.113.9")

    body = assert_error(response, 429)
    assert LOCK_MESSAGE in body["msg"]
    assert "token" not in body


def test_shoppers_sharing_an_address_do_not_lock_each_other_out_of_the_api(staff, forget_throttles):
    """The API locks accounts, not addresses: its throttle is what limits one address."""
    for i in range(LIMIT):
        api_login(f"someone-{i}", "wrong", ip="10.8.8.8")
        forget_throttles()  # past the API's own per-address throttle

    assert_ok(api_login(staff.mobile, TEST_PASSWORD, ip="10.8.8.8"))


def test_a_right_api_password_under_the_limit_clears_the_accounts_count(staff):
    for i in range(LIMIT - 1):
        api_login(staff.mobile, f"wrong-{i}", ip=f"198.51.100.{i}")

    assert_ok(api_login(staff.mobile, TEST_PASSWORD, ip="198.51.100.200"))

    assert not AccessAttempt.objects.filter(username=staff.username).exists()
    assert api_login(staff.mobile, "wrong-again", ip="198.51.100.201").status_code == 400


def test_an_ipv6_client_is_locked_out_of_the_admin_for_its_whole_64(staff):
    for i in range(LIMIT):
        admin_login(f"nobody-{i}", "wrong", ip=f"2001:db8:7:7::{i + 1:x}")

    assert locked(admin_login(staff.username, TEST_PASSWORD, ip="2001:db8:7:7:ffff::1"))
    assert logged_in(admin_login(staff.username, TEST_PASSWORD, ip="2001:db8:7:8::1"))


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
