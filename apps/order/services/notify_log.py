"""Keeping the Alipay notify log bounded: rejected entries go soon, verified ones much later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from ..models import PaymentNotification


@dataclass(frozen=True)
class PruneResult:
    rejected: int  # unverified entries deleted (summaries of junk and forgeries)
    verified: int  # verified notifies deleted


def prune_notifications(
    *, rejected_after: timedelta, verified_after: timedelta, now: datetime | None = None
) -> PruneResult:
    """Delete unverified entries older than `rejected_after` and verified ones older than
    `verified_after`. Orders and refunds keep what settlement needs; the log is for support."""
    now = now or timezone.now()
    rejected, _ = PaymentNotification.objects.filter(
        verified=False, received_at__lt=now - rejected_after
    ).delete()
    verified, _ = PaymentNotification.objects.filter(
        verified=True, received_at__lt=now - verified_after
    ).delete()
    return PruneResult(rejected=rejected, verified=verified)
