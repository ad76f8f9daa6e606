"""METRICS.md §8 alerts: which conditions hold for a brand now, raising each once per occurrence, clearing it when
it no longer holds, and delivering each state exactly once to every channel of the brand's teams.

Conditions (targets from incidents.targets):
- **spike**: a §7 complaint spike at or above the brand's threshold with no ongoing incident, exactly when the
  incidents page suggests opening one (incidents.spikes); its link opens that suggestion;
- **not_acknowledged**: an ongoing incident with no acknowledgement (§5 TTA from incidents.figures: an official
  post or an off-platform communication) after the brand's acknowledgement target;
- **update_overdue**: an ongoing incident whose §5 "since last update" (incidents.figures, off-platform
  broadcasts included) is over the update cadence;
- **unanswered_breaches**: more mentions in an ongoing incident's window that wait unanswered longer than the
  first-response target (§8 breaches that are still unanswered: answering them clears it) than the brand allows.

Exactly once, whatever the number of beats and workers: each brand is evaluated in a transaction holding a
per-brand advisory lock (PostgreSQL; SQLite serialises writers), an open alert is one row under a partial unique
constraint (a second evaluator's insert fails and it does nothing), clearing is a conditional UPDATE, each
(alert, channel, state) delivery is one row under a unique constraint, and sending claims that row with a
conditional UPDATE first. A failed delivery is retried with exponential backoff (``ALERT_RETRY_BASE_SECONDS``
doubling, up to MAX_ATTEMPTS) and then marked failed; its channel shows as failing until a delivery succeeds.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from socialfeed.aggregates import window_counts

from .alert_channels import DeliveryError, Message, channel_send
from .figures import incident_figures
from .models import Alert, AlertChannel, AlertDelivery, Brand, Incident
from .spikes import suggested_incidents
from .targets import Targets, brand_targets
from .templatetags.board_format import duration_text

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # with the default 30 s base: retries over about an hour, then the delivery is marked failed
BACKOFF_CAP_SECONDS = 30 * 60
STALE_AFTER = dt.timedelta(minutes=5)  # a "sending" claim older than this belongs to a dead worker
LOST_AFTER = dt.timedelta(seconds=30)  # a pending delivery nobody picked up (its task was lost) is swept
ALERTS_LOCK_CLASS = 0x486C4131  # pg_advisory_xact_lock(class, brand id); the class reads "HlA1"


@dataclass(frozen=True)
class Condition:
    """A §8 condition that holds now, with the figures that make it hold."""

    kind: str
    scope: str
    incident: Incident | None
    details: dict


@dataclass
class CheckOutcome:
    raised: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)  # new delivery ids, to send
    errors: list[str] = field(default_factory=list)


# --- Conditions ---------------------------------------------------------------------------------------------

def unanswered_breaches(*, incident: Incident, now: dt.datetime, target_s: float) -> int:
    """Mentions of the incident's window still unanswered and older than the first-response target (METRICS.md §8
    breaches that an answer would still end). Read from the per-minute rollups: O(minutes), not O(mentions), at
    every beat of a million-mention outage."""
    end = min(incident.window_end(now), now - dt.timedelta(seconds=target_s))
    if end <= incident.started_at:
        return 0
    counts = window_counts(brand_id=incident.brand_id, start=incident.started_at, end=end)
    return counts["mentions"] - counts["answered"]


def brand_conditions(*, brand: Brand, now: dt.datetime, targets: Targets | None = None) -> list[Condition]:
    """Every METRICS.md §8 condition that holds for one brand at ``now``."""
    targets = targets or brand_targets(brand)
    holding: list[Condition] = []
    ongoing = list(Incident.objects.filter(brand=brand, ended_at__isnull=True, started_at__lte=now)
                   .order_by("started_at", "id"))
    if not ongoing:
        for spike in suggested_incidents(brands=[brand], now=now):
            holding.append(Condition(kind=Alert.Kind.SPIKE, scope="brand", incident=None, details={
                "complaints": spike.complaints, "ratio": round(spike.ratio, 1), "baseline": spike.baseline,
                "threshold": spike.threshold, "detected_start": spike.detected_start.isoformat()}))
    for incident in ongoing:
        scope = f"incident:{incident.pk}"
        base = {"incident_title": incident.title}
        figures = incident_figures(incident=incident, now=now)
        if figures["tta_s"] is None and figures["elapsed_s"] > targets.acknowledgement_target_s:
            holding.append(Condition(kind=Alert.Kind.NOT_ACKNOWLEDGED, scope=scope, incident=incident, details={
                **base, "elapsed_s": figures["elapsed_s"], "target_s": targets.acknowledgement_target_s}))
        since = figures["since_last_update_s"]  # METRICS.md §5, off-platform broadcasts included
        if since is not None and since > targets.update_cadence_s:
            holding.append(Condition(kind=Alert.Kind.UPDATE_OVERDUE, scope=scope, incident=incident, details={
                **base, "since_s": since, "cadence_s": targets.update_cadence_s}))
        waiting = unanswered_breaches(incident=incident, now=now, target_s=targets.first_response_target_s)
        if waiting > targets.unanswered_breach_count:
            holding.append(Condition(kind=Alert.Kind.UNANSWERED_BREACHES, scope=scope, incident=incident,
                                     details={**base, "count": waiting, "limit": targets.unanswered_breach_count,
                                              "target_s": targets.first_response_target_s}))
    return holding


# --- Raising and clearing -------------------------------------------------------------------------------------

def _brand_lock(brand_id: int) -> None:
    """One evaluation of a brand at a time (two beats, two workers): the second waits and then sees the first's
    alerts. Held until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ALERTS_LOCK_CLASS, brand_id])


