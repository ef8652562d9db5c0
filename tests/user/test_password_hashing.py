"""Passwords are stored as Argon2id (apps/user/hashers.py); PBKDF2 hashes made before still log
in and become Argon2id at their owner's next good login.

The test settings hash with MD5 for speed; these tests put production's PASSWORD_HASHERS back,
so the real Argon2id (argon2-cffi) and PBKDF2 code runs.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password
from django.core.management import call_command
from rest_framework.test import APIClient

import luffy_api.settings as production
from apps.user import services
from apps.user.hashers import LuffyArgon2PasswordHasher
from apps.user.models import User
from tests.factories import TEST_PASSWORD, UserFactory

from .helpers import MUL_LOGIN_URL

pytestmark = pytest.mark.django_db

ARGON2ID = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


@pytest.fixture
def real_hashers(settings):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


@pytest.fixture
def pbkdf2_user(real_hashers) -> User:
    """An account from before the switch: a real PBKDF2 hash, Django's default iterations."""
    user = UserFactory()
    user.password = PBKDF2PasswordHasher().encode(TEST_PASSWORD, "beforeArgon2salt")
    user.save(update_fields=["password"])
    return user


def login(user: User, password: str = TEST_PASSWORD):
    return APIClient().post(
        MUL_LOGIN_URL, {"username": user.username, "password": password}, format="json"
    )


def test_production_hashes_new_passwords_with_argon2id_at_the_chosen_parameters(real_hashers):
    assert production.PASSWORD_HASHERS[0] == "apps.user.hashers.LuffyArgon2PasswordHasher"
    encoded = make_password(TEST_PASSWORD)
    assert encoded.startswith(ARGON2ID)
    assert check_password(TEST_PASSWORD, encoded)
    assert not check_password(TEST_PASSWORD + "x", encoded)


def test_a_pbkdf2_hash_is_upgraded_to_argon2id_on_the_next_login(pbkdf2_user):
    assert pbkdf2_user.password.startswith("pbkdf2_sha256$")
    assert login(pbkdf2_user).status_code == 200
    pbkdf2_user.refresh_from_db()
    assert pbkdf2_user.password.startswith(ARGON2ID)
    # The same password still opens the account, now through Argon2id.
    assert login(pbkdf2_user).status_code == 200
    assert login(pbkdf2_user, TEST_PASSWORD + "x").status_code == 400


def test_a_wrong_password_does_not_upgrade_a_pbkdf2_hash(pbkdf2_user):
    before = pbkdf2_user.password
    assert login(pbkdf2_user, "not-the-password").status_code == 400
    pbkdf2_user.refresh_from_db()
    assert pbkdf2_user.password == before


def test_an_argon2id_login_hashes_the_password_once_and_writes_no_new_hash(
    real_hashers, monkeypatch
):
    user = UserFactory()
    user.set_password(TEST_PASSWORD)
    user.save(update_fields=["password"])
    stored = user.password
    calls = []
    for name in ("verify", "encode"):
        real = getattr(LuffyArgon2PasswordHasher, name)

        def spy(self, *args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(LuffyArgon2PasswordHasher, name, spy)
    assert login(user).status_code == 200
    assert calls == ["verify"]
    user.refresh_from_db()
    assert user.password == stored


def test_changed_passwords_and_new_superusers_get_argon2id(real_hashers, monkeypatch):
    user = UserFactory()
    services.change_password(user, old_password=TEST_PASSWORD, new_password="Another-pass-2026")
    user.refresh_from_db()
    assert user.password.startswith(ARGON2ID)
    assert user.check_password("Another-pass-2026")

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Admin-pass-2026")
    call_command(
        "createsuperuser", interactive=False, username="boss", email="boss@example.com", verbosity=0
    )
    boss = User.objects.get(username="boss")
    assert boss.password.startswith(ARGON2ID) and boss.check_password("Admin-pass-2026")
