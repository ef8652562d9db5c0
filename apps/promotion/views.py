"""Flash-sale endpoints: the sales on now and coming, and buying a seat."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.order.serializers import PayChannelSerializer
from utils.response import APIResponse
from utils.schema import error_response
from utils.serializers import validated

from . import openapi, selectors, services
from .serializers import FlashBuySerializer, FlashSaleListSerializer, FlashSaleSerializer


class FlashSaleListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="List the flash sales on now and coming",
        description=openapi.LIST_DESCRIPTION,
        examples=[openapi.LISTED],
        responses={200: FlashSaleListSerializer},
    )
    def get(self, request: Request) -> APIResponse:
        now = timezone.now()
        sales = selectors.current_and_coming(now)
        data = FlashSaleSerializer(sales, many=True, context={"now": now}).data
        return APIResponse(server_time=now, sales=data)


class FlashBuyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Buy a flash-sale seat: an order at the sale price",
        description=openapi.BUY_DESCRIPTION,
        examples=[openapi.BOUGHT],
        request=PayChannelSerializer,
        responses={
            201: FlashBuySerializer,
            400: error_response("The sale has not started or is over"),
            404: error_response("Unknown sale"),
            409: error_response("Sold out, the buyer already holds a seat, or owns the course"),
            503: error_response("Alipay is not configured or cannot be reached"),
        },
    )
    def post(self, request: Request, sale_id: int) -> APIResponse:
        data = validated(PayChannelSerializer, request.data)
        placed = services.buy_flash_sale(sale_id, buyer=request.user, **data)
        order = placed.order
        return APIResponse(
            msg=_("抢购成功,请尽快完成支付"),
            status=status.HTTP_201_CREATED,
            pay_url=placed.pay_url,
            out_trade_no=order.out_trade_no,
            total_amount=f"{order.total_amount:.2f}",
            expires_at=order.expires_at,
        )
