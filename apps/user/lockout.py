"""How django-axes sees an admin login: who the client is, which account it tries, the page a
locked-out client gets (wired in settings.AXES_*), and the gate that makes simultaneous attempts
wait for each other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

from .backends import find_account
from .models import LoginGate

# AccessAttempt.username is a varchar(255); longer identifiers name no account anyway.
_MAX_KEY = 255


class AdminLoginAxesHandler(AxesDatabaseHandler):
    """Axes' database handler, counting failures of the admin login only.

    AXES_ONLY_ADMIN_SITE makes axes lock the admin only, but axes would still record every
    failed API login: rows nobody reads for a lock, and a way for API guesses at someone's
    account to lock that person out of the admin. The API has its own throttles.
    """

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        if request is None or not self.is_admin_request(request):
            return
        super().user_login_failed(sender, credentials, request, **kwargs)


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
