from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet
from rest_framework_simplejwt.authentication import JWTAuthentication

from utils.response import NOT_YET, APIResponse
from utils.schema import error_response
from utils.serializers import EnvelopeSerializer, validated
from utils.throttling import FirstRefusalThrottling

from . import openapi, services
from .serializers import (
    LoginResponseSerializer,
    MobileLoginSerializer,
    MobileQuerySerializer,
    MobileRegisterSerializer,
    PasswordChangeSerializer,
    PasswordLoginSerializer,
    PasswordResetSerializer,
    ProfileResponseSerializer,
    RefreshSerializer,
    SmsRequestSerializer,
    TokenPairResponseSerializer,
    UserProfileSerializer,
)
from .throttles import (
    LoginIpThrottle,
    MobileCheckThrottle,
    SmsIpThrottle,
    SmsMobileDailyThrottle,
    SmsMobileThrottle,
)

MOBILE_PARAM = OpenApiParameter(
    "mobile", str, required=True, description=gettext_lazy("中国大陆手机号")
)


def _authenticate_header(request: Request) -> str:
    # Endpoints that take a refresh token run no authenticator (a stale access token must not
    # block them), and without a WWW-Authenticate value DRF turns the 401 of a bad token into
    # a 403.
    return JWTAuthentication().authenticate_header(request)


LOGOUT_MESSAGES = {
    services.LogoutOutcome.LOGGED_OUT: gettext_lazy("已退出登录"),
    services.LogoutOutcome.ALREADY_LOGGED_OUT: gettext_lazy("已退出登录(此前已退出)"),
}


