"""Home page endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from utils.response import APIResponse

from . import selectors
from .serializers import BannerSerializer


class BannerView(APIView):
    """The carousel: shown banners in staff's order."""

    @extend_schema(
        summary="首页轮播图",
        responses=inline_serializer(
            "BannerList",
            {
                "code": serializers.IntegerField(),
                "msg": serializers.CharField(),
                "result": BannerSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> APIResponse:
        banners = selectors.shown_banners()
        data = BannerSerializer(banners, many=True, context={"request": request}).data
        return APIResponse(result=data)
