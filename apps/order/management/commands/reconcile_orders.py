"""Ask Alipay about recent orders not marked paid, and settle those it says are paid; finish
refunds left pending (timeouts, crashes) with their own out_request_no.

The safety net for lost notifies and lost refund answers (firewalls, outages). Safe from cron
next to live traffic.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.order import services
from libs import iPay


class Command(BaseCommand):
    help = (
        "Settle recent orders that Alipay reports paid but we have not recorded as paid, and "
        "finish pending refunds."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hours", type=int, default=24, help="look back this many hours")
        parser.add_argument("--limit", type=int, default=500, help="at most this many per run")

    def handle(self, *args, hours: int, limit: int, **options) -> None:
        if not iPay.is_configured():
            self.stdout.write("reconcile_orders: Alipay is not configured, nothing to ask")
            return
        since = timezone.now() - timedelta(hours=hours)
        settled = services.reconcile_orders(since, limit=limit)
        for out_trade_no in settled:
            self.stdout.write(f"settled {out_trade_no}")
        self.stdout.write(f"reconcile_orders: {len(settled)} order(s) settled")
        refunds = services.resolve_pending_refunds(limit=limit)
        for refund in refunds:
            self.stdout.write(f"refund {refund.out_request_no} {refund.status}")
        if refunds:
            self.stdout.write(f"reconcile_orders: {len(refunds)} pending refund(s) finished")
