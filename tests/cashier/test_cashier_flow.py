"""The shop pays through the local cashier: page, forgeries, confirm, notify, return, cancel."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

from apps.cashier.models import CashierTrade
from apps.order.models import Order, PaymentNotification
from libs import iPay
from tests.cashier.conftest import fetch


def test_the_pay_url_from_place_order_opens_the_cashier_page_with_subject_amount_and_number(
    local_cashier, place
):
    placed = place()

    assert placed.pay_url.startswith(local_cashier.gateway_url + "?")
    page = fetch(placed.pay_url)

    assert page.status == 200
    assert "Django实战" in page.text
    assert "¥99.90" in page.text
    assert placed.order.out_trade_no in page.text
    assert "确认付款" in page.text and "取消" in page.text
    trade = CashierTrade.objects.get(out_trade_no=placed.order.out_trade_no)
    assert trade.status == "WAIT_BUYER_PAY"
    assert str(trade.total_amount) == "99.90"


def _tampered(pay_url: str, **biz_changes) -> str:
    base, query = pay_url.split("?", 1)
    params = dict(parse_qsl(query, keep_blank_values=True))
    biz = json.loads(params["biz_content"])
    biz.update(biz_changes)
    params["biz_content"] = json.dumps(biz, separators=(",", ":"))
    return f"{base}?{urlencode(params)}"


def test_a_pay_url_with_a_changed_amount_is_refused_as_a_bad_signature_and_opens_no_trade(
    local_cashier, place
):
    placed = place()

    page = fetch(_tampered(placed.pay_url, total_amount="0.01"))

    assert page.status == 400
    assert "验签出错" in page.text
    assert not CashierTrade.objects.exists()


def test_a_pay_url_signed_with_another_key_is_refused(local_cashier, place, tmp_path):
    from apps.cashier import protocol
    from apps.cashier.devkeys import ensure_dev_keys

    placed = place()
    stranger = ensure_dev_keys(tmp_path / "stranger").app_private.read_text()
    base, query = placed.pay_url.split("?", 1)
    params = dict(parse_qsl(query, keep_blank_values=True))
    params["sign"] = protocol.rsa2_sign(protocol.signing_string(params), stranger)
    page = fetch(f"{base}?{urlencode(params)}")

    assert page.status == 400
    assert "验签出错" in page.text


def test_confirm_sends_a_notify_that_settles_the_order_and_returns_with_a_signed_query(
    local_cashier, place, buyer, paid_course
):
    placed = place()
    page = fetch(placed.pay_url)

    answer = fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": page.ticket})

    assert answer.status == 302
    target, query = answer.location.split("?", 1)
    assert target == f"{local_cashier.site_url}/pay/success"
    returned = dict(parse_qsl(query, keep_blank_values=True))
    assert iPay.get_client().verify_notify(returned)
    assert returned["out_trade_no"] == placed.order.out_trade_no
    assert returned["total_amount"] == "99.90"
    assert returned["method"] == "alipay.trade.page.pay.return"
    assert "trade_status" not in returned
    order = Order.objects.get(pk=placed.order.pk)
    assert order.is_paid
    assert order.trade_no == returned["trade_no"]
    assert buyer.entitlements.filter(course=paid_course).exists()
    notify = PaymentNotification.objects.get(out_trade_no=order.out_trade_no)
    assert notify.verified and notify.outcome == PaymentNotification.Outcome.SETTLED
    assert CashierTrade.objects.get(out_trade_no=order.out_trade_no).last_notify_answer == (
        "success"
    )


def test_confirming_twice_settles_once_and_returns_again(local_cashier, place):
    placed = place()
    ticket = fetch(placed.pay_url).ticket

    first = fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": ticket})
    second = fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": ticket})

    assert first.status == second.status == 302
    outcomes = list(
        PaymentNotification.objects.filter(out_trade_no=placed.order.out_trade_no)
        .order_by("pk")
        .values_list("outcome", flat=True)
    )
    assert outcomes == [PaymentNotification.Outcome.SETTLED, PaymentNotification.Outcome.DUPLICATE]


def test_a_forged_confirm_ticket_pays_nothing(local_cashier, place):
    placed = place()
    fetch(placed.pay_url)

    answer = fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": "forged:ticket"})

    assert answer.status == 400
    assert "付款凭证无效" in answer.text
    assert CashierTrade.objects.get().paid_at is None
    assert not Order.objects.get(pk=placed.order.pk).is_paid


def test_cancel_goes_back_to_the_return_page_saying_so_and_leaves_the_order_payable(
    local_cashier, place
):
    placed = place()
    ticket = fetch(placed.pay_url).ticket

    answer = fetch(f"{local_cashier.site_url}/cashier/cancel/", {"ticket": ticket})

    assert answer.status == 302
    target, query = answer.location.split("?", 1)
    assert target == f"{local_cashier.site_url}/pay/success"
    assert dict(parse_qsl(query)) == {
        "out_trade_no": placed.order.out_trade_no,
        "cancelled": "1",
    }
    assert not Order.objects.get(pk=placed.order.pk).is_paid
    assert CashierTrade.objects.get().status == "WAIT_BUYER_PAY"
    assert fetch(placed.pay_url).status == 200  # the buyer can come back and pay


def test_when_the_notify_is_lost_the_return_page_check_finds_the_payment(local_cashier, place):
    placed = place()
    ticket = fetch(placed.pay_url).ticket
    CashierTrade.objects.update(notify_url="http://127.0.0.1:9/nobody-listens/")

    answer = fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": ticket})

    assert answer.status == 302  # the buyer still gets back to the shop
    assert not Order.objects.get(pk=placed.order.pk).is_paid
    status = fetch(
        f"{local_cashier.site_url}/api/v1/order/success/?out_trade_no={placed.order.out_trade_no}"
    )
    assert json.loads(status.text)["code"] == 100
    assert Order.objects.get(pk=placed.order.pk).is_paid


def test_a_trade_closed_by_the_shop_cannot_be_paid(local_cashier, place, buyer):
    from apps.order import services

    placed = place()
    ticket = fetch(placed.pay_url).ticket
    services.cancel_order(buyer, placed.order.out_trade_no)

    answer = fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": ticket})

    assert answer.status == 400
    assert "交易已关闭" in answer.text
    assert CashierTrade.objects.get().status == "TRADE_CLOSED"
    assert fetch(placed.pay_url).status == 400


def test_a_page_opened_after_time_expire_is_refused(local_cashier, place):
    from datetime import timedelta

    from django.utils import timezone

    placed = place()
    Order.objects.filter(pk=placed.order.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    order = Order.objects.get(pk=placed.order.pk)
    stale_url = iPay.get_client().page_pay_url(
        out_trade_no=order.out_trade_no,
        total_amount=order.total_amount,
        subject=order.subject,
        expires_at=order.expires_at,
    )

    page = fetch(stale_url)

    assert page.status == 400
    assert "交易已关闭" in page.text


def test_when_the_notify_is_lost_reconcile_orders_settles_the_order(local_cashier, place):
    from datetime import timedelta

    from django.utils import timezone

    from apps.order import services

    placed = place()
    ticket = fetch(placed.pay_url).ticket
    CashierTrade.objects.update(notify_url="http://127.0.0.1:9/nobody-listens/")
    fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": ticket})
    assert not Order.objects.get(pk=placed.order.pk).is_paid

    result = services.reconcile_orders(since=timezone.now() - timedelta(hours=1))

    assert result.settled == [placed.order.out_trade_no] and result.failed == []
    assert Order.objects.get(pk=placed.order.pk).is_paid
