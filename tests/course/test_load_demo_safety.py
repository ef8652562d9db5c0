"""load_demo on a database that matters: refused with DEBUG off unless forced, and never
changes an existing account's password."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.course.management.commands.load_demo import DEMO_USER, STAFF_USER
from apps.course.models import Course

pytestmark = pytest.mark.django_db


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def test_with_debug_off_it_refuses_and_writes_nothing(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        load()

    assert Course.objects.count() == 0
    assert get_user_model().objects.count() == 0


def test_with_debug_off_force_runs_it(settings):
    settings.DEBUG = False
    load("--force")
    assert get_user_model().objects.filter(username=STAFF_USER["username"]).exists()


def test_with_debug_on_it_runs_without_force(settings):
    settings.DEBUG = True
    load()
    assert Course.objects.exists()


@pytest.mark.parametrize("spec", [DEMO_USER, STAFF_USER], ids=["demo", "staff"])
def test_an_existing_accounts_password_and_rights_are_left_alone(spec):
    load("--force")
    user = get_user_model().objects.get(username=spec["username"])
    user.set_password("Changed-by-its-owner-2026")
    user.is_superuser = False
    user.save()

    load("--force")

    user.refresh_from_db()
    assert user.check_password("Changed-by-its-owner-2026")
    assert not user.check_password(spec["password"])
    assert user.is_superuser is False


def test_a_missing_demo_account_is_created_again(settings):
    load("--force")
    get_user_model().objects.filter(username=DEMO_USER["username"]).delete()

    load("--force")

    user = get_user_model().objects.get(username=DEMO_USER["username"])
    assert user.check_password(DEMO_USER["password"])
    assert user.mobile == DEMO_USER["mobile"]
