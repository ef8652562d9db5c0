"""Batches of single-use redeem codes: staff make them (admin page or command) and export them
as CSV; each code is unguessable, unique, and redeemed by one shopper once."""

from __future__ import annotations

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.test import APIClient

from apps.coupon import services
from apps.coupon.models import CodeBatch, Coupon, CouponCode, UserCoupon
from tests.factories import UserFactory
from utils.exceptions import Conflict

from .factories import CouponFactory

pytestmark = pytest.mark.django_db


def _batch_coupon(**fields) -> Coupon:
    return CouponFactory(obtain=Coupon.Obtain.BATCH, **fields)


def _client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_a_batch_holds_n_unique_codes_of_16_unambiguous_characters():
    batch = services.create_code_batch(_batch_coupon(total_stock=200).pk, size=200)

    codes = list(batch.codes.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 200
    assert all(len(c) == 16 and set(c) <= set(services.CODE_ALPHABET) for c in codes)
    assert not set("01OI") & set("".join(codes))


def test_each_code_is_redeemed_once_by_post_redeem():
    coupon = _batch_coupon()
    code = services.create_code_batch(coupon.pk, size=2).codes.first()
    first, second = UserFactory(), UserFactory()

    answer = _client(first).post("/api/v1/coupon/redeem/", {"code": f" {code.code.lower()} "})
    again = _client(second).post("/api/v1/coupon/redeem/", {"code": code.code})

    assert answer.status_code == 201
    assert answer.json()["coupon"]["coupon"]["id"] == coupon.pk
    assert again.status_code == 409
    assert again.json()["msg"] == "兑换码已被使用"
    code.refresh_from_db()
    assert code.redeemed_at is not None
    assert code.user_coupon == UserCoupon.objects.get(user=first)
    assert not UserCoupon.objects.filter(user=second).exists()
    coupon.refresh_from_db()
    assert coupon.issued == 1


def test_a_shopper_at_the_limit_is_refused_and_the_code_stays_unredeemed():
    coupon = _batch_coupon(per_user_limit=1)
    first, second = services.create_code_batch(coupon.pk, size=2).codes.all()
    shopper = UserFactory()
    services.redeem_code(shopper, code=first.code)

    with pytest.raises(Conflict):
        services.redeem_code(shopper, code=second.code)

    second.refresh_from_db()
    assert (second.redeemed_at, second.user_coupon) == (None, None)
    assert services.redeem_code(UserFactory(), code=second.code).coupon == coupon


def test_a_code_of_a_closed_or_inactive_coupon_gets_the_unknown_codes_400():
    closed = _batch_coupon()
    inactive = _batch_coupon()
    closed_code = services.create_code_batch(closed.pk, size=1).codes.get()
    inactive_code = services.create_code_batch(inactive.pk, size=1).codes.get()
    Coupon.objects.filter(pk=closed.pk).update(claim_ends_at=timezone.now())
    Coupon.objects.filter(pk=inactive.pk).update(is_active=False)

    for code in (closed_code, inactive_code):
        with pytest.raises(exceptions.ValidationError) as caught:
            services.redeem_code(UserFactory(), code=code.code)
        assert caught.value.detail == {"code": ["兑换码无效或已过期"]}
    assert not CouponCode.objects.exclude(redeemed_at=None).exists()


@pytest.mark.parametrize("size", [0, -1, services.MAX_BATCH_SIZE + 1])
def test_a_size_out_of_range_is_a_400(size):
    with pytest.raises(exceptions.ValidationError):
        services.create_code_batch(_batch_coupon().pk, size=size)
    assert not CodeBatch.objects.exists()


def test_only_a_batch_coupon_gets_codes():
    with pytest.raises(exceptions.ValidationError):
        services.create_code_batch(CouponFactory(obtain=Coupon.Obtain.CLAIM).pk, size=1)
    with pytest.raises(exceptions.NotFound):
        services.create_code_batch(999999, size=1)
    assert not CodeBatch.objects.exists()


def test_codes_never_outnumber_the_stock_left_less_the_codes_not_yet_redeemed():
    coupon = _batch_coupon(total_stock=5)
    first = services.create_code_batch(coupon.pk, size=3)
    with pytest.raises(exceptions.ValidationError) as caught:
        services.create_code_batch(coupon.pk, size=3)
    assert caught.value.detail == {"size": ["库存不足:最多还能生成 2 个兑换码"]}

    services.redeem_code(UserFactory(), code=first.codes.first().code)  # stock 4, open 2
    services.create_code_batch(coupon.pk, size=2)
    assert CouponCode.objects.filter(batch__coupon=coupon).count() == 5


# --- Staff: the admin page and the CSV ---------------------------------------------------------


def test_staff_make_a_batch_on_the_coupon_page_and_export_it_as_csv(admin_client):
    coupon = _batch_coupon(name="=HYPERLINK(1)")
    change = admin_client.get(f"/admin/coupon/coupon/{coupon.pk}/change/")
    assert f"/admin/coupon/coupon/{coupon.pk}/codes/" in change.content.decode()

    made = admin_client.post(
        f"/admin/coupon/coupon/{coupon.pk}/codes/", {"size": "3", "note": "@ops"}
    )

    batch = CodeBatch.objects.get()
    assert made.status_code == 302 and made.url.endswith(f"/codebatch/{batch.pk}/change/")
    shopper = UserFactory(username="redeemer")
    redeemed = batch.codes.first()
    services.redeem_code(shopper, code=redeemed.code)
    page = admin_client.get(made.url)
    assert f"/admin/coupon/codebatch/{batch.pk}/export.csv" in page.content.decode()

    response = admin_client.get(f"/admin/coupon/codebatch/{batch.pk}/export.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = _csv_rows(response)
    assert header == ["兑换码", "优惠券", "批次", "备注", "状态", "兑换时间", "兑换用户"]
    assert sorted(r[0] for r in rows) == sorted(batch.codes.values_list("code", flat=True))
    # Formula-like text of staff comes out as text (utils.exports).
    assert {(r[1], r[3]) for r in rows} == {("'=HYPERLINK(1)", "'@ops")}
    by_code = {r[0]: r for r in rows}
    assert by_code[redeemed.code][4:] == ["已兑换", by_code[redeemed.code][5], "redeemer"]
    assert by_code[redeemed.code][5]
    assert sum(r[4] == "未兑换" for r in rows) == 2
    listed = admin_client.get("/admin/coupon/codebatch/")
    assert listed.context["cl"].result_list.get().n_redeemed == 1


def test_the_export_reads_a_fixed_number_of_queries(admin_client, django_assert_num_queries):
    batch = services.create_code_batch(_batch_coupon().pk, size=50)
    for code in batch.codes.all()[:5]:
        services.redeem_code(UserFactory(), code=code.code)
    url = f"/admin/coupon/codebatch/{batch.pk}/export.csv"
    admin_client.get(url)  # the session and the user are read once per request as well

    with django_assert_num_queries(4):  # session, user, the batch, its codes with their holders
        rows = _csv_rows(admin_client.get(url))
    assert len(rows) == 51


def test_too_many_codes_are_refused_on_the_form_and_nothing_is_made(admin_client):
    coupon = _batch_coupon(total_stock=2)

    page = admin_client.post(f"/admin/coupon/coupon/{coupon.pk}/codes/", {"size": "3"})

    assert page.status_code == 200
    assert "库存不足:最多还能生成 2 个兑换码" in page.content.decode()
    assert not CodeBatch.objects.exists()
    other = CouponFactory(obtain=Coupon.Obtain.CLAIM)
    assert "只有一次性兑换码券" in admin_client.post(
        f"/admin/coupon/coupon/{other.pk}/codes/", {"size": "1"}
    ).content.decode("utf-8")
    assert admin_client.get("/admin/coupon/coupon/999999/codes/").status_code == 404


def test_staff_without_the_permission_cannot_make_codes(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    coupon = _batch_coupon()
    assert client.post(f"/admin/coupon/coupon/{coupon.pk}/codes/", {"size": "1"}).status_code == 403
    assert not CodeBatch.objects.exists()


def test_the_command_writes_the_batch_as_csv():
    coupon = _batch_coupon()
    out = io.StringIO()

    call_command("make_coupon_codes", coupon.pk, 4, "--note", "线下", stdout=out)

    header, *rows = list(csv.reader(io.StringIO(out.getvalue().removeprefix("\ufeff"))))
    assert header[0] == "兑换码"
    assert sorted(r[0] for r in rows) == sorted(CouponCode.objects.values_list("code", flat=True))
    assert {r[3] for r in rows} == {"线下"}
    with pytest.raises(CommandError):
        call_command("make_coupon_codes", coupon.pk, 0)
    with pytest.raises(CommandError):
        call_command("make_coupon_codes", CouponFactory().pk, 1)


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)
def test_ten_shoppers_typing_one_code_at_once_get_one_coupon():
    assert connection.vendor == "mysql"
    coupon = _batch_coupon()
    code = services.create_code_batch(coupon.pk, size=1).codes.get().code
    users = UserFactory.create_batch(10)
    barrier = threading.Barrier(len(users))

    def redeem(user) -> str:
        try:
            barrier.wait(timeout=60)
            services.redeem_code(user, code=code)
            return "redeemed"
        except Conflict:
            return "taken"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        outcomes = list(pool.map(redeem, users))

    assert sorted(outcomes) == ["redeemed"] + ["taken"] * 9
    assert UserCoupon.objects.filter(coupon=coupon).count() == 1
    coupon.refresh_from_db()
    assert coupon.issued == 1
