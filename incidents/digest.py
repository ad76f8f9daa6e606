"""The weekly e-mail digest: who is due, claiming a delivery exactly once, and sending it.

Beat calls ``digests_send_due`` every hour. A subscriber is due from Monday 08:00 in their own time zone until
the end of that Monday, for the ISO week that just ended; the figures are those of the weekly page, computed in
the brand's time zone. Exactly once per subscriber, brand and week: a DigestDelivery row is claimed before the
message leaves (a unique insert, or a conditional UPDATE taking over a failed attempt or a "sending" one that a
dead worker left behind for longer than STALE_AFTER), and marked sent afterwards.
"""
from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .business_hours import hours_summary
from .models import DigestDelivery, DigestSubscription
from .reports import WeekRow, week_containing, week_shift, weekly_summary
from .roles import brands_visible_to

log = logging.getLogger(__name__)

SEND_AT_HOUR = 8  # Monday 08:00 in the subscriber's time zone
STALE_AFTER = timedelta(minutes=30)  # a "sending" claim older than this belongs to a dead worker
MAX_PER_RUN = 500  # bounded batch: the next hourly run picks up the rest


@dataclass(frozen=True)
class DigestOutcome:
    sent: int = 0
    skipped: int = 0
    failed: int = 0


def digest_week_due(*, subscription: DigestSubscription, now: datetime) -> str | None:
    """The ISO week whose digest is due now for this subscriber, or None when it is not Monday 08:00–24:00."""
    local = now.astimezone(zoneinfo.ZoneInfo(subscription.time_zone))
    if local.isoweekday() != 1 or local.hour < SEND_AT_HOUR:
        return None
    return week_shift(week_containing(moment=local, zone=local.tzinfo), -1)


def delivery_claim(*, user, brand, week: str, now: datetime) -> DigestDelivery | None:
    """Claim the (user, brand, week) delivery; None when it was sent already or another worker holds it."""
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(user=user, brand=brand, week=week, claimed_at=now,
                                                 status=DigestDelivery.Status.SENDING)
    except IntegrityError:
        pass
    existing = DigestDelivery.objects.filter(user=user, brand=brand, week=week).first()
    if existing is None or existing.status == DigestDelivery.Status.SENT:
        return None
    if existing.status == DigestDelivery.Status.SENDING and existing.claimed_at > now - STALE_AFTER:
        return None
    # Take over a failed or abandoned attempt; the WHERE on the old claim time lets exactly one worker win.
    taken = DigestDelivery.objects.filter(
        pk=existing.pk, status=existing.status, claimed_at=existing.claimed_at,
    ).update(status=DigestDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if taken != 1:
        return None
    existing.refresh_from_db()
    return existing


def digest_message(*, user, row: WeekRow, to: str) -> EmailMultiAlternatives:
    """The digest e-mail: plain-text and HTML parts with the week's figures, changes, incidents and a link."""
    bw = row.current
    query = urlencode({"week": bw.week, "tz": bw.zone, "brand": bw.brand.slug})
    context = {
        "user": user, "row": row, "week": bw, "brand": bw.brand, "hours_summary": hours_summary(bw.brand),
        "page_url": f"{settings.SITE_URL.rstrip('/')}{reverse('reports:week')}?{query}",
        "brand_url": f"{settings.SITE_URL.rstrip('/')}{reverse('reports:brand', args=[bw.brand.slug])}",
    }
    subject = f"Hotline weekly digest — {bw.brand.name}, {bw.week}"
    message = EmailMultiAlternatives(subject=subject, body=render_to_string("email/digest.txt", context),
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(render_to_string("email/digest.html", context), "text/html")
    return message


def digests_send_due(*, now: datetime | None = None) -> DigestOutcome:
    """Send every digest due at ``now`` that has not been sent yet (bounded to MAX_PER_RUN per run)."""
    now = now or timezone.now()
    sent = skipped = failed = 0
    subscriptions = DigestSubscription.objects.select_related("user", "brand").order_by("id")
    handled = 0
    for subscription in subscriptions.iterator(chunk_size=500):
        week = digest_week_due(subscription=subscription, now=now)
        if week is None:
            continue
        user, brand = subscription.user, subscription.brand
        # Brand isolation: a subscriber who left the brand's team no longer receives its figures.
        if not user.is_active or not user.email or not brands_visible_to(user).filter(pk=brand.pk).exists():
            skipped += 1
            continue
        delivery = delivery_claim(user=user, brand=brand, week=week, now=now)
        if delivery is None:
            skipped += 1
            continue
        handled += 1
        try:
            row = weekly_summary(brands=[brand], week=week, zone=brand.zone, as_of=now)[0]
            digest_message(user=user, row=row, to=user.email).send()
        except Exception as error:  # noqa: BLE001 — any failure leaves the claim "failed" for the next run
            log.warning("Digest for %s / %s / %s failed: %s", user.pk, brand.slug, week, error)
            DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.FAILED,
                                                                 last_error=str(error)[:2000])
            failed += 1
        else:
            DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.SENT,
                                                                 sent_at=timezone.now(), last_error="")
            sent += 1
        if handled >= MAX_PER_RUN:
            break
    return DigestOutcome(sent=sent, skipped=skipped, failed=failed)


def digest_now(*, brand, now: datetime | None = None) -> WeekRow:
    """The digest's figures for the last complete ISO week in the brand's time zone, as Monday's digest has them."""
    now = now or timezone.now()
    week = week_shift(week_containing(moment=now, zone=brand.zone), -1)
    return weekly_summary(brands=[brand], week=week, zone=brand.zone, as_of=now)[0]


def digest_send_now(*, user, brand, now: datetime | None = None) -> str:
    """"Send me this digest now": last week's digest of one brand to the user, at once. Not a weekly delivery:
    Monday's digest still goes out. Returns the week sent. ValueError when the user has no e-mail address."""
    if not user.email:
        raise ValueError("no e-mail address")
    row = digest_now(brand=brand, now=now)
    digest_message(user=user, row=row, to=user.email).send()
    return row.current.week
