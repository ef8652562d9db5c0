"""The coupon endpoints: coupons to claim, claiming, redeeming, my coupons, the preview."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.coupon import services
from apps.coupon.models import Coupon, UserCoupon
from tests.factories import CourseFactory, UserFactory

from .factories import CouponFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper():
    return UserFactory()


@pytest.fixture
def client(shopper) -> APIClient:
    api = APIClient()
    api.force_authenticate(shopper)
    return api


def test_claimable_coupons_are_listed_and_filtered_by_course():
    course, other = CourseFactory.create_batch(2)
    everything = CouponFactory(name="全场")
    for_course = CouponFactory(name="本课", scope=Coupon.Scope.COURSES)
    for_course.courses.add(course)
    for_category = CouponFactory(name="本类", scope=Coupon.Scope.CATEGORIES)
    for_category.categories.add(other.course_category)
    CouponFactory(name="领完", total_stock=0)
    CouponFactory(name="兑换", obtain=Coupon.Obtain.CODE, code="C1")
    CouponFactory(name="过期", claim_ends_at=timezone.now() - timedelta(minutes=1))

    listed = APIClient().get("/api/v1/coupon/").json()
    for_one = APIClient().get(f"/api/v1/coupon/?course={course.pk}").json()

    assert {c["name"] for c in listed["results"]} == {"全场", "本课", "本类"}
    assert {c["name"] for c in for_one["results"]} == {"全场", "本课"}
    assert listed["results"][0]["stock_left"] == 100
    assert everything.pk in {c["id"] for c in for_one["results"]}
    assert APIClient().get("/api/v1/coupon/?course=abc").status_code == 400


def test_claim_answers_201_then_409_at_the_limit(client):
    coupon = CouponFactory()
    first = client.post(f"/api/v1/coupon/{coupon.pk}/claim/")
    again = client.post(f"/api/v1/coupon/{coupon.pk}/claim/")

    assert first.status_code == 201
    assert first.json()["coupon"]["status"] == "usable"
    assert again.status_code == 409
    assert again.json()["msg"] == "您已领取过该优惠券"
    assert client.post("/api/v1/coupon/99999999999999/claim/").status_code == 404
    assert APIClient().post(f"/api/v1/coupon/{coupon.pk}/claim/").status_code == 401


def test_redeem_a_code(client):
    CouponFactory(obtain=Coupon.Obtain.CODE, code="VIP8")
    assert client.post("/api/v1/coupon/redeem/", {"code": "vip8"}).status_code == 201
    wrong = client.post("/api/v1/coupon/redeem/", {"code": "NOPE"})
    assert wrong.status_code == 400
    assert wrong.json()["msg"].endswith("兑换码无效或已过期")


def test_my_coupons_by_status(client, shopper):
    usable = services.claim_coupon(shopper, coupon_id=CouponFactory().pk)
    used = services.claim_coupon(shopper, coupon_id=CouponFactory().pk)
    UserCoupon.objects.filter(pk=used.pk).update(status=UserCoupon.Status.USED)
    expired = services.claim_coupon(shopper, coupon_id=CouponFactory().pk)
    UserCoupon.objects.filter(pk=expired.pk).update(valid_until=timezone.now())
    services.claim_coupon(UserFactory(), coupon_id=CouponFactory().pk)  # not mine

    def ids(query: str) -> list[int]:
        return [c["id"] for c in client.get(f"/api/v1/user/coupons/{query}").json()["results"]]

    assert ids("") == ids("?status=usable") == [usable.pk]
    assert ids("?status=used") == [used.pk]
    assert ids("?status=expired") == [expired.pk]
    assert client.get("/api/v1/user/coupons/?status=lost").status_code == 400


def preview(client, courses, coupon=None):
    body = {"courses": [c.pk for c in courses]}
    if coupon is not None:
        body["coupon"] = coupon
    return client.post("/api/v1/order/preview/", body, format="json")


def test_preview_lists_the_coupons_that_apply_with_the_best_marked(client, shopper):
    python = CourseFactory(price=Decimal("199.00"))
    linux = CourseFactory(price=Decimal("100.00"))
    ten = services.claim_coupon(shopper, coupon_id=CouponFactory(amount=Decimal("10.00")).pk)
    thirty = services.claim_coupon(
        shopper,
        coupon_id=CouponFactory(
            kind=Coupon.Kind.THRESHOLD, amount=Decimal("30.00"), min_spend=Decimal("299.00")
        ).pk,
    )
    only_linux = CouponFactory(scope=Coupon.Scope.COURSES, amount=Decimal("50.00"))
    only_linux.courses.add(linux)
    services.claim_coupon(shopper, coupon_id=only_linux.pk)
    both = [python, linux]

    answer = preview(client, [python]).json()
    assert [(c["coupon"]["id"], c["discount"], c["best"]) for c in answer["coupons"]] == [
        (ten.pk, "10.00", True)
    ]
    assert (answer["subtotal"], answer["discount"], answer["total_amount"]) == (
        "199.00",
        "0.00",
        "199.00",
    )

    answer = preview(client, both, thirty.pk).json()
    offers = [(c["discount"], c["best"]) for c in answer["coupons"]]
    assert offers == [("50.00", True), ("30.00", False), ("10.00", False)]
    assert [line["discount"] for line in answer["lines"]] == ["19.97", "10.03"]
    assert [line["pay_amount"] for line in answer["lines"]] == ["179.03", "89.97"]
    assert (answer["coupon"], answer["discount"], answer["total_amount"]) == (
        thirty.pk,
        "30.00",
        "269.00",
    )


def test_preview_refuses_someone_elses_expired_or_inapplicable_coupons(client, shopper):
    course = CourseFactory(price=Decimal("99.00"))
    someone_elses = services.claim_coupon(UserFactory(), coupon_id=CouponFactory().pk)
    expired = services.claim_coupon(shopper, coupon_id=CouponFactory().pk)
    UserCoupon.objects.filter(pk=expired.pk).update(valid_until=timezone.now())
    other_course = CouponFactory(scope=Coupon.Scope.COURSES)
    other_course.courses.add(CourseFactory())
    inapplicable = services.claim_coupon(shopper, coupon_id=other_course.pk)

    assert preview(client, [course], someone_elses.pk).status_code == 404
    for held, msg in ((expired, "优惠券已过期"), (inapplicable, "该优惠券不适用于所选课程")):
        answer = preview(client, [course], held.pk)
        assert answer.status_code == 400
        assert answer.json()["msg"].endswith(msg)
    assert preview(client, [course, course]).status_code == 400
    missing = client.post("/api/v1/order/preview/", {"courses": [99999]}, format="json")
    assert missing.status_code == 400
