"""Fixtures for the account tests: real SMS codes read from the log, staff users."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from apps.user.models import SmsCode
from tests.factories import UserFactory
from utils.models import ThrottleCounter

from .helpers import assert_ok, send_sms

SMS_LOG = re.compile(r"^SMS code for (?P<mobile>\S+): (?P<code>\S+) ")

# Not the 139 prefix UserFactory hands out, so nobody owns it unless a test says so.
NEW_MOBILE = "13712345678"


@pytest.fixture
def new_mobile(db) -> str:
    return NEW_MOBILE


@pytest.fixture
def sms_log(caplog) -> Callable[[], list[tuple[str, str]]]:
    """(mobile, code) pairs the log SMS backend has "sent" so far in this test."""
    caplog.set_level(logging.INFO, logger="luffy.sms")

    def sent() -> list[tuple[str, str]]:
        pairs = []
        for record in caplog.records:
            if record.name == "luffy.sms" and (match := SMS_LOG.match(record.getMessage())):
                pairs.append((match["mobile"], match["code"]))
        return pairs

    return sent


@pytest.fixture
def request_code(sms_log) -> Callable[..., str]:
    """Ask the API for a code the way the app does and return the code the user would read."""

    def request(mobile: str, client: APIClient | None = None) -> str:
        before = len(sms_log())
        assert_ok(send_sms(client or APIClient(), mobile))
        sent = sms_log()[before:]
        assert len(sent) == 1 and sent[0][0] == mobile, sent
        return sent[0][1]

    return request


@pytest.fixture
def forget_throttles() -> Callable[[], None]:
    """Stand-in for "a minute later": forget every throttle count."""

    def forget() -> None:
        ThrottleCounter.objects.all().delete()
        cache.clear()

    return forget


@pytest.fixture
def latest_code_row() -> Callable[[str], SmsCode]:
    def latest(mobile: str) -> SmsCode:
        return SmsCode.objects.filter(mobile=mobile).latest("id")

    return latest


@pytest.fixture
def registered_user(db):
    """A user who owns a mobile number and can receive codes on it."""
    return UserFactory()


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client
