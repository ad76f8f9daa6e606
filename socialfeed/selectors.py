"""Reads of the socialfeed app: METRICS.md §4 aggregates over sets of mentions.

The live board, weekly summaries, digests, exports and ``manage.py response_stats`` all take their §4 figures
from here, so every surface shows the same number for the same set.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from incidents.business_hours import BusinessCalendar, calendars_by_brand
from incidents.models import Brand
from incidents.targets import targets_by_brand
from socialfeed.models import Mention, Source, SourceGap

# METRICS.md §4 "answered within T": T is the brand's first-response target (incidents.targets), 1 hour unless set.
ANSWERED_WITHIN_DEFAULT_S = 3600.0


@dataclass(frozen=True)
class ResponseFigures:
    """METRICS.md §4 aggregates over one set of mentions. ``None`` means "no value" (shown as "—")."""

    mentions: int
    answered: int
    unanswered: int
    reply_rate: float | None
    median_frt_s: float | None
    p90_frt_s: float | None
    answered_within_target: float | None
    km_median_s: float | None
    # METRICS.md §4: when fewer than half are answered the silence-counted median is "not reached"; this is the
    # longest time observed then (shown "not reached (over …)"). None when the median is reached or the set empty.
    km_not_reached_over_s: float | None = None
    # T of "answered within T", in seconds: the brand's first-response target.
    target_s: float = ANSWERED_WITHIN_DEFAULT_S
    # METRICS.md §4 business-hours FRT over the same set; None when no business calendar was given.
    business_median_frt_s: float | None = None
    business_p90_frt_s: float | None = None
    business_answered_within_target: float | None = None

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class BrandResponseStats(ResponseFigures):
    brand_id: int = 0
    brand_slug: str = ""
    brand_name: str = ""


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """METRICS.md §4 quantile: linear interpolation between closest ranks (numpy's default, ``percentile_cont``)."""
    n = len(sorted_values)
    if n == 0:
        return None
    position = (n - 1) * q
    low = math.floor(position)
    high = min(low + 1, n - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def kaplan_meier_median(durations: Iterable[tuple[float, bool]]) -> float | None:
    """METRICS.md §4 median time to reply, silence included: the Kaplan–Meier median of FRT.

    ``durations`` are (seconds, answered) pairs; an unanswered mention is censored at its wait so far. The median is
    the smallest time at which the estimated share still waiting drops to 0.5 or below; ``None`` when it never does
    (more than half of the mentions are still waiting): "not reached", which pages show with the longest time
    observed (:func:`figures_from_rows`), never as "—".
    """
    items = sorted(durations, key=lambda d: (d[0], not d[1]))  # events before censorings at the same time
    at_risk = len(items)
    survival = 1.0
    i = 0
    while i < len(items):
        t = items[i][0]
        events = censored = 0
        while i < len(items) and items[i][0] == t:
            if items[i][1]:
                events += 1
            else:
                censored += 1
            i += 1
        if events:
            survival *= 1.0 - events / at_risk
            if survival <= 0.5:
                return t
        at_risk -= events + censored
    return None


def figures_from_rows(rows: Iterable[tuple[datetime, bool, float | None, datetime | None]], *,
                      as_of: datetime, within_s: float = ANSWERED_WITHIN_DEFAULT_S,
                      calendar: BusinessCalendar | None = None) -> ResponseFigures:
    """All METRICS.md §4 figures from (created_at, answered, frt_seconds, first_response_at) rows: answered within
    T = ``within_s``, and with a ``calendar`` the business-hours FRT figures (the part of each wait inside it)."""
    total = answered = within = business_within = 0
    frts: list[float] = []
    business: list[float] = []
    km: list[tuple[float, bool]] = []
    for created_at, is_answered, frt, response_at in rows:
        total += 1
        if is_answered:
            answered += 1
            frts.append(frt)
            if frt <= within_s:
                within += 1
            if calendar is not None:
                answered_at = response_at or created_at + timedelta(seconds=frt)
                open_s = frt if calendar.always_open else calendar.open_seconds(created_at, answered_at)
                business.append(open_s)
                if open_s <= within_s:
                    business_within += 1
        if is_answered and (response_at is None or response_at <= as_of):
            km.append((frt, True))
        else:
            km.append((max((as_of - created_at).total_seconds(), 0.0), False))
    frts.sort()
    business.sort()
    with_calendar = calendar is not None and bool(total)
    km_median = kaplan_meier_median(km) if total else None
    return ResponseFigures(
        mentions=total, answered=answered, unanswered=total - answered,
        reply_rate=answered / total if total else None,
        median_frt_s=quantile(frts, 0.5), p90_frt_s=quantile(frts, 0.9),
        answered_within_target=within / total if total else None,
        km_median_s=km_median,
        km_not_reached_over_s=max(d for d, _answered in km) if total and km_median is None else None,
        target_s=within_s,
        business_median_frt_s=quantile(business, 0.5), business_p90_frt_s=quantile(business, 0.9),
        business_answered_within_target=business_within / total if with_calendar else None,
    )


def mention_aggregates(*, mentions_qs: QuerySet[Mention], as_of: datetime | None = None,
                       within_s: float = ANSWERED_WITHIN_DEFAULT_S,
                       calendar: BusinessCalendar | None = None) -> ResponseFigures:
    """METRICS.md §4 aggregates over any set of mentions (the caller chooses the set, e.g. by creation time),
    answered within T = ``within_s``; business-hours figures with the brand's ``calendar``."""
    as_of = as_of or timezone.now()
    rows = mentions_qs.values_list("created_at", "answered", "frt_seconds", "first_response_at").iterator(
        chunk_size=5000)
    return figures_from_rows(rows, as_of=as_of, within_s=within_s, calendar=calendar)


def mentions_in_window(*, brands: Iterable[Brand] | QuerySet[Brand], start: datetime | None = None,
                       end: datetime | None = None) -> QuerySet[Mention]:
    """METRICS.md §4: the set of mentions of these brands created in [start, end)."""
    qs = Mention.objects.filter(brand__in=brands)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs


def response_stats(*, brands: Iterable[Brand] | QuerySet[Brand], start: datetime | None = None,
                   end: datetime | None = None, as_of: datetime | None = None) -> list[BrandResponseStats]:
    """METRICS.md §4 aggregates per brand over mentions created in [start, end), as of ``as_of`` (default now):
    answered within each brand's own first-response target, and business-hours FRT in its own business hours.

    Brands without mentions in the set get a row with zero mentions and "no value" figures.
    """
    as_of = as_of or timezone.now()
    brand_list = sorted(brands, key=lambda b: b.slug)
    targets = targets_by_brand(brand_list)
    calendars = calendars_by_brand(brand_list)
    qs = mentions_in_window(brands=brand_list, start=start, end=end)
    rows_by_brand: dict[int, list] = {b.id: [] for b in brand_list}
    for brand_id, *row in qs.values_list("brand_id", "created_at", "answered", "frt_seconds",
                                         "first_response_at").iterator(chunk_size=5000):
        rows_by_brand[brand_id].append(row)
    out = []
    for brand in brand_list:
        figures = figures_from_rows(rows_by_brand[brand.id], as_of=as_of,
                                    within_s=targets[brand.id].first_response_target_s, calendar=calendars[brand.id])
        out.append(BrandResponseStats(**figures.as_dict(), brand_id=brand.id, brand_slug=brand.slug,
                                      brand_name=brand.name))
    return out


def unanswered_counts(*, brand_ids: Iterable[int]) -> dict[int, int]:
    """Unanswered mentions per brand (METRICS.md §3), for lists that show a queue size."""
    rows = (Mention.objects.filter(brand_id__in=list(brand_ids)).values("brand_id")
            .annotate(n=Count("id", filter=Q(answered=False))))
    return {r["brand_id"]: r["n"] for r in rows}


@dataclass(frozen=True)
class SourceCoverage:
    """How completely one source has been read: everything before ``complete_up_to`` is stored (or recorded as
    lost); ``open_gap`` is a stretch still being read back after a burst; ``lost`` are stretches the platform
    could not give (figures over them may miss posts)."""

    source: Source
    complete_up_to: datetime | None
    open_gap: SourceGap | None
    lost: tuple[SourceGap, ...]

    @property
    def lost_count(self) -> int:
        return len(self.lost)


def sources_coverage(*, sources: Iterable[Source], lost_since: datetime | None = None,
                     lost_limit: int = 3) -> list[SourceCoverage]:
    """Coverage of each source, for the sources page and the board (two queries whatever the number)."""
    sources = list(sources)
    gaps = SourceGap.objects.filter(source__in=sources).filter(
        Q(recoverable=True, closed_at__isnull=True) | Q(recoverable=False)).order_by("-opened_at")
    if lost_since is not None:
        gaps = gaps.filter(Q(recoverable=True) | Q(ends_at__isnull=True) | Q(ends_at__gte=lost_since))
    open_gaps: dict[int, SourceGap] = {}
    lost: dict[int, list[SourceGap]] = {}
    for gap in gaps:
        if gap.recoverable:
            open_gaps.setdefault(gap.source_id, gap)
        elif len(lost.setdefault(gap.source_id, [])) < lost_limit:
            lost[gap.source_id].append(gap)
    return [SourceCoverage(source=s, complete_up_to=s.complete_up_to, open_gap=open_gaps.get(s.pk),
                           lost=tuple(lost.get(s.pk, ()))) for s in sources]