def _deliveries_create(*, alert: Alert, state: str, now: dt.datetime) -> list[int]:
    """One delivery of this alert state per channel of the brand's teams (the unique row makes it once)."""
    channels = AlertChannel.objects.filter(team__brands=alert.brand_id).distinct().order_by("id")
    AlertDelivery.objects.bulk_create(
        [AlertDelivery(alert=alert, channel=channel, channel_label=str(channel)[:200], state=state, created_at=now)
         for channel in channels], ignore_conflicts=True)
    return list(AlertDelivery.objects.filter(alert=alert, state=state, status=AlertDelivery.Status.PENDING)
                .values_list("id", flat=True))


def brand_alerts_evaluate(*, brand: Brand, now: dt.datetime, outcome: CheckOutcome) -> None:
    """Raise the brand's conditions that hold and have no open alert, clear the open alerts that no longer hold."""
    with transaction.atomic():
        _brand_lock(brand.pk)
        holding = {(c.kind, c.scope): c for c in brand_conditions(brand=brand, now=now)}
        open_alerts = {(a.kind, a.scope): a for a in Alert.objects.filter(brand=brand, cleared_at__isnull=True)}
        for key, condition in holding.items():
            if key in open_alerts:
                continue
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(brand=brand, incident=condition.incident, kind=condition.kind,
                                                 scope=condition.scope, raised_at=now, details=condition.details)
            except IntegrityError:
                continue  # another evaluator raised this occurrence first: theirs stands
            outcome.raised.append(alert)
            outcome.deliveries += _deliveries_create(alert=alert, state=AlertDelivery.State.RAISED, now=now)
        for key, alert in open_alerts.items():
            if key in holding:
                continue
            cleared_at = max(now, alert.raised_at)
            if Alert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(cleared_at=cleared_at) != 1:
                continue  # someone else cleared it
            alert.cleared_at = cleared_at
            outcome.cleared.append(alert)
            outcome.deliveries += _deliveries_create(alert=alert, state=AlertDelivery.State.CLEARED, now=now)


def alerts_evaluate(*, brands: Iterable[Brand] | None = None, now: dt.datetime | None = None) -> CheckOutcome:
    """One evaluation of METRICS.md §8 alerts (every brand by default), as beat runs it every minute and ingestion
    after each batch. A brand whose evaluation fails is logged and skipped; the others go on."""
    now = now or timezone.now()
    outcome = CheckOutcome()
    for brand in (Brand.objects.order_by("id") if brands is None else brands):
        try:
            brand_alerts_evaluate(brand=brand, now=now, outcome=outcome)
        except Exception as exc:  # noqa: BLE001 - one brand's failure must not silence the others' alerts
            logger.exception("alert evaluation of brand %s failed", brand.pk)
            outcome.errors.append(f"{brand.slug}: {exc}")
    return outcome


# --- Wording ----------------------------------------------------------------------------------------------

