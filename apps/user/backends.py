"""Log in with a username, a mobile number or an e-mail address (API and admin alike), and the
admin login lockout that runs before it."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from .models import User


def find_account(identifier: str) -> User | None:
    """The account a login identifier names: an exact username first, otherwise the one
    account whose mobile or e-mail it is (None when it names none, or several)."""
    user_model = get_user_model()
    matches = list(
        user_model._default_manager.filter(
            Q(username=identifier) | Q(mobile=identifier) | Q(email__iexact=identifier)
        )[:3]
    )
    user = next((u for u in matches if u.username == identifier), None)
    if user is None and len(matches) == 1:
        user = matches[0]
    return user


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' check, first in AUTHENTICATION_BACKENDS: a locked-out client or account is
    refused before its password is looked at (settings.AXES_*; only /admin/ is locked).

    Axes insists on the request. Code that authenticates without one (the test client's
    login(), a shell) has no client to lock out and no HTTP caller to attack through, so it
    skips the check instead of crashing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class MultiFieldModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        user = find_account(username)
        if user is None:
            # Spend the same time hashing as a real check, so timing does not reveal accounts.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
