"""Rate limits for the account endpoints (rates in settings.REST_FRAMEWORK), counted atomically
by utils.throttling. Per address: IPv6 clients by /64 (utils.throttling.client_ident)."""

from __future__ import annotations

import re

from utils.throttling import AtomicRateThrottle, ClientIpThrottle

from .models import MOBILE_REGEX

_mobile = re.compile(MOBILE_REGEX)


class SmsIpThrottle(ClientIpThrottle):
    scope = "sms_ip"


class LoginIpThrottle(ClientIpThrottle):
    scope = "login"


class MobileCheckThrottle(ClientIpThrottle):
    scope = "anon_check"


class SmsMobileThrottle(AtomicRateThrottle):
    """One SMS per mobile number per period, whoever asks for it."""

    scope = "sms_mobile"

    def get_cache_key(self, request, view):
        data = request.data  # the JSON body of send_sms (415 for anything else)
        mobile = data.get("mobile") if isinstance(data, dict) else None
        # Read like the serializer's CharField does (it takes a JSON number as its digits, and
        # strips), so 13812345678 and " 138..." count as "138...".
        if isinstance(mobile, bool) or not isinstance(mobile, str | int):
            return None  # rejected by validation, not counted
        mobile = str(mobile).strip()
        if not _mobile.fullmatch(mobile):
            return None  # invalid numbers are rejected by validation, not counted
        return self.cache_format % {"scope": self.scope, "ident": mobile}


class SmsMobileDailyThrottle(SmsMobileThrottle):
    """At most so many codes per mobile number a day (THROTTLE_SMS_MOBILE_DAY), whoever asks:
    what an attacker with many addresses can cost us, or send to one person, in a day."""

    scope = "sms_mobile_day"
