"""Coupon endpoints: coupons to claim, claiming, redeeming a code, my coupons, the checkout
preview."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.course.models import Course
from utils.response import APIResponse
from utils.schema import error_response
from utils.serializers import validated

from . import openapi, selectors, services
from .models import Coupon, UserCoupon
from .serializers import (
    CouponSerializer,
    CourseQuerySerializer,
    PreviewRequestSerializer,
    PreviewResponseSerializer,
    PreviewSerializer,
    RedeemRequestSerializer,
    UserCouponResponseSerializer,
    UserCouponSerializer,
    WalletQuerySerializer,
)
from .throttles import RedeemThrottle


@extend_schema_view(
    get=extend_schema(
        summary="List coupons I can claim now",
        description=openapi.LIST_DESCRIPTION,
        parameters=[CourseQuerySerializer],
        examples=[openapi.COUPON_PAGE],
    )
)
class CouponListView(ListAPIView):
    serializer_class = CouponSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Coupon.objects.none()
        course_id = validated(CourseQuerySerializer, self.request.query_params).get("course")
        if course_id is None:
            return selectors.claimable_coupons()
        course = Course.objects.visible().filter(pk=course_id).first()
        return selectors.claimable_coupons(course=course) if course else Coupon.objects.none()


def _user_coupon_answer(msg: str, held: UserCoupon) -> APIResponse:
    return APIResponse(
        msg=msg, status=status.HTTP_201_CREATED, coupon=UserCouponSerializer(held).data
    )


class CouponClaimView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Claim a coupon",
        description=openapi.CLAIM_DESCRIPTION,
        request=None,
        examples=[openapi.CLAIMED],
        responses={
            201: UserCouponResponseSerializer,
            404: error_response("Unknown, or not a coupon shoppers claim"),
            409: error_response("Per-user limit reached, or the stock is gone"),
        },
    )
    def post(self, request: Request, pk: int) -> APIResponse:
        held = services.claim_coupon(request.user, coupon_id=pk)
        return _user_coupon_answer(_("领取成功"), held)


class CouponRedeemView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [RedeemThrottle]

    @extend_schema(
        summary="Redeem a coupon code",
        description=openapi.REDEEM_DESCRIPTION,
        request=RedeemRequestSerializer,
        examples=[openapi.REDEEM_REQUEST, openapi.CLAIMED],
        responses={
            201: UserCouponResponseSerializer,
            409: error_response("Per-user limit reached, or the stock is gone"),
        },
    )
    def post(self, request: Request) -> APIResponse:
        data = validated(RedeemRequestSerializer, request.data)
        held = services.redeem_code(request.user, code=data["code"])
        return _user_coupon_answer(_("兑换成功"), held)


@extend_schema_view(
    get=extend_schema(
        summary="List my coupons",
        description=openapi.WALLET_DESCRIPTION,
        parameters=[
            OpenApiParameter("status", str, enum=list(selectors.WalletStatus.CHOICES)),
        ],
        examples=[openapi.USER_COUPON_PAGE],
    )
)
class UserCouponListView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = UserCouponSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return UserCoupon.objects.none()
        query = validated(WalletQuerySerializer, self.request.query_params)
        return selectors.user_coupons(self.request.user.pk, status=query["status"])


class OrderPreviewView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Preview an order: prices, coupons that apply, the amount to pay",
        description=openapi.PREVIEW_DESCRIPTION,
        request=PreviewRequestSerializer,
        examples=[openapi.PREVIEW_REQUEST, openapi.PREVIEW_ANSWER],
        responses={
            200: PreviewResponseSerializer,
            404: error_response("The coupon is not one of the shopper's"),
        },
    )
    def post(self, request: Request) -> APIResponse:
        data = validated(PreviewRequestSerializer, request.data)
        preview = selectors.preview_order(request.user, **data)
        return APIResponse(**PreviewSerializer(preview).data)
