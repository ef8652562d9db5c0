"""The local cashier's pages and gateway endpoint (mounted only with LOCAL_CASHIER)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import protocol, services

_TICKET_SALT = "cashier.confirm"
# A ticket from the page is good for this long: enough to think, not enough to replay later.
_TICKET_MAX_AGE = 60 * 60


def local_only(view):
    """Answer 404 unless the local cashier is on, even if a URLconf mounts it by mistake."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not settings.LOCAL_CASHIER:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _refused(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "cashier/refused.html", {"message": message}, status=status)


@csrf_exempt  # the shop's server calls it like Alipay's gateway: signed, no cookies
@require_http_methods(["GET", "POST"])
@local_only
def gateway(request: HttpRequest) -> HttpResponse:
    """`gateway.do`: the cashier page for a page or phone (wap) payment, signed JSON for every
    API method."""
    params = {**request.GET.dict(), **request.POST.dict()}
    if params.get("method") not in protocol.CASHIER_METHODS:
        body = services.answer_api_call(params)
        return HttpResponse(body, content_type="application/json;charset=utf-8")
    try:
        trade = services.open_trade(params)
    except protocol.PagePayRefused as exc:
        return _refused(request, str(exc))
    context = {
        "trade": trade,
        "amount": protocol.money(trade.total_amount),
        "ticket": signing.dumps(trade.out_trade_no, salt=_TICKET_SALT),
        "paid": trade.paid_at is not None,
    }
    phone = trade.method == protocol.WAP_PAY_METHOD
    return render(request, "cashier/wap.html" if phone else "cashier/pay.html", context)


def _trade_from_ticket(request: HttpRequest) -> str | None:
    try:
        return signing.loads(
            request.POST.get("ticket", ""), salt=_TICKET_SALT, max_age=_TICKET_MAX_AGE
        )
    except signing.BadSignature:
        return None


# No CSRF cookie: the signed ticket, only handed out on the page of a signed request, does its job
# and keeps the page working in a browser on plain http with secure cookies.
@csrf_exempt
@require_POST
@local_only
def confirm(request: HttpRequest) -> HttpResponse:
    """确认付款: pay the trade, notify the shop over HTTP, send the buyer to return_url."""
    out_trade_no = _trade_from_ticket(request)
    if out_trade_no is None:
        return _refused(request, "付款凭证无效或已过期,请回到商户重新发起支付")
    outcome, trade = services.pay_trade(out_trade_no)
    if trade is None:
        return _refused(request, "交易不存在 (ACQ.TRADE_NOT_EXIST)", status=404)
    if outcome is services.PayOutcome.CLOSED:
        return _refused(request, "交易已关闭,请回到商户重新下单 (ACQ.TRADE_HAS_CLOSE)")
    services.deliver_notify(trade)  # again for ALREADY_PAID: Alipay notifies more than once
    target = services.return_url(trade)
    if target is None:
        return render(request, "cashier/paid.html", {"trade": trade})
    return HttpResponseRedirect(target)


@csrf_exempt
@require_POST
@local_only
def cancel(request: HttpRequest) -> HttpResponse:
    """取消: leave without paying; the trade stays open until the shop closes it or it expires."""
    out_trade_no = _trade_from_ticket(request)
    trade = None
    if out_trade_no is not None:
        trade = services.CashierTrade.objects.filter(out_trade_no=out_trade_no).first()
    return HttpResponseRedirect(services.cancel_url(trade))
