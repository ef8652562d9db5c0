"""Order endpoints: pay, Alipay's notify and the return-page check, the buyer's orders."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.course import openapi as course_openapi
from apps.course import selectors as course_selectors
from apps.course.models import Course
from apps.course.serializers import OwnedCourseSerializer
from apps.course.views import CourseListMixin
from libs import iPay
from utils.logging import get_logger
from utils.response import NOT_YET, APIResponse
from utils.schema import documented_get, error_response
from utils.serializers import EnvelopeSerializer, validated

from . import openapi, selectors, services
from .models import Order
from .notify import handle_notify, log_refused
from .serializers import (
    OrderSerializer,
    PayChannelSerializer,
    PayRequestSerializer,
    PayResponseSerializer,
    PayStatusQuerySerializer,
)
from .throttles import PayStatusThrottle

logger = get_logger("order.notify")


class PayView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Place an order and get where to pay it",
        description=openapi.PAY_DESCRIPTION,
        examples=[openapi.PAY_REQUEST, openapi.PAY_CREATED, openapi.PAY_FREE, openapi.PAY_REUSED],
        request=PayRequestSerializer,
        responses={
            201: PayResponseSerializer,
            200: OpenApiResponse(
                PayResponseSerializer,
                description="The buyer's open order for exactly these courses, handed out "
                "again: same out_trade_no and amount, a pay URL for the same Alipay trade",
            ),
            404: error_response("`coupon` is not one of the buyer's coupons"),
            409: error_response(
                "The buyer already owns one of the courses, an older order for them "
                "turned out paid while being replaced, or another open order holds `coupon`"
            ),
            503: error_response("Alipay is not configured or cannot be reached"),
        },
    )
    def post(self, request: Request) -> APIResponse:
        data = validated(PayRequestSerializer, request.data)
        placed = services.place_order(buyer=request.user, **data)
        out_trade_no = placed.order.out_trade_no if placed.order is not None else None
        if not placed.created:
            return APIResponse(
                msg=_("您已有这些课程的待支付订单,请继续支付"),
                status=status.HTTP_200_OK,
                pay_url=placed.pay_url,
                out_trade_no=out_trade_no,
            )
        return APIResponse(
            msg=_("课程已开通") if placed.pay_url is None else _("订单已创建,请前往支付宝支付"),
            status=status.HTTP_201_CREATED,
            pay_url=placed.pay_url,
            out_trade_no=out_trade_no,
        )


OUT_TRADE_NO_PARAM = OpenApiParameter("out_trade_no", str, required=True)


class PayStatusView(APIView):
    """GET order/success/: the Vue pay-success page asks whether an order is paid."""

    authentication_classes: list = []
    throttle_classes = [PayStatusThrottle]

    @extend_schema(
        summary="Check whether an order is paid",
        description=openapi.PAY_STATUS_DESCRIPTION,
        examples=[openapi.PAID, openapi.NOT_PAID_YET],
        parameters=[OUT_TRADE_NO_PARAM],
        responses={200: EnvelopeSerializer, 404: error_response("Unknown order")},
    )
    def get(self, request: Request) -> APIResponse:
        out_trade_no = validated(PayStatusQuerySerializer, request.query_params)["out_trade_no"]
        order = Order.objects.filter(out_trade_no=out_trade_no).first()
        if order is None:
            raise exceptions.NotFound(_("订单不存在"))
        order = services.refresh_from_alipay(order)
        if order.is_paid:
            return APIResponse(msg=_("支付成功"))
        return APIResponse(code=NOT_YET, msg=_("暂未收到您的付款,请稍后刷新再试"))


def _failure(status_code: int) -> HttpResponse:
    return HttpResponse(b"failure", content_type="text/plain", status=status_code)


def _client_ip(request: HttpRequest) -> str | None:
    ident = BaseThrottle().get_ident(request)  # honours NUM_PROXIES like the throttles
    try:
        return str(ipaddress.ip_address(ident.strip()))
    except ValueError:
        return None


def alipay_notify(request: HttpRequest) -> HttpResponse:
    """POST order/success/: Alipay's asynchronous notify (form-encoded, signed; no login, no
    CSRF, no throttle: refusing one only makes Alipay send it again).

    A plain Django view, not DRF: Alipay reads the bare text `success`/`failure`, so there is
    nothing to negotiate, authenticate, throttle or render, and the body is read here, bounded,
    before anything parses it. Whatever goes wrong, Alipay reads `failure`.
    """
    try:
        return _notify(request)
    except Exception as exc:
        logger.warning("Alipay notify refused before processing: %r", exc)
        return _failure(400)


def _content_length(request: HttpRequest) -> int:
    """The body's claimed size; -1 when it is not a number."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return -1