def alert_summary(alert: Alert, *, state: str | None = None) -> str:
    """One human sentence for an alert state, in the active language."""
    state = state or (AlertDelivery.State.CLEARED if alert.cleared_at else AlertDelivery.State.RAISED)
    d = alert.details or {}
    values = {
        "brand": alert.brand.name, "incident": d.get("incident_title", ""),
        "elapsed": duration_text(d.get("elapsed_s")), "target": duration_text(d.get("target_s")),
        "since": duration_text(d.get("since_s")), "cadence": duration_text(d.get("cadence_s")),
        "count": d.get("count", 0), "limit": d.get("limit", 0), "complaints": d.get("complaints", 0),
        "ratio": d.get("ratio", 0), "threshold": d.get("threshold", 0),
    }
    cleared = state == AlertDelivery.State.CLEARED
    if alert.kind == Alert.Kind.SPIKE:
        text = (_("Complaints about %(brand)s are no longer spiking without an incident.") if cleared else
                _("Complaints about %(brand)s are spiking: %(complaints)s in an hour, %(ratio)s× a normal hour "
                  "(threshold %(threshold)s×), and no incident is open."))
    elif alert.kind == Alert.Kind.NOT_ACKNOWLEDGED:
        text = (_("%(brand)s has acknowledged “%(incident)s”, or it has ended.") if cleared else
                _("%(brand)s has not acknowledged “%(incident)s” after %(elapsed)s (target %(target)s)."))
    elif alert.kind == Alert.Kind.UPDATE_OVERDUE:
        text = (_("%(brand)s has posted an outage update on “%(incident)s”, or it has ended.") if cleared else
                _("No outage update from %(brand)s on “%(incident)s” for %(since)s (update cadence %(cadence)s)."))
    else:
        text = (_("Customers of %(brand)s waiting over %(target)s without an answer on “%(incident)s” are back to "
                  "%(limit)s or fewer, or it has ended.") if cleared else
                _("%(count)s customers of %(brand)s have waited over %(target)s without an answer on "
                  "“%(incident)s” (limit %(limit)s)."))
    return text % values


def alert_url(alert: Alert) -> str:
    """The board of the alert's incident, or for a spike the suggested incident ("open this incident")."""
    site = settings.SITE_URL.rstrip("/")
    if alert.kind == Alert.Kind.SPIKE or alert.incident_id is None:
        return site + reverse("incidents:suggestion", args=[alert.brand.slug])
    return site + reverse("incidents:board", args=[alert.incident_id])


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def alert_message(*, alert: Alert, state: str, language: str, delivery_id: str) -> Message:
    """The message every channel sends for one alert state; ``body`` is the documented webhook JSON."""
    with translation.override(language):
        summary = alert_summary(alert, state=state)
        kind = str(Alert.Kind(alert.kind).label)
        verb = _("Raised") if state == AlertDelivery.State.RAISED else _("Cleared")
        subject = f"[Hotline] {verb}: {alert.brand.name} — {kind}"
        url = alert_url(alert)
        text = f"{summary}\n\n{url}\n"
        link = _("Open the board") if alert.incident_id else _("Open this incident")
        chat_text = f"{_slack_escape(summary)} <{url}|{link}>"
    at = alert.raised_at if state == AlertDelivery.State.RAISED else (alert.cleared_at or alert.raised_at)
    body = {
        "alert": alert.kind, "state": state, "brand": alert.brand.slug, "incident": alert.incident_id,
        "at": _iso(at), "summary": summary, "url": url,
        "id": alert.pk, "raised_at": _iso(alert.raised_at), "cleared_at": _iso(alert.cleared_at),
        "delivery": delivery_id, "details": alert.details,
    }
    return Message(subject=subject, text=text, body=body, delivery_id=delivery_id, chat_text=chat_text)


def _slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup: a brand or incident name must not turn into a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- Delivering -----------------------------------------------------------------------------------------------

