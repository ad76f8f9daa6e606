"""Reads for incidents: the live board's figures and chart data, the list, and suggested incidents.

Every figure follows METRICS.md (§4 aggregates, §5 incident windows, §6 tone, §7 spikes) and is computed here,
server-side; the board's JavaScript only draws what these functions return. Mention counts come from the
per-minute rollups (socialfeed.rollups) plus the raw mentions of the window's two partial edge minutes, so
they are exact and cost O(minutes), not O(posts).
"""
from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncHour, TruncMinute
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from socialfeed.models import Mention, MinuteFrtCount, MinuteRollup, Post
from socialfeed.rollups import COUNT_FIELDS, FRT_BRANCHING, FRT_LEVELS, mention_counts, minute_of

from .models import Brand, Incident

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
PHASE = dt.timedelta(days=7)  # METRICS.md §5 before / after phases
FRT_BUCKET = dt.timedelta(minutes=15)
CHART_MARGIN = dt.timedelta(hours=2)  # how much of "before" and "after" the per-minute charts show
MAX_CHART_MINUTES = 3 * 24 * 60  # a very long outage shows its last three days per minute
QUEUE_LENGTH = 50

OUTAGE_CATEGORIES = (Post.Category.APOLOGY, Post.Category.STATUS_UPDATE, Post.Category.WORKAROUND,
                     Post.Category.RESOLUTION)  # METRICS.md §6 outage-related

# Okabe–Ito: distinguishable with the common colour-vision deficiencies. Every series also differs by dash
# or point style, so colour is never the only cue.
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
}
CATEGORY_STYLE = {
    Post.Category.APOLOGY: (PALETTE["purple"], "triangle"),
    Post.Category.STATUS_UPDATE: (PALETTE["blue"], "circle"),
    Post.Category.WORKAROUND: (PALETTE["green"], "rectRot"),
    Post.Category.RESOLUTION: (PALETTE["sky"], "rect"),
    Post.Category.PROMOTIONAL: (PALETTE["vermillion"], "star"),
    Post.Category.OTHER: (PALETTE["black"], "cross"),
}


# --- Small pieces --------------------------------------------------------------------------------------

def _ceil_minute(moment: dt.datetime) -> dt.datetime:
    floor = minute_of(moment)
    return floor if floor == moment.astimezone(UTC) else floor + MINUTE


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNT_FIELDS, 0)


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for field in COUNT_FIELDS:
        into[field] += counts[field] or 0


