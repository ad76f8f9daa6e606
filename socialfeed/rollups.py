"""Per-brand, per-minute mention counts (MinuteRollup) and FRT trees (MinuteFrtCount) so that the live board
reads O(minutes), not O(posts), and still shows exact METRICS.md §4 figures.

Each row is *recomputed* from the Mention rows of its (brand, minute), never incremented: ingestion, a late
first response, a replay or a re-run of the same batch all end in the same exact counts. Ingestion calls
:func:`rollups_refresh` after each batch with the (brand, created_at) of every mention it created or changed.

The FRT tree counts, per (brand, minute), the answered mentions whose whole-second FRT falls in each node of a
16-ary tree (shifts 16, 12, 8, 4, 0): an exact quantile of any set of minutes walks down it reading 16 sibling
counts per level (socialfeed.aggregates.frt_quantiles). X, Mastodon and Bluesky timestamps are whole seconds, so
FRTs are too; an FRT that is not is counted in MinuteRollup.answered_fractional and left out of the tree, and
windows touching its minute are computed from the mentions instead.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncMinute

from socialfeed.locks import mention_writes_serialise
from socialfeed.models import Mention, MinuteFrtCount, MinuteRollup

UTC = dt.UTC
ONE_MINUTE = dt.timedelta(minutes=1)
COUNT_FIELDS = ("mentions", "answered", "answered_within_target", "complaints", "positive", "negative")
FRT_LEVELS = (16, 12, 8, 4, 0)  # bit shifts of the FRT tree, root first; each level splits a node in 16
FRT_BRANCHING = 16


def minute_of(moment: dt.datetime) -> dt.datetime:
    """The UTC minute a moment falls in (the rollup key)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def within_target_s(brand_id: int) -> float:
    """T of METRICS.md §4 "answered within T" for one brand: its first-response target (incidents.targets)."""
    from incidents.targets import first_response_target_s

    return first_response_target_s(brand_id)


def mention_counts(mentions: QuerySet[Mention], *, within_s: float) -> dict[str, int]:
    """Counts of a set of one brand's mentions, as MinuteRollup stores them (METRICS.md §4 mentions / answered /
    answered within T = ``within_s``, the brand's first-response target; §6 complaints and sentiment labels)."""
    row = mentions.aggregate(**_count_expressions(within_s))
    return {field: row[f"n_{field}"] or 0 for field in COUNT_FIELDS}


def _count_expressions(within_s: float) -> dict:
    # Prefixed aliases: an alias named like a field ("answered") would shadow it inside the filters.
    return {
        "n_mentions": Count("id"),
        "n_answered": Count("id", filter=Q(answered=True)),
        "n_answered_within_target": Count("id", filter=Q(answered=True, frt_seconds__lte=within_s)),
        "n_complaints": Count("id", filter=Q(complaint=True)),
        "n_positive": Count("id", filter=Q(sentiment_label="positive")),
        "n_negative": Count("id", filter=Q(sentiment_label="negative")),
    }


def _runs(minutes: list[dt.datetime], gap: dt.timedelta = dt.timedelta(hours=1)) -> list[tuple]:
    """Group sorted minutes into [first, last] runs so a sparse set does not scan the hours between them."""
    runs: list[list[dt.datetime]] = []
    for minute in minutes:
        if runs and minute - runs[-1][1] <= gap:
            runs[-1][1] = minute
        else:
            runs.append([minute, minute])
    return [(first, last) for first, last in runs]


@transaction.atomic
def rollups_refresh(*, brand_ids_minutes: Iterable[tuple[int, dt.datetime]]) -> int:
    """Recompute the MinuteRollup rows of these (brand id, moment) pairs from Mention rows; returns rows written.

    Moments are truncated to their UTC minute, so callers pass mention.created_at as it is. Minutes left
    without mentions lose their row. Cost: one grouped query per brand and run of nearby minutes.
    """
    mention_writes_serialise()  # a no-op when the caller's transaction already holds it
    by_brand: dict[int, set[dt.datetime]] = {}
    for brand_id, moment in brand_ids_minutes:
        by_brand.setdefault(brand_id, set()).add(minute_of(moment))
    written = 0
    for brand_id, minutes in by_brand.items():
        for first, last in _runs(sorted(minutes)):
            written += _refresh_range(brand_id=brand_id, start=first, end=last + ONE_MINUTE, only=minutes)
    return written


