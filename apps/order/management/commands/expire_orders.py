"""Time out unpaid orders past their payment window and close their Alipay trades.

Safe from cron every minute, next to live traffic: each order changes under its row lock.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.order import services


class Command(BaseCommand):
    help = "Mark unpaid orders past ORDER_PAY_TIMEOUT_MINUTES as timed out (status 3)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=500,
            help="at most this many per run (default: %(default)s)",
        )

    def handle(self, *args, limit: int, **options) -> None:
        expired = services.expire_orders(limit=limit)
        for out_trade_no in expired:
            self.stdout.write(f"timed out {out_trade_no}")
        self.stdout.write(f"expire_orders: {len(expired)} order(s) timed out")
