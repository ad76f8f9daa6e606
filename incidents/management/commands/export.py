"""python manage.py export KIND [--brand SLUG] [--from ISO] [--to ISO] [--incident ID] [--platform P] [--bom]
[--raw] --out FILE|-

The same CSV as the pages' download buttons, streamed to a file or stdout. ``--raw`` writes text exactly as
stored (no apostrophe before cells a spreadsheet would run as formulas), for pandas and BI tools. Run from a shell on the server, it
sees every brand unless ``--user`` names the analyst it runs for (then only that user's brands, and only if they
may export). Every run is written to the audit log.
"""
from __future__ import annotations

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents import exports
from incidents.models import Brand
from incidents.roles import brands_visible_to, can_export


class Command(BaseCommand):
    help = "Export mentions, posts, official posts, incidents or brand weeks as CSV (see docs/exports.md)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=list(exports.KINDS))
        parser.add_argument("--brand", default="", help="brand slug")
        parser.add_argument("--from", dest="start", default="", help="ISO 8601 date or date-time (inclusive)")
        parser.add_argument("--to", dest="end", default="", help="ISO 8601 date (whole day included) or date-time")
        parser.add_argument("--incident", default="", help="incident number: its outage window only")
        parser.add_argument("--platform", default="", help="x, mastodon, bluesky, reddit or feed")
        parser.add_argument("--bom", action="store_true", help="start with a UTF-8 BOM so Excel reads accents")
        parser.add_argument("--raw", action="store_true",
                            help="text exactly as stored, for pandas and BI tools: cells a spreadsheet would run as "
                                 "formulas are NOT neutralised, so do not open the file in a spreadsheet")
        parser.add_argument("--user", default="", help="export as this user (their brands and permission)")
        parser.add_argument("--out", required=True, help="file to write, or - for stdout")

    def handle(self, *args, kind: str, out: str, bom: bool, raw: bool, user: str, **options) -> None:
        try:
            filters = exports.filters_from({
                "brand": options["brand"], "from": options["start"], "to": options["end"],
                "incident": options["incident"], "platform": options["platform"],
            })
        except exports.ExportError as error:
            raise CommandError(str(error)) from None
        account = None
        brands = Brand.objects.all()
        if user:
            account = get_user_model().objects.filter(username=user).first()
            if account is None or not can_export(account):
                raise CommandError(f"{user!r} is not a user who may export (analysts and admins only).")
            brands = brands_visible_to(account)
        try:
            rows = exports.export_start(kind=kind, brands=brands, filters=filters, user=account, raw=raw)
        except exports.ExportError as error:
            raise CommandError(str(error)) from None
        chunks = exports.csv_chunks(kind=kind, rows=rows, bom=bom, raw=raw)
        if out == "-":
            stream = sys.stdout if self.stdout._out is sys.stdout else self.stdout._out
            for chunk in chunks:
                stream.write(chunk)
            stream.flush()
            return
        with open(out, "w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
        self.stderr.write(f"Wrote {out} ({kind}).")
