from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from utils.response import NOT_YET, APIResponse
from utils.schema import error_response

from . import services
from .models import User
from .serializers import (
    EnvelopeSerializer,
    LoginResponseSerializer,
    MobileLoginSerializer,
    MobileQuerySerializer,
    MobileRegisterSerializer,
    MulLoginSerializer,
    ProfileResponseSerializer,
    RefreshResponseSerializer,
    RefreshSerializer,
    UserProfileSerializer,
)
from .throttles import LoginIpThrottle, MobileCheckThrottle, SmsIpThrottle, SmsMobileThrottle

MOBILE_PARAM = OpenApiParameter("mobile", str, required=True, description="中国大陆手机号")


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class UserViewSet(ViewSet):
    """Registration and login. Every action answers in the {code, msg, ...} envelope."""

    @extend_schema(parameters=[MOBILE_PARAM], responses=EnvelopeSerializer)
    @action(methods=["get"], detail=False, throttle_classes=[MobileCheckThrottle])
    def mobile(self, request: Request) -> APIResponse:
        mobile = _valid(MobileQuerySerializer, request.query_params)["mobile"]
        if services.is_registered(mobile):
            return APIResponse(msg="手机号已注册")
        return APIResponse(code=NOT_YET, msg="手机号未注册")

    @extend_schema(
        parameters=[MOBILE_PARAM],
        responses={200: EnvelopeSerializer, 503: error_response("The SMS provider refused")},
    )
    @action(methods=["get"], detail=False, throttle_classes=[SmsMobileThrottle, SmsIpThrottle])
    def send_sms(self, request: Request) -> APIResponse:
        mobile = _valid(MobileQuerySerializer, request.query_params)["mobile"]
        services.send_sms_code(mobile)
        return APIResponse(msg="验证码已发送")

    @extend_schema(request=MulLoginSerializer, responses=LoginResponseSerializer)
    @action(methods=["post"], detail=False, throttle_classes=[LoginIpThrottle])
    def mul_login(self, request: Request) -> APIResponse:
        data = _valid(MulLoginSerializer, request.data)
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            raise exceptions.ValidationError({"non_field_errors": ["用户名或密码错误"]})
        return APIResponse(msg="登录成功", **services.login_payload(user, request))

    @extend_schema(request=MobileLoginSerializer, responses=LoginResponseSerializer)
    @action(methods=["post"], detail=False, throttle_classes=[LoginIpThrottle])
    def mobile_login(self, request: Request) -> APIResponse:
        data = _valid(MobileLoginSerializer, request.data)
        user = services.user_by_mobile(data["mobile"])
        services.verify_sms_code(data["mobile"], data["code"])
        return APIResponse(msg="登录成功", **services.login_payload(user, request))

    @extend_schema(
        request=MobileRegisterSerializer,
        responses={201: EnvelopeSerializer, 409: error_response("Mobile already registered")},
    )
    @action(methods=["post"], detail=False, throttle_classes=[LoginIpThrottle])
    def mobile_register(self, request: Request) -> APIResponse:
        data = _valid(MobileRegisterSerializer, request.data)
        services.register_by_mobile(data["mobile"], data["code"], data["password"])
        return APIResponse(msg="注册成功", status=status.HTTP_201_CREATED)

    @extend_schema(responses=ProfileResponseSerializer)
    @action(methods=["get"], detail=False, permission_classes=[IsAuthenticated])
    def me(self, request: Request) -> APIResponse:
        data = UserProfileSerializer(request.user, context={"request": request}).data
        return APIResponse(result=data)


class TokenRefreshView(APIView):
    authentication_classes: list = []

    def get_authenticate_header(self, request: Request) -> str:
        # No authenticator runs here (a stale access token must not block a refresh), and without
        # a WWW-Authenticate value DRF turns the 401 of a bad refresh token into a 403.
        return JWTAuthentication().authenticate_header(request)

    @extend_schema(request=RefreshSerializer, responses=RefreshResponseSerializer)
    def post(self, request: Request) -> APIResponse:
        data = _valid(RefreshSerializer, request.data)
        serializer = TokenRefreshSerializer(data=data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        except User.DoesNotExist as exc:
            # simplejwt looks the user up with .get(): the account was deleted after login.
            raise InvalidToken("用户不存在") from exc
        return APIResponse(msg="刷新成功", token=serializer.validated_data["access"])
