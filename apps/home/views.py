"""Home page endpoints."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from utils.response import APIResponse
from utils.serializers import EnvelopeCodeField

from . import selectors
from .serializers import BannerSerializer

BANNERS = OpenApiExample(
    "Banners",
    value={
        "code": 100,
        "msg": "成功",
        "result": [
            {
                "id": 1,
                "title": "Python 全栈开发",
                "image": "https://shop.example.com/media/banners/python.jpg",
                "link": "/course/1",
            }
        ],
    },
    response_only=True,
)


class BannerView(APIView):
    """The carousel: shown banners in staff's order."""

    @extend_schema(
        summary="List the home page's banners",
        description="The banners staff marked as shown, in their order (admin: 首页 › 轮播图). "
        "`image` is an absolute URL; `link` is where a click goes (a storefront path or a URL).",
        examples=[BANNERS],
        responses=inline_serializer(
            "BannerList",
            {
                "code": EnvelopeCodeField(),
                "msg": serializers.CharField(),
                "result": BannerSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> APIResponse:
        banners = selectors.shown_banners()
        data = BannerSerializer(banners, many=True, context={"request": request}).data
        return APIResponse(result=data)
