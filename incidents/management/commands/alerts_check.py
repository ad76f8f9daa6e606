"""python manage.py alerts_check [--brand SLUG] [--now ISO]: one evaluation of METRICS.md §8 alerts, as beat runs
every minute, with the deliveries sent here and now (and the retries that are due)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from incidents.alerts import alert_summary, alerts_evaluate, deliveries_due, delivery_attempt
from incidents.date_inputs import DateInputError, parse_moment
from incidents.models import Brand


class Command(BaseCommand):
    help = "Evaluate alerts once (what beat runs every minute); print what was raised, cleared and delivered."

    def add_arguments(self, parser):
        parser.add_argument("--brand", action="append", default=[], help="Only this brand (repeatable).")
        parser.add_argument("--now", default="", help="Evaluate as of this ISO 8601 time (default: now).")

    def handle(self, *args, brand, now, **options):
        moment = timezone.now()
        if now:
            try:  # within the dates Hotline supports; without an offset it is UTC
                moment = parse_moment(now, field="--now")[0]
            except DateInputError as error:
                raise CommandError(str(error)) from None
        brands = None
        if brand:
            brands = list(Brand.objects.filter(slug__in=brand).order_by("id"))
            unknown = sorted(set(brand) - {b.slug for b in brands})
            if unknown:
                raise CommandError(f"--brand: unknown brand slug(s) {', '.join(unknown)}.")
        outcome = alerts_evaluate(brands=brands, now=moment)
        for alert in outcome.raised:
            self.stdout.write(f"Raised {alert.kind} for {alert.brand.slug}: {alert_summary(alert, state='raised')}")
        for alert in outcome.cleared:
            self.stdout.write(f"Cleared {alert.kind} for {alert.brand.slug}: "
                              f"{alert_summary(alert, state='cleared')}")
        to_send = list(outcome.deliveries)
        if brands is None:
            to_send += [pk for pk in deliveries_due(now=moment) if pk not in set(to_send)]
        sent = failed = 0
        for delivery_id in to_send:
            delivery = delivery_attempt(delivery_id=delivery_id, now=moment)
            if delivery is None:
                continue
            line = f"{delivery.state} alert {delivery.alert_id} → {delivery.channel_label}: {delivery.status}"
            if delivery.status == "sent":
                sent += 1
            else:
                failed += 1
                line += f" ({delivery.last_error[:200]})"
            self.stdout.write(line)
        for error in outcome.errors:
            self.stderr.write(f"Not evaluated: {error}")
        self.stdout.write(f"{len(outcome.raised)} raised, {len(outcome.cleared)} cleared, {sent} delivered, "
                          f"{failed} not delivered.")
        if outcome.errors:
            raise CommandError(f"{len(outcome.errors)} brand(s) could not be evaluated (see above).")