def _notify(request: HttpRequest) -> HttpResponse:
    client_ip = _client_ip(request)
    size = _content_length(request)
    if size < 0 or size > iPay.NOTIFY_MAX_BYTES:
        # Refused before reading: junk costs us neither memory nor a stored body.
        reason = "body too large" if size > 0 else "unreadable Content-Length"
        log_refused(None, reason=reason, client_ip=client_ip, body_bytes=max(size, 0))
        return _failure(413 if size > 0 else 400)
    body = request.body
    if body.count(b"&") >= iPay.NOTIFY_MAX_FIELDS:
        log_refused(None, reason="too many fields", client_ip=client_ip, body_bytes=len(body))
        return _failure(400)
    # Each field's last value (Alipay sends each once), decoded as UTF-8 whatever the
    # Content-Type says: Alipay signs the UTF-8 text.
    params = QueryDict(body, encoding="utf-8").dict()
    try:
        result = handle_notify(params, client_ip=client_ip, body_bytes=len(body))
    except Exception:
        # Not the sender's fault but ours (a bug in checking or settling; its transaction rolled
        # back): ERROR with the traceback. A 503 like our other faults: Alipay reads `failure`
        # and delivers it again, which succeeds once the fault is fixed.
        logger.exception(
            "Alipay notify for %s failed unexpectedly", params.get("out_trade_no", "?")[:40]
        )
        return _failure(503)
    if result.accepted:
        return HttpResponse(b"success", content_type="text/plain")
    return _failure(503 if result.temporary else 400)


class AlipayNotifyView(APIView):
    """Only the schema of Alipay's notify: PaySuccessView hands the POST to `alipay_notify`."""

    authentication_classes: list = []
    parser_classes: list = []
    throttle_classes: list = []

    @extend_schema(
        summary="Alipay's payment notify (Alipay only)",
        description=openapi.NOTIFY_DESCRIPTION,
        request={"application/x-www-form-urlencoded": OpenApiTypes.OBJECT},
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`success`"),
            (400, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`failure`"),
            (413, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="`failure`: larger than any real notify"
            ),
            (503, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`failure`"),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        return alipay_notify(request._request)


_pay_status = PayStatusView.as_view()


class PaySuccessView(APIView):
    """order/success/ serves two views: the browser's GET and Alipay's notify POST (the path
    the tutorial and existing trades' notify_url use). `get`/`post` are only here for the
    schema; dispatch hands each request to its own view before DRF does anything."""

    authentication_classes: list = []
    get = PayStatusView.get
    post = AlipayNotifyView.post

    def dispatch(self, request, *args, **kwargs):
        view = alipay_notify if request.method == "POST" else _pay_status
        return view(request, *args, **kwargs)


@documented_get(
    "List my orders",
    "The logged-in user's orders, newest first, 10 a page, each with its lines "
    "(`order_courses`). `order_status`: 0 unpaid, 1 paid, 2 cancelled, 3 timed out, "
    "4 refunded, 5 partly refunded.",
    openapi.ORDER_PAGE,
)
class OrderListView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_of(self.request.user)


@documented_get(
    "Get one of my orders",
    "One order of the logged-in user by its `out_trade_no`; someone else's "
    "order is a 404, like an unknown one.",
    openapi.ORDER_EXAMPLE,
)
class OrderDetailView(RetrieveAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer
    lookup_field = "out_trade_no"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_of(self.request.user)


class OrderCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Cancel one of my unpaid orders",
        description="Closes the Alipay trade and cancels the order, so it can no longer be "
        "paid. Cancelling a cancelled order again is 200; a paid, refunded or timed-out order is "
        "a 409 (refunds go through the shop's staff).",
        examples=[openapi.CANCELLED],
        request=None,
        responses={200: EnvelopeSerializer, 409: error_response("Paid orders cannot be cancelled")},
    )
    def post(self, request: Request, out_trade_no: str) -> APIResponse:
        services.cancel_order(request.user, out_trade_no)
        return APIResponse(msg=_("订单已取消"))


class OrderPayAgainView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="order_pay_again",  # order/pay/ is order_pay_create
        summary="Get where to pay one of my unpaid orders",
        description="The pay URL for the same Alipay trade at the order's own amount (whatever "
        "coupon or flash-sale price made it), for the cashier asked. Nothing changes: a paid, "
        "cancelled or timed-out order, or one past its pay window, is a 409.",
        examples=[openapi.PAY_AGAIN_REQUEST, openapi.PAY_AGAIN],
        request=PayChannelSerializer,
        responses={
            200: PayResponseSerializer,
            404: error_response("Not one of the buyer's orders"),
            409: error_response("The order is paid, cancelled, timed out or past its pay window"),
            503: error_response("Alipay is not configured"),
        },
    )
    def post(self, request: Request, out_trade_no: str) -> APIResponse:
        data = validated(PayChannelSerializer, request.data)
        placed = services.pay_open_order(request.user, out_trade_no, **data)
        return APIResponse(
            msg=_("请继续支付"), pay_url=placed.pay_url, out_trade_no=placed.order.out_trade_no
        )


@documented_get(
    "List the courses I own",
    "Courses the logged-in user has bought (or was granted free), with the "
    "course list's filters, ordering and paging; `section_link` is set on every section. "
    "`progress` (completed lessons, percent) and `resume_section` (the lesson and second "
    '"continue learning" opens) say how far the learner got.',
    course_openapi.OWNED_COURSE_PAGE,
)
class OwnedCourseListView(CourseListMixin, ListAPIView):
    """Courses the logged-in user owns (with the catalog's filters and ordering)."""

    permission_classes = [IsAuthenticated]
    serializer_class = OwnedCourseSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Course.objects.none()
        return selectors.owned_courses(self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        course_selectors.attach_course_progress(self.request.user, page)
        return page
