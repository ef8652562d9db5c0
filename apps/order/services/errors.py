"""Domain errors of the order services (callers without an HTTP request decide the answer)."""


class SettlementRejected(Exception):
    """A payment report that must not be accepted (unknown order, wrong amount)."""