def rollups_rebuild(*, brand_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None) -> int:
    """Recompute every minute of one brand in [start, end) (whole history when open): backfills and benches."""
    mentions = Mention.objects.filter(brand_id=brand_id)
    if start is None or end is None:
        bounds = mentions.aggregate(first=Min("created_at"), last=Max("created_at"))
        if bounds["first"] is None:
            MinuteRollup.objects.filter(brand_id=brand_id).delete()
            MinuteFrtCount.objects.filter(brand_id=brand_id).delete()
            return 0
        start = start or bounds["first"]
        end = end or bounds["last"] + ONE_MINUTE
    with transaction.atomic():
        mention_writes_serialise()
        return _refresh_range(brand_id=brand_id, start=minute_of(start), end=minute_of(end) + ONE_MINUTE, only=None)


def rollups_retarget(*, brand_id: int, within_s: float) -> int:
    """Re-count one brand's "answered within T" rollups for a new first-response target T (METRICS.md §4), so
    every minute counts against the target the board names. Returns the rows changed.

    Called by incidents.targets in the transaction that changes the target, under the mention-writes lock, so
    no batch writes rollups against the old target meanwhile. One grouped read of the brand's answered mentions
    and one UPDATE per changed minute on SQLite, two statements on PostgreSQL.
    """
    mention_writes_serialise()
    rollup_table, mention_table = MinuteRollup._meta.db_table, Mention._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""WITH counted AS (
                        SELECT date_trunc('minute', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS minute,
                               count(*) AS n
                        FROM {mention_table} WHERE brand_id = %s AND answered AND frt_seconds <= %s GROUP BY 1)
                    UPDATE {rollup_table} AS r SET answered_within_target = coalesce(c.n, 0)
                    FROM {rollup_table} AS r2 LEFT JOIN counted c ON c.minute = r2.minute
                    WHERE r.id = r2.id AND r.brand_id = %s
                      AND r.answered_within_target IS DISTINCT FROM coalesce(c.n, 0)""",
                [brand_id, within_s, brand_id])
            return cursor.rowcount
    counted = Counter()
    answered = Mention.objects.filter(brand_id=brand_id, answered=True, frt_seconds__lte=within_s)
    for created_at in answered.values_list("created_at", flat=True).iterator(chunk_size=10000):
        counted[minute_of(created_at)] += 1
    changed = []
    for rollup in MinuteRollup.objects.filter(brand_id=brand_id).only("id", "minute", "answered_within_target"):
        n = counted.get(minute_of(rollup.minute), 0)
        if rollup.answered_within_target != n:
            rollup.answered_within_target = n
            changed.append(rollup)
    MinuteRollup.objects.bulk_update(changed, ["answered_within_target"], batch_size=2000)
    return len(changed)


def _refresh_range(*, brand_id: int, start: dt.datetime, end: dt.datetime, only: set[dt.datetime] | None) -> int:
    # Read under the mention-writes lock, after any change of target has committed (incidents.targets).
    within_s = within_target_s(brand_id)
    rows = (
        Mention.objects.filter(brand_id=brand_id, created_at__gte=start, created_at__lt=end)
        .annotate(m=TruncMinute("created_at", tzinfo=UTC))
        .values("m")
        .annotate(**_count_expressions(within_s))
        .order_by()
    )
    tree, fractional = _frt_tree(brand_id=brand_id, start=start, end=end, only=only)
    fresh = []
    for row in rows:
        minute = minute_of(row["m"])
        if only is not None and minute not in only:
            continue
        fresh.append(MinuteRollup(brand_id=brand_id, minute=minute, answered_fractional=fractional[minute],
                                  **{f: row[f"n_{f}"] for f in COUNT_FIELDS}))
    stale = MinuteRollup.objects.filter(brand_id=brand_id, minute__gte=start, minute__lt=end)
    if only is None:
        stale.delete()  # a rebuild rewrites the whole range
    else:
        stale.filter(minute__in=list(only)).exclude(minute__in=[r.minute for r in fresh]).delete()
    if fresh:
        MinuteRollup.objects.bulk_create(
            fresh, batch_size=2000, update_conflicts=True, unique_fields=["brand", "minute"],
            update_fields=[*COUNT_FIELDS, "answered_fractional"],
        )
    _frt_tree_write(brand_id=brand_id, start=start, end=end, only=only, tree=tree)
    return len(fresh)


def _frt_tree(*, brand_id: int, start: dt.datetime, end: dt.datetime, only: set[dt.datetime] | None):
    """The FRT tree counts {(level, minute, node): count} of answered mentions created in [start, end), and the
    answered mentions per minute whose FRT is not a whole second (kept out of the tree)."""
    if connection.vendor == "postgresql":
        return _frt_tree_in_sql(brand_id=brand_id, start=start, end=end, only=only)
    tree: Counter = Counter()
    fractional: Counter = Counter()
    answered = Mention.objects.filter(brand_id=brand_id, answered=True, created_at__gte=start, created_at__lt=end)
    for created_at, frt in answered.values_list("created_at", "frt_seconds").iterator(chunk_size=10000):
        minute = minute_of(created_at)
        if only is not None and minute not in only:
            continue
        whole = int(frt)
        if whole != frt:
            fractional[minute] += 1
            continue
        for level in FRT_LEVELS:
            tree[(level, minute, whole >> level)] += 1
    return tree, fractional


def _frt_tree_in_sql(*, brand_id: int, start: dt.datetime, end: dt.datetime, only: set[dt.datetime] | None):
    """The same counts as :func:`_frt_tree`, grouped by PostgreSQL: during a busy outage a live minute holds
    tens of thousands of answered mentions, and every batch refreshes it; the database returns a few hundred
    tree nodes instead of every mention's FRT."""
    tree: Counter = Counter()
    fractional: Counter = Counter()
    table = Mention._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT date_trunc('minute', m.created_at AT TIME ZONE 'UTC') AS minute,
                       m.frt_seconds = trunc(m.frt_seconds) AS whole, l.shift,
                       CASE WHEN m.frt_seconds = trunc(m.frt_seconds) THEN m.frt_seconds::bigint >> l.shift END,
                       count(*)
                FROM {table} m CROSS JOIN unnest(%s::int[]) AS l(shift)
                WHERE m.brand_id = %s AND m.answered AND m.created_at >= %s AND m.created_at < %s
                GROUP BY 1, 2, 3, 4""",
            [list(FRT_LEVELS), brand_id, start, end],
        )
        for minute, whole, level, node, count in cursor.fetchall():
            minute = minute.replace(tzinfo=UTC)
            if only is not None and minute not in only:
                continue
            if whole:
                tree[(level, minute, node)] += count
            elif level == FRT_LEVELS[0]:  # one row per level: count the fractional mentions once
                fractional[minute] += count
    return tree, fractional


def _frt_tree_write(*, brand_id: int, start: dt.datetime, end: dt.datetime, only: set[dt.datetime] | None,
                    tree: Counter) -> None:
    """Make the stored tree of these minutes equal ``tree``, writing only the nodes whose count changed: a late
    first response moves one count per level, so a refresh writes a handful of rows, not the minute's tree."""
    stored = MinuteFrtCount.objects.filter(brand_id=brand_id, level__in=FRT_LEVELS, minute__gte=start,
                                           minute__lt=end)
    if only is None:
        stored.delete()
        changed = tree
    else:
        stale, changed = [], dict(tree)
        stored = stored.filter(minute__in=list(only))
        for pk, level, minute, node, count in stored.values_list("id", "level", "minute", "node", "count"):
            key = (level, minute_of(minute), node)
            if key not in tree:
                stale.append(pk)
            elif tree[key] == count:
                del changed[key]
        for i in range(0, len(stale), 5000):
            MinuteFrtCount.objects.filter(id__in=stale[i:i + 5000]).delete()
    if changed:
        MinuteFrtCount.objects.bulk_create(
            [MinuteFrtCount(brand_id=brand_id, level=level, minute=minute, node=node, count=count)
             for (level, minute, node), count in changed.items()],
            batch_size=5000, update_conflicts=True, unique_fields=["brand", "level", "minute", "node"],
            update_fields=["count"],
        )
