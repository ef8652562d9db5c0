"""The notify log stays bounded: junk leaves small summaries, old entries are pruned."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.order.models import CourseEntitlement, Order, PaymentNotification
from libs import iPay

from .conftest import NOTIFY_URL, post_form, signed_notify

pytestmark = pytest.mark.django_db
SUMMARY_LIMIT = 1024  # bytes a refused notify may cost us, at most


def stored_bytes(entry: PaymentNotification) -> int:
    """What a row holds, column by column (text as UTF-8, the JSON as serialised)."""
    text = [entry.out_trade_no, entry.notify_id, entry.trade_status, entry.outcome, entry.detail]
    return (
        sum(len(t.encode()) for t in text)
        + len(json.dumps(entry.params, ensure_ascii=False).encode())
        + len(entry.client_ip or "")
        + 8 * 4  # id, received_at, verified, body_bytes
    )


def bytes_in_table() -> int:
    """What the database itself counts in the notify table's columns (LENGTH of each)."""
    columns = ["out_trade_no", "notify_id", "trade_status", "outcome", "detail", "params"]
    total = " + ".join(f"LENGTH({c})" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM({total} + COALESCE(LENGTH(client_ip), 0)), 0) "  # noqa: S608
            "FROM luffy_payment_notification"
        )
        return int(cursor.fetchone()[0])


def junk_form(fields: int, size: int) -> str:
    return urlencode({f"f{i}": random.randbytes(size // 2).hex() for i in range(fields)})


@pytest.fixture
def order(alipay, place, course):
    return place([course], "99.90")[1]


def test_a_flood_of_junk_leaves_only_bounded_summaries(alipay, order, alipay_keys, capsys):
    """25 posts of 1.8 MiB (190 fields of 10 KB) and 200 small unsigned notifies: before the
    fix each was stored whole (47 MiB from one client in 2 s)."""
    client = APIClient()
    big = junk_form(190, 10_000)
    assert len(big) > 1_800_000
    genuine = signed_notify(alipay_keys, order)
    forged = {**genuine, "sign": "QUJD", "subject": "x" * 4000, "out_trade_no": "9" * 3000}
    forged_body = urlencode(forged)
    assert len(forged_body) < iPay.NOTIFY_MAX_BYTES

    before = bytes_in_table()
    started = time.monotonic()
    for _ in range(25):
        response = client.post(NOTIFY_URL, big, content_type="application/x-www-form-urlencoded")
        assert (response.status_code, response.content) == (413, b"failure")
    for _ in range(200):
        response = post_form(client, forged)
        assert (response.status_code, response.content) == (400, b"failure")
    elapsed = time.monotonic() - started

    log = list(PaymentNotification.objects.all())
    assert len(log) == 225
    sizes = [stored_bytes(e) for e in log]
    assert max(sizes) < SUMMARY_LIMIT
    assert all(e.params == {} and not e.verified and e.outcome == "rejected" for e in log)
    assert {e.body_bytes for e in log} == {len(big), len(forged_body)}
    assert {e.client_ip for e in log} == {"127.0.0.1"}
    assert all(len(e.out_trade_no) <= 40 for e in log)
    posted = 25 * len(big) + 200 * len(forged_body)
    grown = bytes_in_table() - before
    assert grown <= sum(sizes) < 225 * SUMMARY_LIMIT  # 47 MiB before the fix
    with capsys.disabled():
        print(
            f"\n[notify flood] {posted / 2**20:.1f} MiB posted in {elapsed:.2f} s -> "
            f"{len(log)} rows, {grown / 1024:.1f} KiB in the table's columns "
            f"({connection.vendor}), largest row {max(sizes)} B"
        )
    order.refresh_from_db()
    assert order.order_status == Order.Status.UNPAID
    assert not CourseEntitlement.objects.exists()


def test_a_body_with_more_fields_than_any_notify_is_refused_unparsed(alipay, order):
    body = junk_form(iPay.NOTIFY_MAX_FIELDS + 1, 4)
    assert len(body) < iPay.NOTIFY_MAX_BYTES

    response = APIClient().post(NOTIFY_URL, body, content_type="application/x-www-form-urlencoded")

    assert (response.status_code, response.content) == (400, b"failure")
    [entry] = PaymentNotification.objects.all()
    assert (entry.detail, entry.params) == ("too many fields", {})


def test_a_verified_notify_is_kept_whole(alipay, order, alipay_keys):
    notify = signed_notify(alipay_keys, order)

    assert post_form(APIClient(), notify).content == b"success"

    [entry] = PaymentNotification.objects.all()
    assert entry.verified and entry.params == notify
    assert entry.body_bytes == len(urlencode(notify)) and entry.client_ip == "127.0.0.1"


def test_a_verified_notify_that_is_refused_is_still_kept_whole(alipay, order, alipay_keys):
    notify = signed_notify(alipay_keys, order, app_id="2021000000000000")

    assert post_form(APIClient(), notify).status_code == 400

    [entry] = PaymentNotification.objects.all()
    assert (entry.verified, entry.outcome, entry.params) == (True, "rejected", notify)


def test_prune_deletes_refused_entries_soon_and_verified_ones_late(settings):
    now = timezone.now()

    def entry(verified: bool, days: int) -> PaymentNotification:
        made = PaymentNotification.objects.create(verified=verified, out_trade_no=f"{days}")
        PaymentNotification.objects.filter(pk=made.pk).update(
            received_at=now - timedelta(days=days)
        )
        return made

    keep = [entry(False, 6), entry(True, 729), entry(True, 8)]
    entry(False, 8)
    entry(True, 731)
    out = StringIO()

    call_command("prune_notifications", stdout=out)

    assert set(PaymentNotification.objects.values_list("pk", flat=True)) == {e.pk for e in keep}
    assert "1 refused and 1 verified" in out.getvalue()
    call_command("prune_notifications", "--rejected-days=0", "--verified-days=1", stdout=out)
    assert not PaymentNotification.objects.exists()


def test_prune_shows_its_defaults_in_help(capsys):
    with pytest.raises(SystemExit):
        call_command("prune_notifications", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "default 7" in text and "default 730" in text
    assert "ALIPAY_NOTIFY_REJECTED_RETENTION_DAYS" in text


@pytest.mark.parametrize(("length", "status"), [("abc", 400), ("-5", 400), (str(2**40), 413)])
def test_a_lying_content_length_is_refused_unread(alipay, order, alipay_keys, length, status):
    body = urlencode(signed_notify(alipay_keys, order))

    response = APIClient().post(
        NOTIFY_URL, body, content_type="application/x-www-form-urlencoded", CONTENT_LENGTH=length
    )

    assert (response.status_code, response.content) == (status, b"failure")
    order.refresh_from_db()
    assert order.order_status == Order.Status.UNPAID
    assert PaymentNotification.objects.get().params == {}
