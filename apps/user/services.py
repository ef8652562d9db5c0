"""Account rules: SMS verification codes, registration, passwords, and the tokens handed out at
login (issued, rotated, revoked)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import InvalidToken, TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from utils.authentication import SESSION_CLAIM, session_ended
from utils.exceptions import Conflict, ServiceUnavailable
from utils.logging import get_logger
from utils.public_urls import absolute_url

from . import lockout
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
        raise ServiceUnavailable(_("短信发送失败,请稍后再试")) from None
    except Exception:
        record.delete()  # e.g. a misconfigured backend: same rule, but let the error surface
        raise


CHECK_FAILURE_WINDOW = timedelta(days=1)


def verify_sms_code(mobile: str, code: str) -> None:
    """Consume the latest code sent to `mobile`, or raise ValidationError saying why not.

    Wrong guesses are counted (and committed) even though the call fails; after
    SMS_CODE_MAX_ATTEMPTS wrong guesses the code is dead and a new one must be requested. Once
    the mobile's codes of the last day have taken SMS_CHECK_FAILURES_PER_DAY wrong guesses
    together, every check of it is refused (429 with `wait`) until enough of them are a day
    old: new codes bring no new guesses.

    Every code of the last day is locked (in id order) for the check, so two checks of one
    mobile take turns and cannot both count the last allowed failure; a code sent meanwhile
    still shares the older rows with them.
    """
    now = timezone.now()
    error: str | None = None
    with transaction.atomic():
        recent = list(
            SmsCode.objects.select_for_update()
            .filter(mobile=mobile, created_at__gt=now - CHECK_FAILURE_WINDOW)
            .order_by("id")
        )
        locked_until = _checks_locked_until(recent)
        if locked_until is None:
            error = _use_code(recent[-1] if recent else None, mobile, code, now=now)
    if locked_until is not None:
        raise exceptions.Throttled(
            wait=max((locked_until - now).total_seconds(), 1.0),
            detail=_("该手机号验证码错误次数过多,已暂停验证码登录、注册和找回密码,请稍后再试"),
        )
    if error:
        raise exceptions.ValidationError({"code": [error]})


def _use_code(record: SmsCode | None, mobile: str, code: str, *, now) -> str | None:
    """Mark `record` used if `code` is its code, or count the wrong guess; the error to answer
    (None when the code was right)."""
    if record is None or record.used_at is not None:
        return _("请先获取验证码")
    if record.expires_at <= now:
        return _("验证码已过期,请重新获取")
    if record.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
        return _("验证码错误次数过多,请重新获取")
    if not hmac.compare_digest(record.code_hash, _hash_code(mobile, code)):
        record.attempts += 1
        record.save(update_fields=["attempts"])
        return _("验证码错误")
    record.used_at = now
    record.save(update_fields=["used_at"])
    return None


def _checks_locked_until(recent: list[SmsCode]):
    """When checks of a mobile open again (None: they are open), from its codes of the last
    day in sending order. A failure is dated by its code's sending time: at most the code's
    lifetime early."""
    failures = sum(r.attempts for r in recent)
    excess = failures - settings.SMS_CHECK_FAILURES_PER_DAY + 1
    if excess <= 0:
        return None
    for row in recent:  # the oldest failures leave the window first
        excess -= row.attempts
        if excess <= 0:
            return row.created_at + CHECK_FAILURE_WINDOW
    return None  # not reached: the loop removes every failure


def _check_new_password(password: str, *, user: User, field: str) -> None:
    """AUTH_PASSWORD_VALIDATORS, answered as a 400 on `field`."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({field: exc.messages}) from None


def register_by_mobile(mobile: str, code: str, password: str) -> User:
    if is_registered(mobile):
        raise Conflict(_("该手机号已注册"))
    _check_new_password(password, user=User(username=mobile, mobile=mobile), field="password")
    verify_sms_code(mobile, code)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=mobile, mobile=mobile, password=password)
    except IntegrityError:
        # Another request registered the same mobile (or took the username) a moment ago.
        raise Conflict(_("该手机号已注册")) from None


def log_in_with_password(request: HttpRequest, *, username: str, password: str) -> User:
    """The account `username` (its username, mobile or e-mail) names, when `password` is its
    password; else 400, or 429 while the account is locked.

    Failures count against the account in the lockout the admin login shares
    (apps/user/lockout.py), whatever the client's address. Attempts on one account run one
    after another (its gate), so simultaneous guesses cannot all be checked against the same
    count; the check and the count happen inside authenticate() (django-axes).
    """
    account = lockout.account_key(request, {"username": username})
    with lockout.login_gates([f"account:{account}"]):
        user = authenticate(request, username=username, password=password)
    if user is not None:
        lockout.forget_failures(account)
        return user
    if lockout.is_locked_out(request):
        raise lockout.LoginLocked()
    raise exceptions.ValidationError({"non_field_errors": [_("用户名或密码错误")]})


def user_by_mobile(mobile: str) -> User:
    user = User.objects.filter(mobile=mobile, is_active=True).first()
    if user is None:
        raise exceptions.ValidationError({"mobile": [_("该手机号未注册")]})
    return user


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


class LogoutOutcome(enum.Enum):
    LOGGED_OUT = "logged_out"
    ALREADY_LOGGED_OUT = "already_logged_out"  # the same logout sent again: still a success


