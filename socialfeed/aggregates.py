"""METRICS.md §4 aggregates of one brand's mentions over a time window, read from the per-minute rollups.

Mention counts come from the rollups (socialfeed.rollups) plus the raw mentions of the window's two partial
edge minutes, and FRT quantiles walk down the rollups' FRT tree, so every figure is exact and costs
O(minutes), not O(posts). The live board, the incidents list and the incident figures read windows here.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter

from django.db import connection
from django.db.models import Q, Sum

from socialfeed.models import Mention, MinuteFrtCount, MinuteRollup
from socialfeed.rollups import COUNT_FIELDS, FRT_BRANCHING, FRT_LEVELS, mention_counts, minute_of, within_target_s
from socialfeed.selectors import quantile

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)


def ceil_minute(moment: dt.datetime) -> dt.datetime:
    floor = minute_of(moment)
    return floor if floor == moment.astimezone(UTC) else floor + MINUTE


def zero_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_FIELDS, 0)


def add_counts(into: dict[str, int], counts: dict[str, int]) -> None:
    for field in COUNT_FIELDS:
        into[field] += counts[field] or 0


def window_counts(*, brand_id: int, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """Exact mention counts of one brand for mentions created in [start, end) (METRICS.md §4 set by creation
    time): whole minutes from the rollups, the partial edge minutes from the mentions themselves."""
    total = zero_counts()
    if end <= start:
        return total
    inner_start, inner_end = ceil_minute(start), minute_of(end)
    mentions = Mention.objects.filter(brand_id=brand_id)
    within_s = within_target_s(brand_id)  # the T the rollups count against (socialfeed.rollups)
    if inner_start >= inner_end:
        add_counts(total, mention_counts(mentions.filter(created_at__gte=start, created_at__lt=end),
                                         within_s=within_s))
        return total
    row = MinuteRollup.objects.filter(brand_id=brand_id, minute__gte=inner_start, minute__lt=inner_end).aggregate(
        **{f: Sum(f) for f in COUNT_FIELDS})
    add_counts(total, row)
    edges = Q(created_at__gte=start, created_at__lt=inner_start) | Q(created_at__gte=inner_end, created_at__lt=end)
    if start < inner_start or inner_end < end:
        add_counts(total, mention_counts(mentions.filter(edges), within_s=within_s))
    return total


def minute_series(*, brand_id: int, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, dict[str, int]]:
    """Exact counts per UTC minute for mentions in [start, end); minutes without mentions are absent."""
    series: dict[dt.datetime, dict[str, int]] = {}
    inner_start, inner_end = ceil_minute(start), minute_of(end)
    for rollup in MinuteRollup.objects.filter(brand_id=brand_id, minute__gte=inner_start, minute__lt=inner_end):
        series[minute_of(rollup.minute)] = {f: getattr(rollup, f) for f in COUNT_FIELDS}
    within_s = None
    for lo, hi in ((start, min(inner_start, end)), (max(inner_end, start), end)):
        if lo < hi and not (inner_start <= lo and hi <= inner_end):
            within_s = within_target_s(brand_id) if within_s is None else within_s
            counts = mention_counts(Mention.objects.filter(brand_id=brand_id, created_at__gte=lo, created_at__lt=hi),
                                    within_s=within_s)
            if counts["mentions"]:
                series[minute_of(lo)] = counts
    return series


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
    inner_start, inner_end = ceil_minute(start), minute_of(end)
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
    return {key: (quantile(sorted(v), 0.5), quantile(sorted(v), 0.9)) for key, v in values.items()}

