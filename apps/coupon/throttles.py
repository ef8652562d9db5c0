"""Rate limit of redeeming codes: guessing codes one request at a time stays slow."""

from rest_framework.throttling import UserRateThrottle


class RedeemThrottle(UserRateThrottle):
    scope = "coupon_redeem"
    rate = "10/min"  # a shopper types a code a few times at most
