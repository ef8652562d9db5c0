"""Log in with a username, a mobile number or an e-mail address (API and admin alike)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class MultiFieldModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        user_model = get_user_model()
        matches = list(
            user_model._default_manager.filter(
                Q(username=username) | Q(mobile=username) | Q(email__iexact=username)
            )[:3]
        )
        # An exact username wins; otherwise the identifier must name exactly one account.
        user = next((u for u in matches if u.username == username), None)
        if user is None and len(matches) == 1:
            user = matches[0]
        if user is None:
            # Spend the same time hashing as a real check, so timing does not reveal accounts.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