class UserViewSet(FirstRefusalThrottling, ViewSet):
    """Registration, login, logout and passwords. Every action answers in the
    {code, msg, ...} envelope; an action's throttles run in order and the first refusal
    answers."""

    def get_authenticate_header(self, request: Request) -> str:
        return _authenticate_header(request)

    @extend_schema(
        summary="Check whether a mobile number is registered",
        description="`code` 100: registered (offer login); 101: not registered (offer sign-up). "
        "An invalid number is a 400.",
        examples=[openapi.REGISTERED, openapi.NOT_REGISTERED],
        parameters=[MOBILE_PARAM],
        responses=EnvelopeSerializer,
    )
    @action(methods=["get"], detail=False, throttle_classes=[MobileCheckThrottle])
    def mobile(self, request: Request) -> APIResponse:
        mobile = validated(MobileQuerySerializer, request.query_params)["mobile"]
        if services.is_registered(mobile):
            return APIResponse(msg=_("手机号已注册"))
        return APIResponse(code=NOT_YET, msg=_("手机号未注册"))

    @extend_schema(
        summary="Send an SMS code",
        description="Sends a 6-digit code to the number, for `mobile_login`, "
        "`mobile_register` and `password_reset`. The code is valid SMS_CODE_TTL_SECONDS "
        "(300 by default) and for a few attempts. A JSON body only (any other body is a 415): "
        "a page on another site cannot make its visitors' browsers send one. Limits, checked "
        "in this order, the first refusal answering (429 with `wait`): per client address "
        "(IPv6 per /64), one SMS per number per minute, and a few per number per day.",
        examples=[openapi.SMS_REQUEST, openapi.SMS_SENT],
        request=SmsRequestSerializer,
        responses={200: EnvelopeSerializer, 503: error_response("The SMS provider refused")},
    )
    @action(
        methods=["post"],
        detail=False,
        parser_classes=[JSONParser],
        # The address first: an address past its limit opens no number's window.
        throttle_classes=[SmsIpThrottle, SmsMobileThrottle, SmsMobileDailyThrottle],
    )
    def send_sms(self, request: Request) -> APIResponse:
        mobile = validated(SmsRequestSerializer, request.data)["mobile"]
        services.send_sms_code(mobile)
        return APIResponse(msg=_("验证码已发送"))

    @extend_schema(
        summary="Log in with a password",
        description="`username` may be the username, the mobile number or the e-mail. A wrong "
        "pair is a 400; attempts are limited per client address (429), and failures count "
        "per account together with the admin login's: ADMIN_LOGIN_FAILURE_LIMIT (10) of them "
        "lock the account on both for ADMIN_LOGIN_COOLOFF_MINUTES (15), whatever the address "
        "(429 with `wait`). " + openapi.TOKENS,
        examples=[openapi.PASSWORD_LOGIN, openapi.LOGGED_IN],
        request=PasswordLoginSerializer,
        responses=LoginResponseSerializer,
    )
    @action(methods=["post"], detail=False, throttle_classes=[LoginIpThrottle])
    def mul_login(self, request: Request) -> APIResponse:
        data = validated(PasswordLoginSerializer, request.data)
        user = services.log_in_with_password(request, **data)
        return APIResponse(msg=_("登录成功"), **services.login_payload(user, request))

    @extend_schema(
        summary="Log in with an SMS code",
        description="A code from `send_sms` proves the number; the number must be registered. "
        + openapi.TOKENS,
        examples=[openapi.MOBILE_LOGIN, openapi.LOGGED_IN],
        request=MobileLoginSerializer,
        responses=LoginResponseSerializer,
    )
    @action(methods=["post"], detail=False, throttle_classes=[LoginIpThrottle])
    def mobile_login(self, request: Request) -> APIResponse:
        data = validated(MobileLoginSerializer, request.data)
        user = services.user_by_mobile(data["mobile"])
        services.verify_sms_code(data["mobile"], data["code"])
        return APIResponse(msg=_("登录成功"), **services.login_payload(user, request))

    @extend_schema(
        summary="Register with a mobile number",
        description="A code from `send_sms` proves the number; the password must pass the "
        "password rules (400 with the reasons). Log in afterwards.",
        examples=[openapi.MOBILE_REGISTER, openapi.REGISTERED_NOW],
        request=MobileRegisterSerializer,
        responses={201: EnvelopeSerializer, 409: error_response("Mobile already registered")},
    )
    @action(methods=["post"], detail=False, throttle_classes=[LoginIpThrottle])
    def mobile_register(self, request: Request) -> APIResponse:
        data = validated(MobileRegisterSerializer, request.data)
        services.register_by_mobile(data["mobile"], data["code"], data["password"])
        return APIResponse(msg=_("注册成功"), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Get my profile",
        description="The logged-in user's account details.",
        examples=[openapi.PROFILE],
        responses=ProfileResponseSerializer,
    )
    @action(methods=["get"], detail=False, permission_classes=[IsAuthenticated])
    def me(self, request: Request) -> APIResponse:
        data = UserProfileSerializer(request.user, context={"request": request}).data
        return APIResponse(result=data)

    @extend_schema(
        summary="Log out",
        examples=[openapi.REFRESH_REQUEST, openapi.LOGGED_OUT],
        request=RefreshSerializer,
        responses=EnvelopeSerializer,
        description="Blacklists the refresh token and ends the account's sessions: every "
        "access and refresh token issued before is refused (401) from the next request on, "
        "on every device. Sending the same token again is still 200 (idempotent); a token "
        "that is not ours, malformed or expired is 401.",
    )
    @action(
        methods=["post"], detail=False, authentication_classes=[], permission_classes=[AllowAny]
    )
    def logout(self, request: Request) -> APIResponse:
        data = validated(RefreshSerializer, request.data)
        outcome = services.revoke_refresh_token(data["refresh"])
        return APIResponse(msg=LOGOUT_MESSAGES[outcome])

    @extend_schema(
        summary="Change my password",
        examples=[openapi.PASSWORD_CHANGE, openapi.PASSWORD_CHANGED],
        request=PasswordChangeSerializer,
        responses=TokenPairResponseSerializer,
        description="Every token issued before stops working; the answer carries a fresh pair "
        "so this client stays logged in. A wrong old password is 400.",
    )
    @action(
        methods=["post"],
        detail=False,
        permission_classes=[IsAuthenticated],
        throttle_classes=[LoginIpThrottle],
    )
    def password(self, request: Request) -> APIResponse:
        data = validated(PasswordChangeSerializer, request.data)
        tokens = services.change_password(request.user, **data)
        return APIResponse(msg=_("密码已修改"), token=tokens.access, refresh=tokens.refresh)

    @extend_schema(
        summary="Reset a forgotten password",
        examples=[openapi.PASSWORD_RESET, openapi.PASSWORD_RESET_DONE],
        request=PasswordResetSerializer,
        responses=EnvelopeSerializer,
        description="Forgotten password: a code from send_sms proves the mobile. Every token "
        "issued before stops working; log in again with the new password.",
    )
    @action(methods=["post"], detail=False, throttle_classes=[LoginIpThrottle])
    def password_reset(self, request: Request) -> APIResponse:
        data = validated(PasswordResetSerializer, request.data)
        services.reset_password_by_sms(**data)
        return APIResponse(msg=_("密码已重置,请重新登录"))


class TokenRefreshView(APIView):
    """A refresh token for a new pair; the one sent is blacklisted (rotation)."""

    authentication_classes: list = []

    def get_authenticate_header(self, request: Request) -> str:
        return _authenticate_header(request)

    @extend_schema(
        summary="Get a new token pair",
        description="Trades a refresh token for a new access and refresh token; the one sent "
        "is void from now on (rotation). An expired, void or foreign token is a 401: log in "
        "again.",
        examples=[openapi.REFRESH_REQUEST, openapi.REFRESHED],
        request=RefreshSerializer,
        responses=TokenPairResponseSerializer,
    )
    def post(self, request: Request) -> APIResponse:
        data = validated(RefreshSerializer, request.data)
        tokens = services.rotate_refresh_token(data["refresh"])
        return APIResponse(msg=_("刷新成功"), token=tokens.access, refresh=tokens.refresh)
