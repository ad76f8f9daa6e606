"""python manage.py recompute_responses [--brand SLUG]"""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from incidents.models import Brand
from socialfeed.services import responses_recompute


class Command(BaseCommand):
    help = "Recompute every mention's first response from stored posts (METRICS.md §3)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", action="append", default=[], help="Brand slug (repeatable); default all.")

    def handle(self, *args, brand, **options):
        brand_ids = None
        if brand:
            found = dict(Brand.objects.filter(slug__in=brand).values_list("slug", "id"))
            unknown = sorted(set(brand) - set(found))
            if unknown:
                raise CommandError(f"Unknown brand slug(s): {', '.join(unknown)}.")
            brand_ids = list(found.values())
        bar = tqdm(unit=" groups", desc="Recomputing", disable=not sys.stderr.isatty(), file=sys.stderr)
        changed = responses_recompute(brand_ids=brand_ids, progress=bar.update)
        bar.close()
        self.stdout.write(f"{changed} mention(s) changed.")
