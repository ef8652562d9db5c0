"""Put back on sale the flash-sale seats whose order was never placed (a process that died
between taking the seat and placing its order). Safe from cron every minute.

Seats of orders that are cancelled or time out come back by themselves (expire_orders).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.promotion import services


class Command(BaseCommand):
    help = "Give back flash-sale seats taken over 10 minutes ago that have no order."

    def handle(self, *args, **options) -> None:
        released = services.release_orphan_seats()
        self.stdout.write(f"release_flash_seats: {released} seat(s) back on sale")
