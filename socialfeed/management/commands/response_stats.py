"""python manage.py response_stats --group-by brand [--from ISO] [--to ISO] [--brand SLUG] [--business-hours]
--format csv"""
from __future__ import annotations

import csv
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from incidents.date_inputs import DateInputError, parse_moment
from incidents.models import Brand
from socialfeed.selectors import response_stats

COLUMNS = ["brand", "mentions", "answered", "reply_rate", "median_frt_s", "p90_frt_s", "answered_within_target",
           "first_response_target_s"]
# --business-hours: METRICS.md §4 business-hours FRT in each brand's business hours, beside the calendar figures.
BUSINESS_COLUMNS = ["business_median_frt_s", "business_p90_frt_s", "business_answered_within_target"]


def parse_instant(value: str, option: str) -> datetime:
    """An ISO 8601 date or date-time within the dates Hotline supports; without a zone it is taken as UTC."""
    try:
        return parse_moment(value, field=option)[0]
    except DateInputError as error:
        raise CommandError(str(error)) from None


def format_figure(value: float | None, digits: int) -> str:
    """An empty cell where a value does not exist (METRICS.md §4: never 0 for an empty set)."""
    if value is None:
        return ""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


class Command(BaseCommand):
    help = "Print METRICS.md §4 response figures per brand over mentions created in [--from, --to)."

    def add_arguments(self, parser):
        parser.add_argument("--group-by", choices=["brand"], default="brand")
        parser.add_argument("--from", dest="start")
        parser.add_argument("--to", dest="end")
        parser.add_argument("--as-of", dest="as_of")
        parser.add_argument("--brand", action="append", default=[])
        parser.add_argument("--format", dest="fmt", choices=["csv"], default="csv")
        parser.add_argument("--business-hours", action="store_true", dest="business_hours",
                            help="Add the business-hours FRT figures (median, p90, within target) in each brand's "
                                 "own business hours.")

    def handle(self, *args, start, end, as_of, brand, business_hours=False, **options):
        start_at = parse_instant(start, "--from") if start else None
        end_at = parse_instant(end, "--to") if end else None
        if start_at and end_at and end_at <= start_at:
            raise CommandError("--to must come after --from.")
        brands = Brand.objects.all()
        if brand:
            brands = brands.filter(slug__in=brand)
            unknown = sorted(set(brand) - set(brands.values_list("slug", flat=True)))
            if unknown:
                raise CommandError(f"Unknown brand slug(s): {', '.join(unknown)}.")
        rows = response_stats(brands=brands, start=start_at, end=end_at,
                              as_of=parse_instant(as_of, "--as-of") if as_of else None)
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(COLUMNS + (BUSINESS_COLUMNS if business_hours else []))
        for row in rows:
            cells = [
                row.brand_slug, row.mentions, row.answered, format_figure(row.reply_rate, 4),
                format_figure(row.median_frt_s, 1), format_figure(row.p90_frt_s, 1),
                format_figure(row.answered_within_target, 4), f"{row.target_s:.0f}",
            ]
            if business_hours:
                cells += [format_figure(row.business_median_frt_s, 1), format_figure(row.business_p90_frt_s, 1),
                          format_figure(row.business_answered_within_target, 4)]
            writer.writerow(cells)
