"""METRICS.md §5 figures of one incident: its window, acknowledgement, updates, silences and phases, with the
§4 aggregates over the window. The board, the incidents list, weekly reports and exports read them here.
"""
from __future__ import annotations

import datetime as dt

from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from socialfeed.aggregates import frt_quantiles, window_counts
from socialfeed.models import Mention, Post

from .models import Incident
from .targets import brand_targets
from .templatetags.board_format import duration_text, percent_text

PHASE = dt.timedelta(days=7)  # METRICS.md §5 before / after phases
OUTAGE_CATEGORIES = (Post.Category.APOLOGY, Post.Category.STATUS_UPDATE, Post.Category.WORKAROUND,
                     Post.Category.RESOLUTION)  # METRICS.md §6 outage-related


def official_posts(incident: Incident):
    return Post.objects.filter(official_brand_id=incident.brand_id)


def incident_figures(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """Every headline figure of one incident (METRICS.md §4 aggregates over the window, §5 incident figures).

    Keys: window_start, window_end, elapsed_s, tta_s (None: not acknowledged yet), first_update_s,
    longest_silence_s, off_message_count, mentions, answered, unanswered, reply_rate (None when empty),
    median_frt_s, p90_frt_s, answered_within_target (share answered within the brand's first-response target,
    None when empty), first_response_target_s (that target, METRICS.md §8), complaints, net_sentiment,
    oldest_unanswered_wait_s, phases {before, during, after: {start, end, mentions, per_hour}}.
    """
    now = now or timezone.now()
    start, end = incident.started_at, incident.window_end(now)
    official = official_posts(incident)

    # §5 time to acknowledge / to first public update: first outage-related official post at or after start.
    acknowledging = official.filter(created_at__gte=start, category__in=OUTAGE_CATEGORIES)
    first_ack = acknowledging.aggregate(at=Min("created_at"))["at"]
    first_update = acknowledging.filter(official_kind=Post.OfficialKind.BROADCAST).aggregate(at=Min("created_at"))["at"]

    # §5 longest silence: gaps between broadcasts inside the window, from started_at and to the window's end.
    broadcasts = list(
        official.filter(official_kind=Post.OfficialKind.BROADCAST, created_at__gte=start, created_at__lt=end)
        .order_by("created_at").values_list("created_at", "category")
    )
    marks = [start] + [at for at, _category in broadcasts] + [end]
    longest_silence = max((b - a).total_seconds() for a, b in zip(marks, marks[1:], strict=False))
    off_message = sum(1 for _at, category in broadcasts if category == Post.Category.PROMOTIONAL)

    counts = window_counts(brand_id=incident.brand_id, start=start, end=end)
    mentions = counts["mentions"]
    quantiles = frt_quantiles(brand_id=incident.brand_id, start=start, end=end).get(0, (None, None))
    # The first row of the queue index (brand, answered, created_at): one probe, however long the queue.
    oldest = Mention.objects.filter(
        brand_id=incident.brand_id, answered=False, created_at__gte=start, created_at__lt=end
    ).order_by("created_at").values_list("created_at", flat=True).first()

    after_end = min(end + PHASE, now) if incident.ended_at else end
    phases = {}
    for name, lo, hi in (("before", start - PHASE, start), ("during", start, end), ("after", end, after_end)):
        n = counts["mentions"] if name == "during" else window_counts(
            brand_id=incident.brand_id, start=lo, end=hi)["mentions"]
        hours = (hi - lo).total_seconds() / 3600
        phases[name] = {"start": lo, "end": hi, "mentions": n, "per_hour": (n / hours) if hours > 0 else None}

    return {
        "window_start": start,
        "window_end": end,
        "elapsed_s": (end - start).total_seconds(),
        "tta_s": (first_ack - start).total_seconds() if first_ack else None,
        "first_update_s": (first_update - start).total_seconds() if first_update else None,
        "longest_silence_s": longest_silence,
        "off_message_count": off_message,
        "mentions": mentions,
        "answered": counts["answered"],
        "unanswered": mentions - counts["answered"],
        "reply_rate": counts["answered"] / mentions if mentions else None,
        "median_frt_s": quantiles[0],
        "p90_frt_s": quantiles[1],
        "answered_within_target": counts["answered_within_target"] / mentions if mentions else None,
        "first_response_target_s": brand_targets(incident.brand_id).first_response_target_s,
        "complaints": counts["complaints"],
        "net_sentiment": (counts["positive"] - counts["negative"]) / mentions if mentions else None,
        "oldest_unanswered_wait_s": (now - oldest).total_seconds() if oldest else None,
        "phases": phases,
    }


def last_update_at(*, incident: Incident, now: dt.datetime | None = None) -> dt.datetime | None:
    """The last outage-related broadcast of the brand (METRICS.md §5, §6) at or after the incident's start and
    not after ``now``; None when there is none yet. Read from the same official posts as incident_figures."""
    now = now or timezone.now()
    return (official_posts(incident)
            .filter(official_kind=Post.OfficialKind.BROADCAST, category__in=OUTAGE_CATEGORIES,
                    created_at__gte=incident.started_at, created_at__lte=now)
            .aggregate(at=Max("created_at"))["at"])


def since_last_update_s(*, incident: Incident, now: dt.datetime | None = None) -> float | None:
    """METRICS.md §5 since last update of an ongoing incident: from the last outage-related broadcast, or from
    started_at when there is none, to now. None for an incident that has ended."""
    if not incident.is_ongoing:
        return None
    now = now or timezone.now()
    last = last_update_at(incident=incident, now=now)
    return max((now - (last or incident.started_at)).total_seconds(), 0.0)


def incident_summary(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """What the incidents list shows per row: elapsed, reply rate, unanswered, TTA (METRICS.md §4, §5)."""
    now = now or timezone.now()
    start, end = incident.started_at, incident.window_end(now)
    counts = window_counts(brand_id=incident.brand_id, start=start, end=end)
    first_ack = official_posts(incident).filter(
        created_at__gte=start, category__in=OUTAGE_CATEGORIES).aggregate(at=Min("created_at"))["at"]
    mentions = counts["mentions"]
    return {
        "elapsed": duration_text((end - start).total_seconds()),
        "reply_rate": percent_text(counts["answered"] / mentions if mentions else None),
        "unanswered": mentions - counts["answered"],
        "tta": duration_text((first_ack - start).total_seconds()) if first_ack else _("not acknowledged"),
    }
