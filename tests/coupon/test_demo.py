"""load_demo's claimable coupon: on the demo's paid courses, claimable after every run, kept
with its claims on a rerun."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.coupon.models import Coupon
from apps.course.management.commands.load_demo import COURSES, DEMO_COUPON
from apps.course.models import Course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _load() -> None:
    call_command("load_demo", "--force", stdout=StringIO())  # the suite runs with DEBUG off


def test_the_demo_coupon_is_claimable_on_each_paid_course_and_no_free_one():
    _load()
    api = APIClient()
    [listed] = api.get("/api/v1/coupon/").json()["results"]
    assert listed["name"] == DEMO_COUPON
    paid = [row[0] for row in COURSES if row[4] != "0"]
    free = [row[0] for row in COURSES if row[4] == "0"]
    for name in paid + free:
        course = Course.objects.get(name=name)
        shown = api.get("/api/v1/coupon/", {"course": course.pk}).json()["results"]
        assert [c["id"] for c in shown] == ([listed["id"]] if name in paid else []), name


def test_a_rerun_keeps_the_coupon_and_its_claims_and_reopens_the_claim_window():
    _load()
    coupon = Coupon.objects.get(name=DEMO_COUPON)
    shopper = APIClient()
    shopper.force_authenticate(UserFactory())
    assert shopper.post(f"/api/v1/coupon/{coupon.pk}/claim/").status_code == 201
    Coupon.objects.filter(pk=coupon.pk).update(is_active=False)

    _load()

    [again] = Coupon.objects.filter(name=DEMO_COUPON)
    assert (again.pk, again.issued, again.is_active) == (coupon.pk, 1, True)
    assert again.claim_ends_at >= coupon.claim_ends_at