def window_counts(*, brand_id: int, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """Exact mention counts of one brand for mentions created in [start, end) (METRICS.md §4 set by creation
    time): whole minutes from the rollups, the partial edge minutes from the mentions themselves."""
    total = _zero()
    if end <= start:
        return total
    inner_start, inner_end = _ceil_minute(start), minute_of(end)
    mentions = Mention.objects.filter(brand_id=brand_id)
    if inner_start >= inner_end:
        _add(total, mention_counts(mentions.filter(created_at__gte=start, created_at__lt=end)))
        return total
    row = MinuteRollup.objects.filter(brand_id=brand_id, minute__gte=inner_start, minute__lt=inner_end).aggregate(
        **{f: Sum(f) for f in COUNT_FIELDS})
    _add(total, row)
    edges = Q(created_at__gte=start, created_at__lt=inner_start) | Q(created_at__gte=inner_end, created_at__lt=end)
    if start < inner_start or inner_end < end:
        _add(total, mention_counts(mentions.filter(edges)))
    return total


def minute_series(*, brand_id: int, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, dict[str, int]]:
    """Exact counts per UTC minute for mentions in [start, end); minutes without mentions are absent."""
    series: dict[dt.datetime, dict[str, int]] = {}
    inner_start, inner_end = _ceil_minute(start), minute_of(end)
    for rollup in MinuteRollup.objects.filter(brand_id=brand_id, minute__gte=inner_start, minute__lt=inner_end):
        series[minute_of(rollup.minute)] = {f: getattr(rollup, f) for f in COUNT_FIELDS}
    for lo, hi in ((start, min(inner_start, end)), (max(inner_end, start), end)):
        if lo < hi and not (inner_start <= lo and hi <= inner_end):
            counts = mention_counts(Mention.objects.filter(brand_id=brand_id, created_at__gte=lo, created_at__lt=hi))
            if counts["mentions"]:
                series[minute_of(lo)] = counts
    return series


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, PostgreSQL percentile_cont), METRICS.md §4."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def frt_quantiles(*, brand_id: int, start: dt.datetime, end: dt.datetime,
                  bucket: dt.timedelta | None = None) -> dict[int, tuple[float | None, float | None]]:
    """METRICS.md §4 median and p90 FRT over answered mentions created in [start, end), exactly.

    With ``bucket`` (a whole number of minutes), one pair per bucket index (seconds since the epoch // bucket);
    without, key 0 holds the whole window. Whole minutes are read from the FRT tree (socialfeed.rollups), the
    window's partial edge minutes from their mentions; cost O(minutes × 16 × levels), whatever the volume. A
    window with an FRT that is not a whole second falls back to reading its answered mentions.
    """
    if end <= start:
        return {}
    step = int(bucket.total_seconds()) if bucket else 0
    inner_start, inner_end = _ceil_minute(start), minute_of(end)
    if inner_start >= inner_end:
        inner_start = inner_end = None
    elif MinuteRollup.objects.filter(brand_id=brand_id, minute__gte=inner_start, minute__lt=inner_end,
                                     answered_fractional__gt=0).exists():
        return _frt_quantiles_from_mentions(brand_id=brand_id, start=start, end=end, step=step)

    def key_of(moment: dt.datetime) -> int:
        return int(moment.timestamp()) // step if step else 0

    # Partial edge minutes (or a window shorter than a minute) come from the mentions themselves.
    edges: dict[int, list[int]] = {}
    pieces = [(start, end)] if inner_start is None else [(start, inner_start), (inner_end, end)]
    for lo, hi in pieces:
        if lo >= hi:
            continue
        for created_at, frt in Mention.objects.filter(brand_id=brand_id, answered=True, created_at__gte=lo,
                                                      created_at__lt=hi).values_list("created_at", "frt_seconds"):
            if int(frt) != frt:
                return _frt_quantiles_from_mentions(brand_id=brand_id, start=start, end=end, step=step)
            edges.setdefault(key_of(created_at), []).append(int(frt))

    # The sets whose quantiles are wanted: the window, or each bucket of it, with the whole minutes it owns.
    sets: dict[int, tuple[dt.datetime, dt.datetime] | None] = {key: None for key in edges}
    if inner_start is not None:
        if step:
            cursor = inner_start
            while cursor < inner_end:
                key = key_of(cursor)
                stop = min(dt.datetime.fromtimestamp((key + 1) * step, UTC), inner_end)
                sets[key] = (cursor, stop)
                cursor = stop
        else:
            sets[0] = (inner_start, inner_end)

    # Root level: every node of every set, in one read of the window's minutes.
    root = FRT_LEVELS[0]
    counts: dict[int, Counter] = {key: Counter(v >> root for v in edges.get(key, [])) for key in sets}
    if inner_start is not None:
        for minute, node, n in MinuteFrtCount.objects.filter(
                brand_id=brand_id, level=root, minute__gte=inner_start, minute__lt=inner_end
        ).values_list("minute", "node", "count"):
            counts[key_of(minute)][node] += n

    # Each wanted rank walks down the tree: (set key, rank) -> [node at the current level, rank inside it].
    walks: dict[tuple[int, int], list[int]] = {}
    totals = {key: sum(c.values()) for key, c in counts.items()}
    for key, n in totals.items():
        for rank in _ranks(n):
            walks[(key, rank)] = _descend(counts[key], None, rank)
    for parent_level, level in zip(FRT_LEVELS, FRT_LEVELS[1:], strict=False):
        parents = {(key, node) for (key, _rank), (node, _r) in walks.items()}
        children = _children_counts(brand_id=brand_id, level=level, parents=parents, sets=sets)
        for key, values in edges.items():
            for v in values:
                if (key, v >> parent_level) in parents:
                    children[(key, v >> parent_level)][v >> level] += 1
        for (key, _rank), walk in walks.items():
            walks[(key, _rank)] = _descend(children[(key, walk[0])], walk[0], walk[1])

    out = {}
    for key, n in totals.items():
        if not n:
            continue
        value = {rank: walks[(key, rank)][0] for rank in _ranks(n)}
        out[key] = tuple(_interpolated(value, n, q) for q in (0.5, 0.9))
    return out


