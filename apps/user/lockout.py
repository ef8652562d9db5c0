"""How django-axes sees an admin login: who the client is, which account it tries, and the
page a locked-out client gets (wired in settings.AXES_*)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

from .backends import find_account

# AccessAttempt.username is a varchar(255); longer identifiers name no account anyway.
_MAX_KEY = 255


def client_ip(request: HttpRequest) -> str:
    """The client address exactly as the API throttles compute it (REST_FRAMEWORK NUM_PROXIES:
    X-Forwarded-For only counts behind that many proxies), so the admin and the API agree."""
    return BaseThrottle().get_ident(request)


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
    user = find_account(identifier)
    return user.get_username() if user is not None else identifier


def admin_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The admin login page's own frame with a message saying why and for how long (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        **admin.site.each_context(request),
        "title": "登录已暂时锁定",
        "cooloff_minutes": minutes,
    }
    return render(request, "user/admin_login_locked.html", context, status=429)