def backoff_seconds(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: the base, doubling, capped at 30 minutes."""
    base = float(getattr(settings, "ALERT_RETRY_BASE_SECONDS", 30))
    return min(BACKOFF_CAP_SECONDS, base * 2 ** max(attempts - 1, 0))


def _claimable(now: dt.datetime) -> Q:
    return (Q(status=AlertDelivery.Status.PENDING)
            | Q(status=AlertDelivery.Status.RETRYING, next_attempt_at__lte=now + dt.timedelta(seconds=1))
            | Q(status=AlertDelivery.Status.SENDING, claimed_at__lt=now - STALE_AFTER))


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> AlertDelivery | None:
    """Claim one delivery and send it once. None when it is not due or someone else holds it (sent, sending,
    waiting for its next try). Returns the delivery with its new status otherwise."""
    now = now or timezone.now()
    taken = AlertDelivery.objects.filter(_claimable(now), pk=delivery_id).update(
        status=AlertDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if taken != 1:
        return None
    delivery = AlertDelivery.objects.select_related("alert__brand", "channel").get(pk=delivery_id)
    channel = delivery.channel
    error: DeliveryError | None = None
    if channel is None:
        error = DeliveryError(_("The channel was removed."), permanent=True)
    else:
        message = alert_message(alert=delivery.alert, state=delivery.state, language=channel.language,
                                delivery_id=str(delivery.delivery_id))
        try:
            channel_send(channel, message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the delivery is kept and retried
            logger.exception("alert delivery %s failed unexpectedly", delivery_id)
            error = DeliveryError(f"{type(exc).__name__}: {exc}")
    done = timezone.now()
    if error is None:
        AlertDelivery.objects.filter(pk=delivery_id).update(status=AlertDelivery.Status.SENT, sent_at=done,
                                                            last_error="", next_attempt_at=None)
        AlertChannel.objects.filter(pk=channel.pk).update(consecutive_failures=0, last_success_at=done)
    else:
        give_up = error.permanent or delivery.attempts >= MAX_ATTEMPTS
        AlertDelivery.objects.filter(pk=delivery_id).update(
            status=AlertDelivery.Status.FAILED if give_up else AlertDelivery.Status.RETRYING,
            next_attempt_at=None if give_up else now + dt.timedelta(seconds=backoff_seconds(delivery.attempts)),
            last_error=str(error)[:2000])
        if channel is not None:
            AlertChannel.objects.filter(pk=channel.pk).update(
                consecutive_failures=F("consecutive_failures") + 1, last_error=str(error)[:2000],
                last_error_at=done)
        logger.warning("alert delivery %s to %s failed (%s): %s", delivery_id, delivery.channel_label,
                       "gave up" if give_up else "will retry", error)
    delivery.refresh_from_db()
    return delivery


def deliveries_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries that should be tried now: waiting for a retry that is due, or pending or sending for so long
    that their task must have been lost. Bounded; the next minute takes the rest."""
    now = now or timezone.now()
    due = (Q(status=AlertDelivery.Status.RETRYING, next_attempt_at__lte=now)
           | Q(status=AlertDelivery.Status.PENDING, created_at__lt=now - LOST_AFTER)
           | Q(status=AlertDelivery.Status.SENDING, claimed_at__lt=now - STALE_AFTER))
    return list(AlertDelivery.objects.filter(due).order_by("id").values_list("id", flat=True)[:limit])


# --- The alert log --------------------------------------------------------------------------------------------

def brand_alert_log(*, brand: Brand):
    """The brand's alerts, newest first, with their deliveries (the alert log page)."""
    return (Alert.objects.filter(brand=brand).select_related("incident", "brand")
            .prefetch_related("deliveries__channel").order_by("-raised_at", "-id"))


# A burst of batches of one brand is checked once: the first batch marks a check pending for AFTER_INGEST_DELAY_S
# and queues it to run a second after that mark expires, so every batch it let through (announced after commit,
# while the mark lived) is stored before the check reads.
AFTER_INGEST_DELAY_S = 2


def alerts_check_after_ingest(sender=None, *, brand_ids: list[int], **kwargs) -> None:
    """Receiver of socialfeed.signals.posts_ingested: check the batch's brands now rather than at the next beat.

    With a broker, pollers store many batches a second during an outage: one check per brand is queued to run
    about AFTER_INGEST_DELAY_S later (a shared cache key says one is pending), and it sees every batch stored
    meanwhile.
    Without a broker (the embedded default) each batch is checked in-process at once. A check nobody ran within
    a beat interval is dropped: the beat's own check covers it.
    """
    from django.core.cache import cache

    from config.celery import app

    from .tasks import alerts_check

    expires = float(settings.ALERTS_CHECK_SECONDS) + AFTER_INGEST_DELAY_S + 1
    if app.conf.task_always_eager:
        alerts_check.apply_async(kwargs={"brand_ids": list(brand_ids)})
        return
    due = []
    for brand_id in brand_ids:
        try:
            pending = not cache.add(f"hotline:alerts:after-ingest:{brand_id}", 1, timeout=AFTER_INGEST_DELAY_S)
        except Exception:  # noqa: BLE001 - without the cache, check rather than skip
            pending = False
        if not pending:
            due.append(brand_id)
    if due:
        alerts_check.apply_async(kwargs={"brand_ids": due}, countdown=AFTER_INGEST_DELAY_S + 1, expires=expires)
