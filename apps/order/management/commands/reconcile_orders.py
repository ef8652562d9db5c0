"""Ask Alipay about recent orders not marked paid, and settle those it says are paid; finish
refunds left pending (timeouts, crashes) with their own out_request_no.

The safety net for lost notifies and lost refund answers (firewalls, outages). Safe from cron
next to live traffic. Exits non-zero (cron mails, the systemd unit turns "failed") when it could
not do its job: Alipay not configured, or a trade query that failed (Alipay down, timing out,
garbled).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.order import services
from libs import iPay


class Command(BaseCommand):
    help = (
        "Settle recent orders that Alipay reports paid but we have not recorded as paid, and "
        "finish pending refunds."
    )

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
        result = services.reconcile_orders(since, limit=limit)
        for out_trade_no in result.settled:
            self.stdout.write(f"settled {out_trade_no}")
        self.stdout.write(f"reconcile_orders: {len(result.settled)} order(s) settled")
        refunds = services.resolve_pending_refunds(limit=limit)
        for refund in refunds:
            self.stdout.write(f"refund {refund.out_request_no} {refund.status}")
        if refunds:
            self.stdout.write(f"reconcile_orders: {len(refunds)} pending refund(s) finished")
        if result.failed:
            count = len(result.failed)
            raise CommandError(
                f"reconcile_orders: {count} trade quer{'y' if count == 1 else 'ies'}"
                " failed (Alipay down or answering garbage); the next run asks again"
            )
