"""Celery tasks of the incidents app: thin entry points that call services."""
from __future__ import annotations

from celery import shared_task
from django.utils.dateparse import parse_datetime

from .digest import digests_send_due


@shared_task(name="incidents.tasks.send_due_digests", time_limit=900, soft_time_limit=840)
def send_due_digests(now: str | None = None) -> dict:
    """Hourly (beat): send the weekly digests due now. Safe to run twice: each delivery is claimed once.

    ``now`` (ISO 8601) lets an operator re-run a missed hour; beat passes nothing.
    """
    outcome = digests_send_due(now=parse_datetime(now) if now else None)
    return {"sent": outcome.sent, "skipped": outcome.skipped, "failed": outcome.failed}


@shared_task(name="incidents.tasks.alerts_check", ignore_result=True, time_limit=240, soft_time_limit=200)
def alerts_check(brand_ids: list[int] | None = None, now: str | None = None) -> dict:
    """Every minute (beat), and after each ingest batch for the brands it touched: evaluate METRICS.md §8 alerts,
    then send the new deliveries (and, on the beat's run over every brand, the retries that are due).

    Safe to run twice at once: alerts are raised and cleared once, deliveries are claimed once (incidents.alerts).
    """
    from .alerts import alerts_evaluate, deliveries_due
    from .models import Brand

    moment = parse_datetime(now) if now else None
    brands = None if brand_ids is None else list(Brand.objects.filter(pk__in=brand_ids).order_by("id"))
    outcome = alerts_evaluate(brands=brands, now=moment)
    to_send = list(outcome.deliveries)
    if brand_ids is None:
        to_send += [pk for pk in deliveries_due(now=moment) if pk not in set(to_send)]
    for delivery_id in to_send:
        alert_deliver.delay(delivery_id)
    return {"raised": len(outcome.raised), "cleared": len(outcome.cleared), "deliveries": len(to_send)}


@shared_task(bind=True, name="incidents.tasks.alert_deliver", max_retries=None, ignore_result=True,
             time_limit=120, soft_time_limit=100)
def alert_deliver(self, delivery_id: int) -> str:
    """Send one alert delivery (claimed first, so two workers never both send it); a failure that can be retried
    comes back after the backoff incidents.alerts chose. Without a broker, the next beat's sweep retries it."""
    from django.utils import timezone

    from .alerts import delivery_attempt
    from .models import AlertDelivery

    delivery = delivery_attempt(delivery_id=delivery_id)
    if delivery is None:
        return "not due"
    if delivery.status == AlertDelivery.Status.RETRYING and not self.request.is_eager:
        wait = max((delivery.next_attempt_at - timezone.now()).total_seconds(), 0.0)
        raise self.retry(countdown=wait)
    return delivery.status
