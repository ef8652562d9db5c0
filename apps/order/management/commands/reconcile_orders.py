"""Ask Alipay about recent orders not marked paid, and settle those it says are paid.

The safety net for lost notifies (firewalls, outages). Safe from cron next to live traffic.
Exits non-zero (cron mails, the systemd unit turns "failed") when it could not do its job:
Alipay not configured, or a trade query that failed (Alipay down, timing out, garbled).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.order import services
from libs import iPay


class _FailedQueries(logging.Handler):
    """Counts the trade queries the service gave up on. services.reconcile_orders logs and
    skips an order it cannot ask about (so one bad answer does not stop the others) and
    returns only what it settled; its warnings are how this command learns about failures."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("Trade query for"):
            self.count += 1


class Command(BaseCommand):
    help = "Settle recent orders that Alipay reports paid but we have not recorded as paid."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--hours", type=int, default=24, help="look back this many hours (default: %(default)s)"
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=500,
            help="at most this many per run (default: %(default)s)",
        )

    def handle(self, *args, hours: int, limit: int, **options) -> None:
        if not iPay.is_configured():
            raise CommandError("reconcile_orders: Alipay is not configured, nothing to ask")
        since = timezone.now() - timedelta(hours=hours)
        failed = _FailedQueries()
        service_logger = logging.getLogger("luffy.order")
        service_logger.addHandler(failed)
        try:
            settled = services.reconcile_orders(since, limit=limit)
        finally:
            service_logger.removeHandler(failed)
        for out_trade_no in settled:
            self.stdout.write(f"settled {out_trade_no}")
        self.stdout.write(f"reconcile_orders: {len(settled)} order(s) settled")
        if failed.count:
            raise CommandError(
                f"reconcile_orders: {failed.count} trade quer{'y' if failed.count == 1 else 'ies'}"
                " failed (Alipay down or answering garbage); the next run asks again"
            )
