"""The Django admin for accounts and SMS codes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from apps.user.models import SmsCode, User
from tests.factories import TEST_PASSWORD, UserFactory

USER_LIST = "/admin/user/user/"
USER_ADD = "/admin/user/user/add/"
SMS_LIST = "/admin/user/smscode/"
SMS_ADD = "/admin/user/smscode/add/"
LOGIN = "/admin/login/"


@pytest.fixture
def sms_row(db) -> SmsCode:
    return SmsCode.objects.create(
        mobile="13712345678", code_hash="0" * 64, expires_at=timezone.now()
    )


@pytest.fixture
def viewer_client(db) -> Client:
    """Staff (not superuser) allowed only to view users and SMS codes."""
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="user", codename__in=["view_user", "view_smscode"]
        )
    )
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("url", [USER_LIST, SMS_LIST, USER_ADD])
def test_superuser_opens_the_account_pages(admin_client, url, sms_row):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_user_list_shows_and_searches_accounts(admin_client, user):
    other = UserFactory()
    response = admin_client.get(USER_LIST, {"q": user.mobile})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [user]
    assert other.username not in response.content.decode()


@pytest.mark.django_db
def test_sms_code_list_shows_rows_but_never_the_code(admin_client, sms_row):
    response = admin_client.get(SMS_LIST)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [sms_row]
    assert sms_row.code_hash not in response.content.decode()


@pytest.mark.django_db
def test_user_change_page_has_the_luffy_fields(admin_client, user):
    response = admin_client.get(f"/admin/user/user/{user.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert {"mobile", "icon"} <= set(form.fields)


@pytest.mark.django_db
def test_sms_codes_cannot_be_added_or_edited(admin_client, sms_row):
    assert admin_client.get(SMS_ADD).status_code == 403
    response = admin_client.post(
        f"/admin/user/smscode/{sms_row.pk}/change/", {"mobile": "13600000000", "attempts": 0}
    )
    assert response.status_code == 403
    sms_row.refresh_from_db()
    assert sms_row.mobile == "13712345678"


@pytest.mark.django_db
@pytest.mark.parametrize("url", [USER_LIST, SMS_LIST])
def test_staff_with_view_permission_opens_the_lists(viewer_client, url, sms_row):
    assert viewer_client.get(url).status_code == 200


@pytest.mark.django_db
def test_staff_without_permission_is_forbidden(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    assert client.get(USER_LIST).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", [USER_LIST, SMS_LIST])
@pytest.mark.parametrize("logged_in", [True, False], ids=["non-staff", "anonymous"])
def test_non_staff_is_sent_to_the_login_page(user, url, logged_in):
    client = Client()
    if logged_in:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={url}"


@pytest.mark.django_db
def test_admin_add_user_needs_no_mobile(admin_client):
    for name in ("staff-a", "staff-b"):
        response = admin_client.post(
            USER_ADD,
            {
                "username": name,
                "mobile": "",
                "password1": TEST_PASSWORD,
                "password2": TEST_PASSWORD,
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(
        User.objects.filter(username__startswith="staff-").values_list("mobile", flat=True)
    ) == [
        None,
        None,
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("mobile", ["12345678901", "13８１２３４５６７８"])
def test_admin_add_user_rejects_an_invalid_mobile(admin_client, mobile):
    response = admin_client.post(
        USER_ADD,
        {
            "username": "someone",
            "mobile": mobile,
            "password1": TEST_PASSWORD,
            "password2": TEST_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "mobile" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="someone").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("identifier", ["username", "mobile", "email"])
def test_staff_logs_into_the_admin_with_any_identifier(identifier):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    response = client.post(
        LOGIN,
        {"username": getattr(staff, identifier), "password": TEST_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(USER_LIST).status_code == 200