def _ranks(n: int) -> set[int]:
    """The 0-based ranks METRICS.md §4 interpolates between for the median and p90 of n values."""
    ranks = set()
    for q in (0.5, 0.9):
        low = math.floor((n - 1) * q)
        ranks |= {low, min(low + 1, n - 1)}
    return ranks if n else set()


def _interpolated(value: dict[int, int], n: int, q: float) -> float:
    position = (n - 1) * q
    low = math.floor(position)
    high = min(low + 1, n - 1)
    return float(value[low] + (value[high] - value[low]) * (position - low))


def _descend(counts: Counter, parent: int | None, rank: int) -> list[int]:
    """The child node holding the rank-th smallest value, and the rank inside it."""
    nodes = sorted(counts) if parent is None else range(parent * FRT_BRANCHING, (parent + 1) * FRT_BRANCHING)
    for node in nodes:
        n = counts.get(node, 0)
        if rank < n:
            return [node, rank]
        rank -= n
    raise AssertionError("FRT tree counts disagree with the rollups: rebuild them")


def _children_counts(*, brand_id: int, level: int, parents: set[tuple[int, int]],
                     sets: dict[int, tuple[dt.datetime, dt.datetime] | None]) -> dict[tuple[int, int], Counter]:
    """Counts of the 16 children of each (set key, parent node) over that set's whole minutes: one index probe
    per child node and set, so the cost does not grow with the number of mentions."""
    out: dict[tuple[int, int], Counter] = {parent: Counter() for parent in parents}
    probes = [(key, node, *sets[key]) for key, node in parents if sets.get(key)]
    if not probes:
        return out
    if connection.vendor == "postgresql":
        keys, nodes, los, his = [], [], [], []
        for key, parent, lo, hi in probes:
            for child in range(parent * FRT_BRANCHING, (parent + 1) * FRT_BRANCHING):
                keys.append(key)
                nodes.append(child)
                los.append(lo)
                his.append(hi)
        # LATERAL pins the plan to one index probe per (set, child node), whatever the table's statistics say.
        sql = (
            "SELECT p.key, p.node, s.n FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], "
            "%s::timestamptz[]) AS p(key, node, lo, hi) CROSS JOIN LATERAL (SELECT SUM(c.count) AS n "
            "FROM socialfeed_minutefrtcount c WHERE c.brand_id = %s AND c.level = %s AND c.node = p.node "
            "AND c.minute >= p.lo AND c.minute < p.hi) s WHERE s.n > 0"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [keys, nodes, los, his, brand_id, level])
            for key, node, n in cursor.fetchall():
                out[(key, node // FRT_BRANCHING)][node] += int(n)
        return out
    for key, parent, lo, hi in probes:
        rows = MinuteFrtCount.objects.filter(
            brand_id=brand_id, level=level, node__gte=parent * FRT_BRANCHING, node__lt=(parent + 1) * FRT_BRANCHING,
            minute__gte=lo, minute__lt=hi).values("node").annotate(n=Sum("count")).order_by()
        for row in rows:
            out[(key, parent)][row["node"]] += row["n"]
    return out


def _frt_quantiles_from_mentions(*, brand_id: int, start: dt.datetime, end: dt.datetime,
                                 step: int) -> dict[int, tuple[float | None, float | None]]:
    """METRICS.md §4 median and p90 FRT read from the answered mentions themselves: O(answered mentions), for
    the rare window holding an FRT that is not a whole second."""
    if connection.vendor == "postgresql":
        group = f"floor(extract(epoch from created_at) / {step})::bigint" if step else "0"
        sql = (
            f"SELECT {group} AS b, percentile_cont(0.5) WITHIN GROUP (ORDER BY frt_seconds), "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY frt_seconds) FROM socialfeed_mention "
            "WHERE brand_id = %s AND answered AND created_at >= %s AND created_at < %s GROUP BY 1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [brand_id, start, end])
            return {int(b): (median, p90) for b, median, p90 in cursor.fetchall()}
    values: dict[int, list[float]] = {}
    rows = Mention.objects.filter(brand_id=brand_id, answered=True, created_at__gte=start, created_at__lt=end)
    for created_at, frt in rows.values_list("created_at", "frt_seconds"):
        key = int(created_at.timestamp()) // step if step else 0
        values.setdefault(key, []).append(frt)
    return {key: (quantile(v, 0.5), quantile(v, 0.9)) for key, v in values.items()}


def duration_text(seconds: float | None) -> str:
    """A duration as people read it on the board: "45 s", "12 min", "3 h 12 min", "2 d 4 h"; None is "—"."""
    if seconds is None:
        return "—"
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes} if minutes else _("%(h)d h") % {"h": hours}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


# --- METRICS.md §5 ---------------------------------------------------------------------------------------

def _official_posts(incident: Incident):
    return Post.objects.filter(official_brand_id=incident.brand_id)


def incident_figures(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """Every headline figure of one incident (METRICS.md §4 aggregates over the window, §5 incident figures).

    Keys: window_start, window_end, elapsed_s, tta_s (None: not acknowledged yet), first_update_s,
    longest_silence_s, off_message_count, mentions, answered, unanswered, reply_rate (None when empty),
    median_frt_s, p90_frt_s, answered_within_1h (share, None when empty), complaints, net_sentiment,
    oldest_unanswered_wait_s, phases {before, during, after: {start, end, mentions, per_hour}}.
    """
    now = now or timezone.now()
    start, end = incident.started_at, incident.window_end(now)
    official = _official_posts(incident)

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
        "answered_within_1h": counts["answered_within_1h"] / mentions if mentions else None,
        "complaints": counts["complaints"],
        "net_sentiment": (counts["positive"] - counts["negative"]) / mentions if mentions else None,
        "oldest_unanswered_wait_s": (now - oldest).total_seconds() if oldest else None,
        "phases": phases,
    }


def board_tiles(*, incident: Incident, now: dt.datetime | None = None) -> list[dict]:
    """The headline tiles, already worded: the page only writes ``value`` and ``hint`` into place."""
    now = now or timezone.now()
    f = incident_figures(incident=incident, now=now)
    if f["tta_s"] is None:
        tta = _("not acknowledged — %(elapsed)s so far") % {"elapsed": duration_text(f["elapsed_s"])}
    else:
        tta = duration_text(f["tta_s"])
    first_update = duration_text(f["first_update_s"]) if f["first_update_s"] is not None else _("none yet")
    off = f["off_message_count"]
    return [
        {"key": "tta", "label": _("Time to acknowledge"), "value": tta, "alert": f["tta_s"] is None},
        {"key": "first_update", "label": _("Time to first public update"), "value": first_update,
         "alert": f["first_update_s"] is None},
        {"key": "longest_silence", "label": _("Longest silence"), "value": duration_text(f["longest_silence_s"]),
         "hint": (_("%(n)d off-message post(s)") % {"n": off}) if off else "", "alert": bool(off)},
        {"key": "mentions", "label": _("Mentions"), "value": str(f["mentions"]),
         "hint": _("%(n)d complaints") % {"n": f["complaints"]}},
        {"key": "reply_rate", "label": _("Reply rate"), "value": percent_text(f["reply_rate"])},
        {"key": "answered_within_1h", "label": _("Answered within 1 h"), "value": percent_text(f["answered_within_1h"])},
        {"key": "median_frt", "label": _("Median first response"), "value": duration_text(f["median_frt_s"])},
        {"key": "p90_frt", "label": _("p90 first response"), "value": duration_text(f["p90_frt_s"])},
        {"key": "unanswered", "label": _("Unanswered now"), "value": str(f["unanswered"]), "alert": f["unanswered"] > 0},
        {"key": "oldest_wait", "label": _("Oldest unanswered wait"), "value": duration_text(f["oldest_unanswered_wait_s"])},
    ]


def unanswered_queue(*, incident: Incident, now: dt.datetime | None = None, limit: int = QUEUE_LENGTH) -> list[dict]:
    """The window's unanswered mentions, oldest first (METRICS.md §3 unanswered), as the queue shows them."""
    now = now or timezone.now()
    zone = incident.brand.zone
    rows = (
        Mention.objects.filter(brand_id=incident.brand_id, answered=False, created_at__gte=incident.started_at,
                               created_at__lt=incident.window_end(now))
        .select_related("post").order_by("created_at", "id")[:limit]
    )
    return [{
        "id": m.id,
        "author": m.post.author_handle,
        "text": m.post.text,
        "platform": m.post.get_platform_display(),
        "url": m.post.url,
        "created_at": m.created_at.astimezone(zone).strftime("%H:%M"),
        "waiting_s": (now - m.created_at).total_seconds(),
        "waiting": duration_text((now - m.created_at).total_seconds()),
        "complaint": m.complaint,
    } for m in rows]


# --- Charts: Chart.js-shaped {labels, datasets}, every bucket present ------------------------------------

def chart_range(*, incident: Incident, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The minutes the per-minute charts show: some of "before", the window, some of "after" (not past now)."""
    now = now or timezone.now()
    end = incident.window_end(now)
    lo = minute_of(incident.started_at - CHART_MARGIN)
    hi = _ceil_minute(min(end + CHART_MARGIN, now) if incident.ended_at else end)
    hi = max(hi, lo + MINUTE)
    if (hi - lo) / MINUTE > MAX_CHART_MINUTES:
        lo = hi - MAX_CHART_MINUTES * MINUTE
    return lo, hi


def _label(moment: dt.datetime, zone, multi_day: bool) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%d/%m %H:%M") if multi_day else local.strftime("%H:%M")


def _minutes(lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
    return [lo + i * MINUTE for i in range(int((hi - lo) / MINUTE))]


def _labels(incident: Incident, moments: list[dt.datetime]) -> list[str]:
    zone = incident.brand.zone
    multi_day = bool(moments) and moments[0].astimezone(zone).date() != moments[-1].astimezone(zone).date()
    return [_label(m, zone, multi_day) for m in moments]


def chart_volume(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §7 volume per minute (mentions and complaints), with the §5 phases for the shading."""
    now = now or timezone.now()
    lo, hi = chart_range(incident=incident, now=now)
    minutes = _minutes(lo, hi)
    series = minute_series(brand_id=incident.brand_id, start=lo, end=hi)
    start_index = int((minute_of(incident.started_at) - lo) / MINUTE)
    end_index = int((minute_of(incident.window_end(now)) - lo) / MINUTE)
    return {
        "labels": _labels(incident, minutes),
        "datasets": [
            {"label": _("Mentions per minute"), "data": [series.get(m, {}).get("mentions", 0) for m in minutes],
             "borderColor": PALETTE["blue"], "backgroundColor": PALETTE["blue"], "type": "bar"},
            {"label": _("Complaints per minute"), "data": [series.get(m, {}).get("complaints", 0) for m in minutes],
             "borderColor": PALETTE["vermillion"], "backgroundColor": PALETTE["vermillion"], "type": "line",
             "borderDash": [6, 3], "pointRadius": 0, "borderWidth": 2},
        ],
        "phases": {
            "before": {"from": 0, "to": max(start_index, 0), "label": _("before")},
            "during": {"from": max(start_index, 0), "to": min(end_index, len(minutes) - 1), "label": _("outage window")},
            "after": {"from": min(end_index, len(minutes) - 1), "to": len(minutes) - 1, "label": _("after")},
        },
        "zone": incident.brand.time_zone,
    }


def _frt_buckets(incident: Incident, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    start, end = incident.started_at, incident.window_end(now)
    step = int(FRT_BUCKET.total_seconds())
    first = dt.datetime.fromtimestamp(int(start.timestamp()) // step * step, UTC)
    buckets = []
    cursor = first
    while cursor < end:
        buckets.append((max(cursor, start), min(cursor + FRT_BUCKET, end)))
        cursor += FRT_BUCKET
    return buckets or [(start, end)]


def _bucket_totals(series: dict[dt.datetime, dict[str, int]], buckets) -> list[dict[str, int]]:
    """Sum per-minute counts into the 15-minute buckets (aligned on the epoch, the first one clipped)."""
    step = int(FRT_BUCKET.total_seconds())
    first = int(buckets[0][0].timestamp()) // step
    totals = [_zero() for _bucket in buckets]
    for minute, counts in series.items():
        index = int(minute.timestamp()) // step - first
        if 0 <= index < len(totals):
            _add(totals[index], counts)
    return totals


def _minutes_value(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def chart_frt(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §4 median and p90 FRT (minutes) per 15 minutes of the window, with answered within 1 h (%)."""
    now = now or timezone.now()
    buckets = _frt_buckets(incident, now)
    series = minute_series(brand_id=incident.brand_id, start=incident.started_at, end=incident.window_end(now))
    totals = _bucket_totals(series, buckets)
    quantiles = frt_quantiles(brand_id=incident.brand_id, start=incident.started_at,
                              end=incident.window_end(now), bucket=FRT_BUCKET)
    step = int(FRT_BUCKET.total_seconds())
    keys = [int(lo.timestamp()) // step for lo, _hi in buckets]
    return {
        "labels": _labels(incident, [lo for lo, _hi in buckets]),
        "datasets": [
            {"label": _("Median first response (min)"), "data": [_minutes_value(quantiles.get(k, (None,))[0]) for k in keys],
             "borderColor": PALETTE["blue"], "backgroundColor": PALETTE["blue"], "pointStyle": "circle",
             "yAxisID": "y", "spanGaps": False},
            {"label": _("p90 first response (min)"), "data": [_minutes_value(quantiles.get(k, (None, None))[1]) for k in keys],
             "borderColor": PALETTE["orange"], "backgroundColor": PALETTE["orange"], "pointStyle": "triangle",
             "borderDash": [6, 3], "yAxisID": "y", "spanGaps": False},
            {"label": _("Answered within 1 h (%)"),
             "data": [round(100 * t["answered_within_1h"] / t["mentions"], 1) if t["mentions"] else None for t in totals],
             "borderColor": PALETTE["green"], "backgroundColor": PALETTE["green"], "pointStyle": "rect",
             "borderDash": [2, 2], "yAxisID": "y1", "spanGaps": False},
        ],
        "zone": incident.brand.time_zone,
    }


def _net(positive: int, negative: int, n: int) -> float | None:
    """METRICS.md §6 net sentiment = (positive − negative) / posts; no posts, no value."""
    return round((positive - negative) / n, 3) if n else None


def chart_tone(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §6 net sentiment of customers' mentions and of the brand's official posts, per 15 minutes."""
    now = now or timezone.now()
    buckets = _frt_buckets(incident, now)
    series = minute_series(brand_id=incident.brand_id, start=incident.started_at, end=incident.window_end(now))
    totals = _bucket_totals(series, buckets)
    # Official posts' labels counted per minute by the database, then summed per bucket: a brand answering
    # hundreds of customers a minute must not make the chart read every reply.
    per_minute = (_official_posts(incident)
                  .filter(created_at__gte=incident.started_at, created_at__lt=incident.window_end(now))
                  .annotate(m=TruncMinute("created_at", tzinfo=UTC)).values("m")
                  .annotate(n=Count("id"), positive=Count("id", filter=Q(sentiment_label="positive")),
                            negative=Count("id", filter=Q(sentiment_label="negative"))).order_by())
    official_totals = [Counter() for _bucket in buckets]
    starts = [lo for lo, _hi in buckets]
    for row in per_minute:
        minute = row["m"].astimezone(UTC)
        index = bisect_right(starts, minute) - 1
        if 0 <= index < len(buckets) and minute < buckets[index][1]:
            official_totals[index].update({k: row[k] for k in ("n", "positive", "negative")})
    official_net = [_net(t["positive"], t["negative"], t["n"]) for t in official_totals]
    return {
        "labels": _labels(incident, [lo for lo, _hi in buckets]),
        "datasets": [
            {"label": _("Customers' net sentiment"),
             "data": [_net(t["positive"], t["negative"], t["mentions"]) for t in totals],
             "borderColor": PALETTE["vermillion"], "backgroundColor": PALETTE["vermillion"], "pointStyle": "circle",
             "spanGaps": False},
            {"label": _("Official posts' net tone"), "data": official_net,
             "borderColor": PALETTE["blue"], "backgroundColor": PALETTE["blue"], "pointStyle": "rect",
             "borderDash": [6, 3], "spanGaps": True},
        ],
        "zone": incident.brand.time_zone,
    }


def chart_official(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """The brand's official posts on the per-minute timeline, one series per §6 category; promotional
    broadcasts inside the window are flagged off-message (METRICS.md §5).

    Broadcasts (what the brand tells everyone) are one point each. Replies to customers are one point per
    minute and category, with their number: during a busy outage a brand answers hundreds a minute, and a
    point per reply would hide the broadcasts and make the chart (and the page) slow.
    """
    now = now or timezone.now()
    lo, hi = chart_range(incident=incident, now=now)
    minutes = _minutes(lo, hi)
    labels = _labels(incident, minutes)
    start, end = incident.started_at, incident.window_end(now)
    posts = _official_posts(incident).filter(created_at__gte=lo, created_at__lt=hi)
    categories = list(Post.Category)
    points: list[tuple[dt.datetime, str, dict]] = []  # (moment, category, point), sorted by moment below
    off_message = []
    reply_label = str(Post.OfficialKind.REPLY.label)
    for post in posts.exclude(official_kind=Post.OfficialKind.REPLY).order_by("created_at"):
        category = post.category or Post.Category.OTHER
        index = int((minute_of(post.created_at) - lo) / MINUTE)
        point = {"x": labels[index], "y": Post.Category(category).label.capitalize(), "text": post.text[:140],
                 "kind": post.get_official_kind_display()}
        points.append((post.created_at, category, point))
        if (post.official_kind == Post.OfficialKind.BROADCAST and category == Post.Category.PROMOTIONAL
                and start <= post.created_at < end):
            off_message.append(point)
    replies = (posts.filter(official_kind=Post.OfficialKind.REPLY)
               .annotate(m=TruncMinute("created_at", tzinfo=UTC)).values("m", "category")
               .annotate(n=Count("id"), sample=Min("text")).order_by())
    for row in replies:
        minute = row["m"].astimezone(UTC)
        category = row["category"] or Post.Category.OTHER
        index = int((minute - lo) / MINUTE)
        if not 0 <= index < len(labels):
            continue
        text = row["sample"][:140] if row["n"] == 1 else ngettext(
            "%(count)d reply this minute, e.g. “%(text)s”", "%(count)d replies this minute, e.g. “%(text)s”",
            row["n"]) % {"count": row["n"], "text": row["sample"][:100]}
        point = {"x": labels[index], "y": Post.Category(category).label.capitalize(), "text": text,
                 "kind": reply_label, "count": row["n"]}
        points.append((minute, category, point))
    per_category: dict[str, list] = {c.value: [] for c in categories}
    for _moment, category, point in sorted(points, key=lambda item: item[0]):
        per_category[category].append(point)
    datasets = []
    for category in categories:
        colour, style = CATEGORY_STYLE[category]
        datasets.append({"label": category.label.capitalize(), "data": per_category[category.value],
                         "borderColor": colour, "backgroundColor": colour, "pointStyle": style, "pointRadius": 7})
    datasets.append({"label": _("Off-message (promotional during the outage)"), "data": off_message,
                     "borderColor": PALETTE["black"], "backgroundColor": "rgba(0,0,0,0)", "pointStyle": "crossRot",
                     "pointRadius": 14, "borderWidth": 3})
    return {
        "labels": labels,
        "categories": [c.label.capitalize() for c in categories],
        "datasets": datasets,
        "zone": incident.brand.time_zone,
    }


# --- The list and suggested incidents --------------------------------------------------------------------

def incident_summary(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """What the incidents list shows per row: elapsed, reply rate, unanswered, TTA (METRICS.md §4, §5)."""
    now = now or timezone.now()
    start, end = incident.started_at, incident.window_end(now)
    counts = window_counts(brand_id=incident.brand_id, start=start, end=end)
    first_ack = _official_posts(incident).filter(
        created_at__gte=start, category__in=OUTAGE_CATEGORIES).aggregate(at=Min("created_at"))["at"]
    mentions = counts["mentions"]
    return {
        "elapsed": duration_text((end - start).total_seconds()),
        "reply_rate": percent_text(counts["answered"] / mentions if mentions else None),
        "unanswered": mentions - counts["answered"],
        "tta": duration_text((first_ack - start).total_seconds()) if first_ack else _("not acknowledged"),
    }


SPIKE_RATIO = 3.0  # product choice: three times a normal hour of complaints
SPIKE_MIN_COMPLAINTS = 10  # and enough of them that a quiet brand's two tweets are no outage
SPIKE_LOOKBACK_HOURS = 3


@dataclass(frozen=True)
class SuggestedIncident:
    brand: Brand
    detected_start: dt.datetime
    complaints: int
    baseline: float
    ratio: float


def _hourly_complaints(brand_id: int, lo: dt.datetime, hi: dt.datetime) -> dict[dt.datetime, int]:
    rows = (MinuteRollup.objects.filter(brand_id=brand_id, minute__gte=lo, minute__lt=hi)
            .annotate(h=TruncHour("minute", tzinfo=UTC)).values("h").annotate(n=Sum("complaints")).order_by())
    return {r["h"].astimezone(UTC): r["n"] or 0 for r in rows}


def _median(values: list[float]) -> float:
    return quantile(values, 0.5) or 0.0


def spike_ratio(*, brand_id: int, hour: dt.datetime, hourly: dict[dt.datetime, int] | None = None) -> tuple[int, float, float]:
    """METRICS.md §7 spike ratio of complaints for one UTC hour: (complaints, baseline, ratio), the baseline
    being the median hourly complaint volume over the 7 days before the hour's day."""
    day = hour.replace(hour=0)
    if hourly is None:
        hourly = _hourly_complaints(brand_id, day - PHASE, hour + dt.timedelta(hours=1))
    baseline = _median([hourly.get(day - PHASE + i * dt.timedelta(hours=1), 0) for i in range(7 * 24)])
    volume = hourly.get(hour, 0)
    return volume, baseline, volume / max(baseline, 1)


def suggested_incidents(*, brands, now: dt.datetime | None = None) -> list[SuggestedIncident]:
    """Complaint spikes (METRICS.md §7) in the last hours of brands that have no incident covering them."""
    now = now or timezone.now()
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    suggestions = []
    for brand in brands:
        first_hour = current - dt.timedelta(hours=SPIKE_LOOKBACK_HOURS - 1)
        hourly = _hourly_complaints(brand.id, first_hour.replace(hour=0) - PHASE, current + dt.timedelta(hours=1))
        spiking = []
        for i in range(SPIKE_LOOKBACK_HOURS):
            hour = first_hour + i * dt.timedelta(hours=1)
            volume, baseline, ratio = spike_ratio(brand_id=brand.id, hour=hour, hourly=hourly)
            if volume >= SPIKE_MIN_COMPLAINTS and ratio >= SPIKE_RATIO:
                spiking.append((hour, volume, baseline, ratio))
        if not spiking:
            continue
        hour, volume, baseline, ratio = spiking[0]
        # The detected start: the first minute of the first spiking hour whose complaints alone exceed a
        # normal minute's share of the baseline, so the banner names when it started, not the hour's top.
        per_minute = max(baseline, 1) / 60
        first_minute = (MinuteRollup.objects.filter(brand_id=brand.id, minute__gte=hour,
                                                    minute__lt=hour + dt.timedelta(hours=1),
                                                    complaints__gt=per_minute)
                        .order_by("minute").values_list("minute", flat=True).first()) or hour
        covered = Incident.objects.filter(brand=brand).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=first_minute)).exists()
        if not covered:
            suggestions.append(SuggestedIncident(brand=brand, detected_start=first_minute, complaints=volume,
                                                 baseline=baseline, ratio=ratio))
    return suggestions
