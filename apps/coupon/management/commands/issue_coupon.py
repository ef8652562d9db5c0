"""Staff give a coupon to chosen shoppers (by mobile), as far as its stock and limit allow."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.coupon import services
from apps.coupon.models import Coupon
from apps.user.models import User


class Command(BaseCommand):
    help = "Issue a coupon to shoppers by mobile (those at their limit or past the stock: listed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("coupon", type=int, help="the coupon's id")
        parser.add_argument("mobiles", nargs="+", help="the shoppers' mobile numbers")

    def handle(self, *args, coupon: int, mobiles: list[str], **options) -> None:
        if not Coupon.objects.filter(pk=coupon).exists():
            raise CommandError(f"no coupon {coupon}")
        users = list(User.objects.filter(mobile__in=mobiles).order_by("pk"))
        unknown = sorted(set(mobiles) - {u.mobile for u in users})
        result = services.issue_coupon(coupon, users=users)
        self.stdout.write(
            f"issue_coupon: {len(result.issued)} issued, {len(result.skipped)} skipped "
            f"(limit or stock: user ids {result.skipped}), unknown mobiles {unknown}"
        )
