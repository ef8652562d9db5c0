"""Delete old entries of the Alipay notify log: refused ones soon, verified ones much later.

Safe from cron (daily) next to live traffic: it only deletes log rows, never orders or refunds.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.order import services


class Command(BaseCommand):
    help = (
        "Delete refused (unverified) notify summaries older than --rejected-days and verified "
        "notifies older than --verified-days."
    )

    def add_arguments(self, parser) -> None:
        rejected = settings.ALIPAY_NOTIFY_REJECTED_RETENTION_DAYS
        verified = settings.ALIPAY_NOTIFY_VERIFIED_RETENTION_DAYS
        parser.add_argument(
            "--rejected-days",
            type=int,
            default=rejected,
            help="keep refused notifies this many days "
            f"(default {rejected}, from ALIPAY_NOTIFY_REJECTED_RETENTION_DAYS)",
        )
        parser.add_argument(
            "--verified-days",
            type=int,
            default=verified,
            help="keep verified notifies this many days "
            f"(default {verified}, from ALIPAY_NOTIFY_VERIFIED_RETENTION_DAYS)",
        )

    def handle(self, *args, rejected_days: int, verified_days: int, **options) -> None:
        if rejected_days < 0 or verified_days < 0:
            raise CommandError("retention days cannot be negative")
        result = services.prune_notifications(
            rejected_after=timedelta(days=rejected_days),
            verified_after=timedelta(days=verified_days),
        )
        self.stdout.write(
            f"prune_notifications: {result.rejected} refused and {result.verified} verified "
            "notify log entries deleted"
        )
