"""Order endpoints: pay, Alipay's notify and the return-page check, the buyer's orders."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import FormParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.course.models import Course
from apps.course.views import CourseListMixin
from apps.user.serializers import EnvelopeSerializer
from utils.logging import get_logger
from utils.response import NOT_YET, APIResponse
from utils.schema import error_response

from . import selectors, services
from .models import Order
from .notify import handle_notify
from .serializers import OrderSerializer, PayRequestSerializer, PayResponseSerializer
from .throttles import PayStatusThrottle

logger = get_logger("order.notify")


class PayView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PayRequestSerializer,
        responses={
            201: PayResponseSerializer,
            409: error_response("The buyer already owns one of the courses"),
            503: error_response("Alipay is not configured"),
        },
    )
    def post(self, request: Request) -> APIResponse:
        serializer = PayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        placed = services.place_order(
            request.user, data["courses"], data["total_amount"], data["subject"], data["pay_type"]
        )
        return APIResponse(
            msg="课程已开通" if placed.pay_url is None else "订单已创建,请前往支付宝支付",
            status=status.HTTP_201_CREATED,
            pay_url=placed.pay_url,
            out_trade_no=placed.order.out_trade_no,
        )


OUT_TRADE_NO_PARAM = OpenApiParameter("out_trade_no", str, required=True)


class PaySuccessView(APIView):
    """GET: the Vue pay-success page asks whether an order is paid.
    POST: Alipay's asynchronous notify (form-encoded, signed; no login, no CSRF)."""

    authentication_classes: list = []
    parser_classes = [FormParser]

    def get_throttles(self) -> list:
        # Alipay's notifies are not throttled: refusing one only makes Alipay send it again.
        return [PayStatusThrottle()] if self.request.method == "GET" else []

    @extend_schema(
        parameters=[OUT_TRADE_NO_PARAM],
        responses={200: EnvelopeSerializer, 404: error_response("Unknown order")},
    )
    def get(self, request: Request) -> APIResponse:
        out_trade_no = request.query_params.get("out_trade_no", "").strip()
        if not out_trade_no or len(out_trade_no) > 64:
            raise exceptions.ValidationError({"out_trade_no": ["请提供有效的订单号"]})
        order = Order.objects.filter(out_trade_no=out_trade_no).first()
        if order is None:
            raise exceptions.NotFound("订单不存在")
        order = services.refresh_from_alipay(order)
        if order.is_paid:
            return APIResponse(msg="支付成功")
        return APIResponse(code=NOT_YET, msg="暂未收到您的付款,请稍后刷新再试")

    @extend_schema(
        request={"application/x-www-form-urlencoded": OpenApiTypes.OBJECT},
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`success`"),
            (400, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`failure`"),
            (503, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`failure`"),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        result = handle_notify(request.POST.dict())
        if result.accepted:
            return HttpResponse(b"success", content_type="text/plain")
        code = 503 if result.temporary else 400
        return HttpResponse(b"failure", content_type="text/plain", status=code)

    def handle_exception(self, exc: Exception) -> HttpResponse:
        # Alipay reads the body: whatever went wrong with a notify, it must read `failure`.
        if self.request.method == "POST":
            logger.warning("Alipay notify refused before processing: %r", exc)
            return HttpResponse(b"failure", content_type="text/plain", status=400)
        return super().handle_exception(exc)


class OrderListView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_of(self.request.user)


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
        request=None,
        responses={200: EnvelopeSerializer, 409: error_response("Paid orders cannot be cancelled")},
    )
    def post(self, request: Request, out_trade_no: str) -> APIResponse:
        services.cancel_order(request.user, out_trade_no)
        return APIResponse(msg="订单已取消")


class OwnedCourseListView(CourseListMixin, ListAPIView):
    """Courses the logged-in user owns (with the catalog's filters and ordering)."""

    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Course.objects.none()
        return selectors.owned_courses(self.request.user)
