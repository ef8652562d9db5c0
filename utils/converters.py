"""URL converters."""


class IdConverter:
    """A database id: 1 to 18 digits, so an absurd number is a 404, not an integer overflow."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class TradeNoConverter:
    """An order number (out_trade_no): letters, digits, _ and -, at most 64."""

    regex = "[0-9A-Za-z_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
