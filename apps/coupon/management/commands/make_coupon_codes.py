"""Staff make a batch of single-use redeem codes for a coupon and get them as CSV."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import APIException

from apps.coupon import export, services


class Command(BaseCommand):
    help = "Make N single-use codes for a coupon obtained by batch codes; CSV to stdout or a file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("coupon", type=int, help="the coupon's id")
        parser.add_argument("size", type=int, help="how many codes")
        parser.add_argument("--note", default="", help="a note kept with the batch")
        parser.add_argument("--output", help="write the CSV here instead of stdout")

    def handle(self, *args, coupon: int, size: int, note: str, output: str | None, **options):
        try:
            batch = services.create_code_batch(coupon, size=size, note=note[:64])
        except APIException as exc:
            raise CommandError(str(exc.detail)) from exc
        chunks = export.batch_csv(batch)
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                out.writelines(chunks)
            self.stderr.write(f"make_coupon_codes: batch {batch.pk}, {size} codes in {output}")
        else:
            self.stdout.write("".join(chunks), ending="")
