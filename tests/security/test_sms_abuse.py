"""A day of attack on one mobile's SMS codes, with the clock moved forward: how many codes the
victim's phone receives and how many guesses at them are checked (issue 23).

Before: one code a minute for any number from any addresses (1,440 a day) and 5 wrong guesses
each, about 7,200 guesses a day at a 6-digit code. Now: THROTTLE_SMS_MOBILE_DAY codes and
SMS_CHECK_FAILURES_PER_DAY wrong guesses a day, whatever the addresses. The throttle windows are
counted in the database here (the clock is moved, not waited for), so this file is not in the
Makefile's Redis list.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import cycle

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from apps.user.models import SmsCode
from tests.factories import UserFactory
from tests.user.helpers import PASSWORD_RESET_URL, send_sms

pytestmark = pytest.mark.django_db

ROUNDS_A_DAY = 144  # the attacker tries every 10 minutes for 24 hours
GUESSES_PER_CODE = 5  # SMS_CODE_MAX_ATTEMPTS: all a code allows


def test_a_day_of_attack_on_one_mobile_gets_the_daily_caps_and_no_more(monkeypatch, caplog):
    victim = UserFactory()
    addresses = cycle(f"198.51.100.{n}" for n in range(1, 31))
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: clock["now"].timestamp())
    sends, checks = Counter(), Counter()

    for round_ in range(ROUNDS_A_DAY):
        clock["now"] = start + timedelta(minutes=10 * round_)
        sends[send_sms(APIClient(), victim.mobile, REMOTE_ADDR=next(addresses)).status_code] += 1
        for guess in range(GUESSES_PER_CODE):
            body = {"mobile": victim.mobile, "code": f"{guess:06d}", "new_password": "Aa-9x7-z!"}
            client = APIClient(REMOTE_ADDR=next(addresses))
            checks[client.post(PASSWORD_RESET_URL, body, format="json").status_code] += 1

    codes = SmsCode.objects.filter(mobile=victim.mobile)
    evaluated = sum(codes.values_list("attempts", flat=True))
    print(
        f"\none mobile, {ROUNDS_A_DAY} rounds in 24 h from 30 addresses: {sends[200]} codes sent "
        f"({sends[429]} refused); {evaluated} guesses checked, {checks[429]} refused"
    )
    day_cap = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["sms_mobile_day"].split("/")[0])
    assert sends[200] == codes.count() == day_cap
    assert evaluated == settings.SMS_CHECK_FAILURES_PER_DAY
    assert checks[400] == evaluated  # every other guess was refused before any code was read
    assert checks[429] == ROUNDS_A_DAY * GUESSES_PER_CODE - evaluated
