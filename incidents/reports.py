"""Reads for the weekly summaries, the brand page, the league table and the digest.

Every response-time figure comes from ``socialfeed.selectors.response_stats`` (METRICS.md §4), so the pages, the
digest and the ``brand-weeks`` export agree to the second with the board. This module only adds the calendar
(ISO weeks in a chosen time zone, so a week that crosses a DST change is 167 or 169 hours long), the tone
figures of §6 and the incidents of the week (§5, through ``incidents.figures.incident_figures``).
"""
from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from .models import Brand, Incident

TREND_WEEKS = 8
MAX_RANGE_WEEKS = 104


# --- ISO weeks ---------------------------------------------------------------------------------------------

def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday of an ISO week label such as "2026-W47" that Hotline computed (a neighbouring week, a trend).

    A week a user typed goes through ``date_inputs.parse_week`` first, which also checks that it falls within
    the dates Hotline supports; computed weeks may step a few weeks outside that range (the trend of 2000-W01).
    """
    try:
        year_part, week_part = week.upper().split("-W")
        return date.fromisocalendar(int(year_part), int(week_part), 1)
    except (ValueError, AttributeError):
        raise ValueError(f"{week!r} is not an ISO week such as 2026-W47.") from None


def week_from_input(value: str, *, field: str) -> str:
    """A week a user typed, checked (date_inputs.DateInputError when unreadable or unsupported), as a label."""
    from .date_inputs import parse_week

    return week_label(parse_week(value, field=field))


def week_bounds(*, week: str, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) local time in ``zone``, as UTC instants (METRICS.md §4 sets by [from, to))."""
    monday = week_monday(week)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def week_containing(*, moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    return week_label(moment.astimezone(zone).date())


def week_shift(week: str, weeks: int) -> str:
    return week_label(week_monday(week) + timedelta(weeks=weeks))


def weeks_between(first: str, last: str) -> list[str]:
    """Every ISO week from ``first`` to ``last`` inclusive (at most MAX_RANGE_WEEKS, the most recent kept)."""
    start, stop = week_monday(first), week_monday(last)
    if stop < start:
        start, stop = stop, start
    count = min((stop - start).days // 7 + 1, MAX_RANGE_WEEKS)
    return [week_label(stop - timedelta(weeks=i)) for i in reversed(range(count))]


def last_complete_week(*, now: datetime | None = None, zone: zoneinfo.ZoneInfo) -> str:
    now = now or timezone.now()
    return week_shift(week_containing(moment=now, zone=zone), -1)


# --- Figures -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IncidentOfWeek:
    """An incident whose outage window overlaps the week, with METRICS.md §5 figures."""

    incident: Incident
    tta_s: float | None
    acknowledged: bool
    longest_silence_s: float | None
    figures: object = None


@dataclass(frozen=True)
class BrandWeek:
    """One brand's figures over one ISO week. None means "no value" (shown as "—", never 0 %)."""

    brand: Brand
    week: str
    zone: str
    start: datetime
    end: datetime
    mentions: int
    answered: int
    unanswered: int
    reply_rate: float | None
    answered_within_target: float | None
    median_frt_s: float | None
    p90_frt_s: float | None
    km_median_s: float | None
    complaints: int
    net_sentiment: float | None
    incidents: list[IncidentOfWeek] = field(default_factory=list)
    # METRICS.md §4 "not reached": the longest time observed when fewer than half were answered.
    km_not_reached_over_s: float | None = None
    # The moment the figures are true at (week_as_of): the week's end, or now for the week so far.
    as_of: datetime | None = None
    # T of "answered within T": the brand's first-response target in seconds (METRICS.md §4, §8).
    target_s: float = 3600.0
    # METRICS.md §4 business-hours FRT over the same mentions, in the brand's business hours.
    business_median_frt_s: float | None = None
    business_p90_frt_s: float | None = None
    business_answered_within_target: float | None = None

    @property
    def is_empty(self) -> bool:
        return self.mentions == 0

    @property
    def so_far(self) -> bool:
        """The week is not over: its figures cover the week so far."""
        return self.as_of is not None and self.as_of < self.end

    @property
    def as_of_local(self) -> datetime | None:
        return self.as_of.astimezone(zoneinfo.ZoneInfo(self.zone)) if self.as_of else None

    @property
    def start_local(self) -> datetime:
        return self.start.astimezone(zoneinfo.ZoneInfo(self.zone))

    @property
    def end_local(self) -> datetime:
        return self.end.astimezone(zoneinfo.ZoneInfo(self.zone))


# Figures a change and a league-table column can be computed on; "lower is better" for times and complaints.
COMPARABLE = ("mentions", "reply_rate", "answered_within_target", "median_frt_s", "p90_frt_s", "km_median_s",
              "business_median_frt_s", "business_p90_frt_s", "business_answered_within_target",
              "complaints", "net_sentiment")
LOWER_IS_BETTER = {"median_frt_s", "p90_frt_s", "km_median_s", "business_median_frt_s", "business_p90_frt_s",
                   "complaints"}
RATES = {"reply_rate", "answered_within_target", "business_answered_within_target"}


@dataclass(frozen=True)
class WeekRow:
    """A brand's row of the weekly page: this week, the week before, and the last TREND_WEEKS weeks."""

    current: BrandWeek
    previous: BrandWeek | None
    trend: list[BrandWeek]

    @property
    def brand(self) -> Brand:
        return self.current.brand

    def change(self, name: str) -> float | None:
        """This week's figure minus last week's; None when either has no value."""
        if self.previous is None:
            return None
        now, before = getattr(self.current, name), getattr(self.previous, name)
        if now is None or before is None:
            return None
        return now - before

    @property
    def changes(self) -> dict[str, float | None]:
        return {name: self.change(name) for name in COMPARABLE}


def _stats_brand_id(stats) -> int:
    brand_id = getattr(stats, "brand_id", None)
    return brand_id if brand_id is not None else stats.brand.pk


def _tone_by_brand(*, brand_ids: list[int], start: datetime, end: datetime) -> dict[int, dict]:
    """METRICS.md §6 complaints and net sentiment of each brand's mentions created in [start, end)."""
    from socialfeed.models import Mention, Post

    rows = (
        Mention.objects.filter(brand_id__in=brand_ids, created_at__gte=start, created_at__lt=end)
        .values("brand_id")
        .annotate(
            total=Count("id"),
            complaints=Count("id", filter=Q(complaint=True)),
            positive=Count("id", filter=Q(sentiment_label=Post.Label.POSITIVE)),
            negative=Count("id", filter=Q(sentiment_label=Post.Label.NEGATIVE)),
        )
    )
    return {row["brand_id"]: row for row in rows}


def net_sentiment(*, positive: int, negative: int, total: int) -> float | None:
    """METRICS.md §6 net sentiment = (positive − negative) / posts in the set; no value for an empty set."""
    if not total:
        return None
    return (positive - negative) / total


def incident_summary(*, incident: Incident, now: datetime | None = None) -> IncidentOfWeek:
    """METRICS.md §5 time to acknowledge and longest silence, read from the board's ``incident_figures``."""
    from .figures import incident_figures

    figures = incident_figures(incident=incident, now=now)
    tta = _first_attr(figures, "tta_s", "time_to_acknowledge_s", "tta_seconds")
    silence = _first_attr(figures, "longest_silence_s", "longest_silence_seconds")
    acknowledged = _first_attr(figures, "acknowledged")
    return IncidentOfWeek(incident=incident, tta_s=_seconds(tta), acknowledged=bool(acknowledged) if
                          acknowledged is not None else tta is not None,
                          longest_silence_s=_seconds(silence), figures=figures)


def _first_attr(obj, *names):
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _incidents_in(*, brand_ids: list[int], start: datetime, end: datetime) -> dict[int, list[Incident]]:
    found: dict[int, list[Incident]] = {}
    overlapping = (
        Incident.objects.filter(brand_id__in=brand_ids, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .select_related("brand").order_by("started_at", "id")
    )
    for incident in overlapping:
        found.setdefault(incident.brand_id, []).append(incident)
    return found


def week_as_of(*, end: datetime, now: datetime | None = None) -> datetime:
    """The one as-of rule of every weekly figure (METRICS.md §4 "as of", §5 incidents): a week's figures are
    true at the week's end, or now for the week so far. The page, the digest and the brand-weeks export all
    use it, so the same week gives the same silence-counted median and the same incident figures whenever and
    wherever it is read."""
    now = now or timezone.now()
    return min(end, now)


def brand_weeks(*, brands, week: str, zone: zoneinfo.ZoneInfo, as_of: datetime | None = None,
                with_incidents: bool = True) -> list[BrandWeek]:
    """Each brand's figures over one ISO week in ``zone`` (METRICS.md §4 via response_stats, §5, §6), as of
    :func:`week_as_of` (``as_of`` is the moment the report is made, default now)."""
    from socialfeed.selectors import response_stats

    brands = list(brands)
    if not brands:
        return []
    start, end = week_bounds(week=week, zone=zone)
    as_of = week_as_of(end=end, now=as_of)
    brand_ids = [b.pk for b in brands]
    stats = {_stats_brand_id(s): s for s in response_stats(brands=brands, start=start, end=end, as_of=as_of)}
    tone = _tone_by_brand(brand_ids=brand_ids, start=start, end=end)
    incidents = _incidents_in(brand_ids=brand_ids, start=start, end=end) if with_incidents else {}
    result = []
    for brand in brands:
        s = stats.get(brand.pk)
        t = tone.get(brand.pk, {"complaints": 0, "positive": 0, "negative": 0, "total": 0})
        mentions = s.mentions if s else 0
        result.append(BrandWeek(
            brand=brand, week=week, zone=zone.key, start=start, end=end,
            mentions=mentions,
            answered=s.answered if s else 0,
            unanswered=s.unanswered if s else 0,
            # METRICS.md §4: an empty set has no reply rate (and no within-target share), never 0.
            reply_rate=s.reply_rate if s and mentions else None,
            answered_within_target=s.answered_within_target if s and mentions else None,
            median_frt_s=s.median_frt_s if s else None,
            p90_frt_s=s.p90_frt_s if s else None,
            km_median_s=s.km_median_s if s else None,
            km_not_reached_over_s=s.km_not_reached_over_s if s else None,
            as_of=as_of,
            target_s=s.target_s if s else 3600.0,
            business_median_frt_s=s.business_median_frt_s if s else None,
            business_p90_frt_s=s.business_p90_frt_s if s else None,
            business_answered_within_target=s.business_answered_within_target if s and mentions else None,
            complaints=t["complaints"],
            net_sentiment=net_sentiment(positive=t["positive"], negative=t["negative"], total=t["total"]),
            incidents=[incident_summary(incident=i, now=as_of) for i in incidents.get(brand.pk, [])],
        ))
    return result


def weekly_summary(*, brands, week: str, zone: zoneinfo.ZoneInfo, as_of: datetime | None = None) -> list[WeekRow]:
    """The weekly page: one row per brand with the change against the week before and an 8-week trend."""
    brands = list(brands)
    current = brand_weeks(brands=brands, week=week, zone=zone, as_of=as_of)
    history: dict[int, list[BrandWeek]] = {b.pk: [] for b in brands}
    for back in range(TREND_WEEKS - 1, 0, -1):
        for bw in brand_weeks(brands=brands, week=week_shift(week, -back), zone=zone, as_of=as_of,
                              with_incidents=False):
            history[bw.brand.pk].append(bw)
    rows = []
    for bw in current:
        trend = history[bw.brand.pk] + [bw]
        previous = trend[-2] if len(trend) > 1 else None
        rows.append(WeekRow(current=bw, previous=previous, trend=trend))
    return rows


def brand_history(*, brand: Brand, first: str, last: str, as_of: datetime | None = None) -> list[BrandWeek]:
    """The brand page: the same figures week by week over [first, last], in the brand's own time zone."""
    return [
        brand_weeks(brands=[brand], week=week, zone=brand.zone, as_of=as_of)[0]
        for week in weeks_between(first, last)
    ]


LEAGUE_COLUMNS = ("brand",) + COMPARABLE + ("incidents",)


def league_sort(rows: list[WeekRow], *, sort: str) -> tuple[list[WeekRow], str]:
    """Sort the league table by any column (``-`` first for descending); brands without a value go last."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    if column not in LEAGUE_COLUMNS:
        column, descending = "brand", False

    def value(row: WeekRow):
        if column == "brand":
            return row.brand.name.lower()
        if column == "incidents":
            return len(row.current.incidents)
        return getattr(row.current, column)

    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=value, reverse=descending)
    return present + sorted(missing, key=lambda r: r.brand.name.lower()), ("-" if descending else "") + column
