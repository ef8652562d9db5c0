"""Rate limits of the order endpoints (rates in settings.REST_FRAMEWORK)."""

from utils.throttling import ClientIpThrottle


class PayStatusThrottle(ClientIpThrottle):
    """The pay-success page may ask Alipay on each call: keep one client from driving that."""

    scope = "pay_status"