def issue_tokens(user: User, *, session: str | None = None) -> TokenPair:
    """A new refresh token (recorded as outstanding, so it can be blacklisted) and its access
    token. Both carry a digest of the current password hash (SIMPLE_JWT CHECK_REVOKE_TOKEN):
    changing the password revokes them. Both carry the login's session id (a new one, or
    `session` when a refresh continues one): logging out ends the session (end_session)."""
    refresh = RefreshToken.for_user(user)
    refresh[SESSION_CLAIM] = session or uuid.uuid4().hex  # the access token copies it
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def login_payload(user: User, request: HttpRequest) -> dict[str, Any]:
    """What every login endpoint returns besides code and msg."""
    tokens = issue_tokens(user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return {
        "token": tokens.access,
        "refresh": tokens.refresh,
        "username": user.username,
        "icon": absolute_url(user.icon_url()),
    }


def _parse_refresh(raw: str) -> RefreshToken:
    """A refresh token of ours: signed, not expired, not blacklisted; else 401."""
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc


def _token_user(token: RefreshToken) -> User:
    """The active account a token names, whose password has not changed since it was issued."""
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    user = User.objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
    if user is None or not user.is_active:
        raise InvalidToken(_("用户不存在或已停用"))
    # simplejwt checks this claim on access tokens only; a refresh token must die with them.
    if token.payload.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise InvalidToken(_("密码已修改,请重新登录"))
    if session_ended(token, user):
        raise InvalidToken(_("登录已失效,请重新登录"))
    return user


def rotate_refresh_token(raw: str) -> TokenPair:
    """Trade a refresh token for a new pair and blacklist it (ROTATE_REFRESH_TOKENS with
    BLACKLIST_AFTER_ROTATION), so a stolen refresh token works once at most.

    Races with another refresh of the same token: blacklisting is a get_or_create on a unique
    row, so exactly one request creates it and gets new tokens; the other gets 401.
    """
    token = _parse_refresh(raw)
    user = _token_user(token)
    _entry, created = token.blacklist()
    if not created:
        raise InvalidToken(_("令牌已失效,请重新登录"))
    session = token.payload.get(SESSION_CLAIM)
    return issue_tokens(user, session=session if isinstance(session, str) else None)


def revoke_refresh_token(raw: str) -> LogoutOutcome:
    """Logout: blacklist the refresh token and end its session, so the session's access
    tokens are refused from the next request on, not when they expire. The account's other
    sessions (another device) stay logged in.

    Idempotent: a client that lost the first answer may send the same logout again and is told
    it worked. A token that is not ours, or has expired anyway, is a 401.
    """
    try:
        token = RefreshToken(raw)
    except TokenError as exc:
        if _is_blacklisted_refresh(raw):
            return LogoutOutcome.ALREADY_LOGGED_OUT
        raise InvalidToken(str(exc)) from exc
    with transaction.atomic():
        _entry, created = token.blacklist()
        session = token.payload.get(SESSION_CLAIM)
        if created and isinstance(session, str):
            end_session(token.payload.get(jwt_settings.USER_ID_CLAIM), session)
    return LogoutOutcome.LOGGED_OUT if created else LogoutOutcome.ALREADY_LOGGED_OUT


def end_session(user_id: Any, session: str) -> None:
    """Record a logged-out session on its account, where the authentication of every request
    finds it with the user row it reads anyway (no query more, no cache that could evict it).

    Only the access tokens need it (the refresh tokens are blacklisted), so an entry is dropped
    once ACCESS_TOKEN_LIFETIME has passed: the list stays as short as the logouts of the last
    minutes. Takes the user's row lock: two logouts of one account at once both stay recorded.
    """
    now = int(time.time())
    keep_after = now - int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()) - 60
    user = (
        User.objects.select_for_update()
        .filter(**{jwt_settings.USER_ID_FIELD: user_id})
        .only("pk", "ended_sessions")
        .first()
    )
    if user is None:
        return
    ended = {sid: at for sid, at in (user.ended_sessions or {}).items() if at > keep_after}
    ended[session] = now
    user.ended_sessions = ended
    user.save(update_fields=["ended_sessions"])


def _is_blacklisted_refresh(raw: str) -> bool:
    try:
        payload = token_backend.decode(raw, verify=True)  # our signature, not expired
    except TokenBackendError:
        return False
    if payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type:
        return False
    jti = payload.get(jwt_settings.JTI_CLAIM)
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


def _set_password_and_revoke_tokens(user_id: int, password: str) -> User:
    """Store the new password and blacklist every refresh token of the account. Access tokens
    die by themselves: they carry the digest of the old password hash."""
    with transaction.atomic():
        # Locked so two password changes of one account serialise.
        user = User.objects.select_for_update().get(pk=user_id)
        user.set_password(password)
        user.save(update_fields=["password"])
        live = OutstandingToken.objects.filter(
            user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
        )
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
        )
    return user


def change_password(user: User, *, old_password: str, new_password: str) -> TokenPair:
    """Change a logged-in user's password; every earlier token stops working and the caller
    gets a fresh pair, so the client that asked stays logged in."""
    if not user.check_password(old_password):
        raise exceptions.ValidationError({"old_password": [_("原密码错误")]})
    _check_new_password(new_password, user=user, field="new_password")
    return issue_tokens(_set_password_and_revoke_tokens(user.pk, new_password))


def reset_password_by_sms(*, mobile: str, code: str, new_password: str) -> None:
    """Forgotten password: an SMS code sent to the account's mobile proves ownership. The new
    password is checked before the code is spent; every earlier token stops working."""
    user = user_by_mobile(mobile)
    _check_new_password(new_password, user=user, field="new_password")
    verify_sms_code(mobile, code)
    _set_password_and_revoke_tokens(user.pk, new_password)
