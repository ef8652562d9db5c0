"""The password lockout, shared by the admin login and the API login (`user/user/mul_login/`):
how django-axes sees an attempt (who the client is, which account it tries, what counts on each
path), the answer a locked-out client gets (the admin's page, the API's envelope, both 429), and
the gate that makes simultaneous attempts wait for each other. Wired in settings.AXES_*.

Failures count per account on both paths, whatever the client's address: guesses at a staff
password through the API lock the admin too, and the other way round. The admin also locks
per client address; the API counts addresses with its own throttle instead (LoginIpThrottle),
so shoppers sharing one address do not lock each other out of the shop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions

from utils.throttling import client_ident

from .backends import find_account
from .models import LoginGate

# AccessAttempt.username is a varchar(255); longer identifiers name no account anyway.
_MAX_KEY = 255


def client_ip(request: HttpRequest) -> str:
    """The client address exactly as the API throttles compute it (REST_FRAMEWORK NUM_PROXIES:
    X-Forwarded-For only counts behind that many proxies; IPv6 by /64), so the admin and the
    API agree."""
    return client_ident(request)


def _is_admin(request_or_attempt) -> bool:
    path = getattr(request_or_attempt, "path", None) or getattr(request_or_attempt, "path_info", "")
    return str(path).startswith(reverse("admin:index"))


def lockout_parameters(request_or_attempt, credentials: dict | None = None) -> list[str]:
    """What locks (settings.AXES_LOCKOUT_PARAMETERS): on the admin, too many failures from one
    address or against one account; elsewhere (the API login), against one account."""
    return ["ip_address", "username"] if _is_admin(request_or_attempt) else ["username"]


def account_key(request: HttpRequest, credentials: dict | None) -> str | None:
    """One key per account, whichever identifier was typed: failures with the mobile, the
    e-mail and the username of one account count together. An identifier that names no single
    account is counted as typed."""
    identifier = (credentials or {}).get("username")
    if identifier is None:
        identifier = request.POST.get("username")
    if not identifier:
        return None
    identifier = str(identifier)[:_MAX_KEY]
    # Axes asks several times per attempt: look the account up once per request.
    known = request.__dict__.setdefault("_luffy_account_keys", {})
    if identifier not in known:
        user = find_account(identifier)
        known[identifier] = user.get_username() if user is not None else identifier
    return known[identifier]


def _cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


class LoginLocked(exceptions.Throttled):
    """The API's answer while the account is locked: the same 429 as the admin's page, in the
    envelope, with `wait` the whole cool-off (the lock ends a cool-off after the last counted
    failure, which the client does not know)."""

    def __init__(self) -> None:
        minutes = _cooloff_minutes()
        super().__init__(
            wait=settings.AXES_COOLOFF_TIME.total_seconds(),
            detail=ngettext(
                "登录失败次数过多,此账号已暂时锁定。"
                "请 %(minutes)d 分钟后再试,或使用短信验证码登录。",
                "登录失败次数过多,此账号已暂时锁定。"
                "请 %(minutes)d 分钟后再试,或使用短信验证码登录。",
                minutes,
            )
            % {"minutes": minutes},
        )


def is_locked_out(request) -> bool:
    """Axes refused this request's attempt, or counted the failure that reached the limit."""
    return bool(getattr(request, "axes_locked_out", False))


def forget_failures(account: str) -> None:
    """A right password: the account's failures no longer count (AXES_RESET_ON_SUCCESS does
    this for the admin, through the login signal the API does not send)."""
    AccessAttempt.objects.filter(username=account).delete()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The admin login page's own frame with a message saying why and for how long (429); the
    429 envelope anywhere else (the API answers LoginLocked itself; this is the fallback)."""
    if not _is_admin(request):
        detail = LoginLocked()
        body = {"code": 429, "msg": str(detail.detail), "wait": detail.wait}
        return JsonResponse(body, status=429)
    minutes = _cooloff_minutes()
    context = {
        **admin.site.each_context(request),
        "title": _("登录已暂时锁定"),
        "cooloff_minutes": minutes,
    }
    return render(request, "user/admin_login_locked.html", context, status=429)


@contextmanager
def login_gates(keys: list[str]) -> Iterator[None]:
    """Hold one lock row per key until the block ends.

    Axes reads the failure count, checks the password, then adds the failure: thirty attempts
    sent at once all read the same count and are all checked, and on MariaDB their concurrent
    upserts of one AccessAttempt row can deadlock (a 500). Inside the gates attempts on the same
    IP or account run one after another. Rows are locked in sorted order so two attempts that
    share one key never wait for each other crosswise. On SQLite the first UPDATE takes the
    database's write lock, which serialises the same way.
    """
    keys = sorted(set(keys))
    for key in keys:
        LoginGate.objects.get_or_create(key=key)  # outside the transaction: no insert lock held
    now = timezone.now()
    with transaction.atomic():
        for key in keys:
            LoginGate.objects.filter(key=key).update(touched_at=now)  # takes the row lock
        yield
    _prune_gates(before=now - settings.AXES_COOLOFF_TIME)


def _prune_gates(*, before, batch: int = 100) -> None:
    """Drop rows nobody touched for a cool-off (they guard nothing any more), so the table stays
    as small as the set of recent clients. One row per statement, holding no other lock: a
    range DELETE would lock many rows while gate holders wait for each other, and deadlock."""
    stale = LoginGate.objects.filter(touched_at__lt=before).values_list("pk", flat=True)[:batch]
    for pk in list(stale):
        # Re-checked under the row lock: a gate taken meanwhile has moved touched_at forward.
        LoginGate.objects.filter(pk=pk, touched_at__lt=before).delete()


def is_admin_login_post(request: HttpRequest) -> bool:
    """A POST to the admin's login view. The admin names it `login/` under its own prefix, so a
    path ending otherwise is not it: checked first, since reverse() costs ~0.02 ms of CPU and
    every POST (an order, a notify, a login) passes here (issue 12)."""
    return (
        request.method == "POST"
        and request.path.endswith("login/")
        and request.path == reverse("admin:login")
    )


class AdminLoginGateMiddleware:
    """Runs each POST to the admin login inside the gates of its client IP and its account."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_admin_login_post(request):
            return self.get_response(request)
        keys = [f"ip:{client_ip(request)}"]
        account = account_key(request, None)
        if account:
            keys.append(f"account:{account}")
        with login_gates(keys):
            return self.get_response(request)
