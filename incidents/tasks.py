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
