"""Rate limits for the account endpoints (rates in settings.REST_FRAMEWORK), counted atomically
by utils.throttling."""

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
        # Strip like the serializer's CharField does, so " 138..." counts as "138...".
        mobile = request.query_params.get("mobile", "").strip()
        if not _mobile.fullmatch(mobile):
            return None  # invalid numbers are rejected by validation, not counted
        return self.cache_format % {"scope": self.scope, "ident": mobile}
