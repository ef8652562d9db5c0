"""Account rules: SMS verification codes, registration, and the tokens handed out at login."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework_simplejwt.tokens import RefreshToken

from utils.exceptions import Conflict, ServiceUnavailable
from utils.logging import get_logger
from utils.public_urls import absolute_url

from .models import SmsCode, User
from .sms import SmsDeliveryError, get_sms_backend

logger = get_logger("user")


def _hash_code(mobile: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def is_registered(mobile: str) -> bool:
    return User.objects.filter(mobile=mobile).exists()


def send_sms_code(mobile: str) -> None:
    """Issue a fresh 6-digit code for `mobile` and deliver it; older codes stop working."""
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = settings.SMS_CODE_TTL_SECONDS
    record = SmsCode.objects.create(
        mobile=mobile,
        code_hash=_hash_code(mobile, code),
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    try:
        get_sms_backend().send_code(mobile, code, max(1, ttl // 60))
    except SmsDeliveryError:
        record.delete()  # a code nobody received must not be guessable later
        logger.exception("SMS delivery to %s failed", mobile)
        raise ServiceUnavailable("短信发送失败,请稍后再试") from None
    except Exception:
        record.delete()  # e.g. a misconfigured backend: same rule, but let the error surface
        raise


def verify_sms_code(mobile: str, code: str) -> None:
    """Consume the latest code sent to `mobile`, or raise ValidationError saying why not.

    Wrong guesses are counted (and committed) even though the call fails; after
    SMS_CODE_MAX_ATTEMPTS wrong guesses the code is dead and a new one must be requested.
    """
    now = timezone.now()
    error: str | None = None
    with transaction.atomic():
        record = SmsCode.objects.select_for_update().filter(mobile=mobile).order_by("-id").first()
        if record is None or record.used_at is not None:
            error = "请先获取验证码"
        elif record.expires_at <= now:
            error = "验证码已过期,请重新获取"
        elif record.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            error = "验证码错误次数过多,请重新获取"
        elif not hmac.compare_digest(record.code_hash, _hash_code(mobile, code)):
            record.attempts += 1
            record.save(update_fields=["attempts"])
            error = "验证码错误"
        else:
            record.used_at = now
            record.save(update_fields=["used_at"])
    if error:
        raise exceptions.ValidationError({"code": [error]})


def register_by_mobile(mobile: str, code: str, password: str) -> User:
    if is_registered(mobile):
        raise Conflict("该手机号已注册")
    candidate = User(username=mobile, mobile=mobile)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({"password": exc.messages}) from None
    verify_sms_code(mobile, code)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=mobile, mobile=mobile, password=password)
    except IntegrityError:
        # Another request registered the same mobile (or took the username) a moment ago.
        raise Conflict("该手机号已注册") from None


def user_by_mobile(mobile: str) -> User:
    user = User.objects.filter(mobile=mobile, is_active=True).first()
    if user is None:
        raise exceptions.ValidationError({"mobile": ["该手机号未注册"]})
    return user


def login_payload(user: User, request: HttpRequest) -> dict[str, Any]:
    """What every login endpoint returns besides code and msg."""
    refresh = RefreshToken.for_user(user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return {
        "token": str(refresh.access_token),
        "refresh": str(refresh),
        "username": user.username,
        "icon": absolute_url(user.icon_url()),
    }
