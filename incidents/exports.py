"""CSV exports for analysts: mentions, posts, official posts, incidents and brand weeks.

Columns are stable and documented in docs/exports.md (one line each, with its METRICS.md section). Rows stream
from the database with ``QuerySet.iterator(chunk_size=...)`` (a server-side cursor on PostgreSQL), so memory
stays flat however many rows; timestamps are ISO 8601. What each cell holds (text neutralised against spreadsheet
formulas unless the analyst asked for the raw CSV, numbers rounded by meaning, empty for "no value") is decided
for every cell of every export by ``incidents.export_cells``. Every filter is checked before the first byte is
sent (``export_start``): a bad one is an ``ExportError`` the caller answers with 400, never a download cut short.
Who may export, and which brands, is decided by the caller through ``incidents.roles`` (``can_export`` and
``brands_visible_to``); every export is written to the audit log.
"""
from __future__ import annotations

import bisect
import csv
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import CharField, Exists, Func, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from socialfeed.tone.categories import OUTAGE_RELATED  # METRICS.md §6

from . import date_inputs, export_cells
from .business_hours import calendars_by_brand
from .date_inputs import quoted
from .export_cells import figure, ratio, seconds
from .models import AuditEntry, Brand, Incident, Platform
from .targets import targets_by_brand

CHUNK_SIZE = 5000  # rows fetched per round trip from the server-side cursor
ROWS_PER_WRITE = 2000  # rows per chunk handed to the HTTP response or the file
BOM = "\ufeff"
_FILE_NAME_PART = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}", re.ASCII)


class ExportError(ValueError):
    """A filter that cannot be understood (unknown kind, bad date, unknown incident)."""


@dataclass(frozen=True)
class ExportFilters:
    brand: str = ""
    start: datetime | None = None
    end: datetime | None = None
    incident: int | None = None
    platform: str = ""
    # The calendar days given, when from/to were plain dates: brand weeks are then chosen by day, not instant.
    first_day: date | None = None
    last_day: date | None = None

    def as_audit(self) -> dict:
        data = asdict(self)
        del data["first_day"], data["last_day"]
        for key in ("start", "end"):
            data[key] = data[key].isoformat() if data[key] else None
        return {k: v for k, v in data.items() if v not in (None, "")}


def parse_moment(value: str | None, *, end: bool = False, field: str = "from") -> datetime | None:
    """An ISO 8601 date or date-time within the dates Hotline supports (incidents.date_inputs), as UTC. A date
    alone is UTC midnight; as an end it includes that whole day."""
    if not value or not value.strip():
        return None
    try:
        return date_inputs.parse_moment(value, field=field, end=end)[0]
    except date_inputs.DateInputError as error:
        raise ExportError(str(error)) from None


def _given_day(value: str | None, *, field: str) -> date | None:
    """The calendar day when the filter was a plain date (brand weeks are then chosen by day, not by instant)."""
    if not value or not value.strip():
        return None
    try:
        return date_inputs.parse_moment(value, field=field)[1]
    except date_inputs.DateInputError as error:
        raise ExportError(str(error)) from None


def filters_from(params) -> ExportFilters:
    """Read brand, from, to, incident and platform from a query dict (the pages' filters).

    What can be checked without knowing the user is checked here: dates (readable, supported, from before to),
    the incident number and the platform. The brand is checked against the user's brands in ``export_start``.
    """
    incident = (params.get("incident") or "").strip() or None
    if incident is not None:
        if not (incident.isascii() and incident.isdigit()) or len(incident) > 18:
            raise ExportError(_("incident %(value)s is not an incident number.") % {"value": quoted(incident)})
        incident = int(incident)
    platform = (params.get("platform") or "").strip()
    if platform and platform not in Platform.values:
        raise ExportError(_("platform %(value)s is not one Hotline reads: choose one of %(choices)s.") % {
            "value": quoted(platform), "choices": ", ".join(Platform.values)})
    start = parse_moment(params.get("from"), field="from")
    end = parse_moment(params.get("to"), end=True, field="to")
    if start and end and end <= start:
        raise ExportError(_("from %(start)s must come before to %(end)s.") % {
            "start": quoted(params.get("from", "")), "end": quoted(params.get("to", ""))})
    return ExportFilters(
        first_day=_given_day(params.get("from"), field="from"),
        last_day=_given_day(params.get("to"), field="to"),
        brand=params.get("brand") or "",
        start=start,
        end=end,
        incident=incident,
        platform=platform,
    )


# --- Cell formatting: incidents.export_cells decides text, numbers, booleans and empty cells -----------------

def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


class IsoUtc(Func):
    """A UTC timestamp as ISO 8601 text, formatted by the database.

    Why: turning a million timestamps into datetime objects costs more than the rest of the export; the text the
    database writes is exactly what ``datetime.isoformat()`` would (microseconds only when there are some).
    """

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        col = "%(expressions)s"
        template = (
            f"CASE WHEN date_trunc('second', {col}) = {col} "
            f"THEN to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') "
            f"ELSE to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') END"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC: the same text with a "T" and the offset.
        return self.as_sql(compiler, connection, template="replace(%(expressions)s, ' ', 'T') || '+00:00'", **extra)


_zones: dict[str, zoneinfo.ZoneInfo] = {}


def _zone(name: str) -> zoneinfo.ZoneInfo:
    zone = _zones.get(name)
    if zone is None:
        zone = _zones[name] = zoneinfo.ZoneInfo(name)
    return zone


def _stream(values: QuerySet) -> Iterator[tuple]:
    """Rows of a values_list query through a server-side cursor, inside a read transaction.

    Why the transaction: outside one, Django declares the cursor WITH HOLD, and PostgreSQL then computes and
    stores the whole result before the first row leaves. Why cursor_tuple_fraction = 1: we read every row, so
    the planner should pick the plan that is fastest in total, as it does for COPY, not the fastest first row.
    An export cut short (client gone) just rolls the read transaction back.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        yield from values.iterator(chunk_size=CHUNK_SIZE)


class _IncidentWindows:
    """Which incident of a brand an instant falls in (METRICS.md §5 outage window [started_at, ended_at))."""

    def __init__(self, *, brand_ids: Iterable[int], now: datetime) -> None:
        self._by_brand: dict[int, tuple[list[datetime], list[tuple[datetime, int]]]] = {}
        rows = Incident.objects.filter(brand_id__in=list(brand_ids)).order_by("started_at", "id")
        for brand_id, started, ended, pk in rows.values_list("brand_id", "started_at", "ended_at", "id"):
            starts, spans = self._by_brand.setdefault(brand_id, ([], []))
            starts.append(started)
            spans.append((ended or now, pk))

    def at(self, brand_id: int, moment: datetime) -> int | None:
        found = self._by_brand.get(brand_id)
        if not found:
            return None
        starts, spans = found
        i = bisect.bisect_right(starts, moment)
        # Incidents may overlap: the latest one that started before and is still open at ``moment`` wins.
        while i > 0:
            i -= 1
            end, pk = spans[i]
            if moment < end:
                return pk
        return None


# --- Kinds -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportKind:
    name: str
    columns: tuple[str, ...]
    rows: Callable[..., Iterator[tuple]]


def _scope_brands(*, brands: QuerySet[Brand], filters: ExportFilters) -> list[Brand]:
    """The caller's brands, narrowed by the brand filter, which must name one of them: another team's brand gets
    the same answer as one that does not exist, so nothing leaks about it."""
    if filters.brand:
        brands = brands.filter(slug=filters.brand)
    scoped = list(brands)
    if filters.brand and not scoped:
        raise ExportError(_("There is no brand %(slug)s among your brands.") % {"slug": quoted(filters.brand)})
    return scoped


def _incident_for(filters: ExportFilters, brands: list[Brand]) -> Incident | None:
    if filters.incident is None:
        return None
    incident = Incident.objects.filter(pk=filters.incident, brand__in=brands).first()
    if incident is None:
        # Not found or not one of the user's brands: same answer, so nothing leaks about other brands.
        raise ExportError(f"There is no incident {filters.incident} among your brands.")
    return incident


def _filtered_by_time_and_platform(qs, filters, incident, now, *, platform_field: str):
    """The page's date range (or the incident's window) on created_at, and its platform filter."""
    start, end = _time_window(filters, incident, now)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    if filters.platform:
        qs = qs.filter(**{platform_field: filters.platform})
    return qs


def _time_window(filters: ExportFilters, incident: Incident | None, now: datetime):
    if incident is not None:
        # An incident download covers the incident: its whole outage window (METRICS.md §5), the figures the
        # board shows, whatever dates the page's form also holds.
        return incident.started_at, incident.window_end(now)
    return filters.start, filters.end


MENTION_COLUMNS = (
    "brand", "platform", "post_id", "url", "author_id", "author_handle", "created_at_utc", "created_at_local",
    "text", "lang", "matched_by", "sentiment_score", "sentiment_label", "tone_analyser", "complaint", "answered",
    "first_response_id", "first_response_at_utc", "frt_s", "incident_id", "within_target", "business_frt_s",
)


def _mention_queryset(*, brands: list[Brand], filters: ExportFilters, now: datetime):
    from socialfeed.models import Mention

    incident = _incident_for(filters, brands)
    qs = Mention.objects.filter(brand__in=brands)
    if incident is not None:
        qs = qs.filter(brand=incident.brand)
    return _filtered_by_time_and_platform(qs, filters, incident, now, platform_field="post__platform")


def mention_rows(*, brands: list[Brand], filters: ExportFilters, now: datetime) -> Iterator[tuple]:
    """One row per (post, brand) mention: METRICS.md §2, its first response §3 and tone §6."""
    qs = _mention_queryset(brands=brands, filters=filters, now=now)
    windows = _IncidentWindows(brand_ids=[b.pk for b in brands], now=now)
    slugs = {b.pk: b.slug for b in brands}
    zones = {b.pk: _zone(b.time_zone) for b in brands}
    targets = {brand_id: t.first_response_target_s for brand_id, t in targets_by_brand(brands).items()}
    calendars = calendars_by_brand(brands)
    values = qs.order_by("created_at", "id").annotate(
        created_iso=IsoUtc("created_at"), response_iso=IsoUtc("first_response_at"),
    ).values_list(
        "brand_id", "post__platform", "post__platform_id", "post__url", "post__author_id", "post__author_handle",
        "created_iso", "post__text", "post__lang", "matched_by", "post__sentiment_score", "post__sentiment_label",
        "post__tone_analyser", "complaint", "answered", "first_response__platform_id", "response_iso",
        "frt_seconds",
    )
    at = windows.at
    parse = datetime.fromisoformat
    for (brand_id, platform, post_id, url, author_id, handle, created_iso, text, lang, matched_by, score, label,
         analyser, complaint, answered, response_id, response_iso, frt) in _stream(values):
        created = parse(created_iso)
        # METRICS.md §4: within the brand's first-response target; business-hours FRT in its business hours.
        business = None
        if answered:
            calendar = calendars[brand_id]
            answered_at = parse(response_iso) if response_iso else created + timedelta(seconds=frt)
            business = frt if calendar.always_open else calendar.open_seconds(created, answered_at)
        yield (
            slugs[brand_id], platform, post_id, url, author_id, handle, created_iso,
            created.astimezone(zones[brand_id]).isoformat(), text, lang, matched_by, ratio(score), label, analyser,
            complaint, answered, response_id, response_iso, seconds(frt), at(brand_id, created),
            bool(answered and frt <= targets[brand_id]), seconds(business),
        )


POST_COLUMNS = (
    "platform", "post_id", "url", "author_id", "author_handle", "created_at_utc", "text", "lang", "in_reply_to_id",
    "in_reply_to_author_id", "conversation_id", "is_repost", "official_brand", "official_kind", "category",
    "sentiment_score", "sentiment_label", "tone_analyser",
)


def _post_queryset(*, brands: list[Brand], filters: ExportFilters, now: datetime, official_only: bool):
    from socialfeed.models import Mention, Post

    incident = _incident_for(filters, brands)
    if incident is not None:
        brands = [incident.brand]
    if official_only:
        qs = Post.objects.filter(official_brand__in=brands)
    else:
        # A post belongs to the export when it mentions one of the brands or is one of their official posts.
        mentioned = Mention.objects.filter(post=OuterRef("pk"), brand__in=brands)
        qs = Post.objects.filter(Q(official_brand__in=brands) | Exists(mentioned))
    qs = _filtered_by_time_and_platform(qs, filters, incident, now, platform_field="platform")
    return qs.order_by("created_at", "id"), brands


def post_rows(*, brands: list[Brand], filters: ExportFilters, now: datetime) -> Iterator[tuple]:
    """One row per post that mentions or is written by one of the brands (METRICS.md §1, §6)."""
    qs, brands = _post_queryset(brands=brands, filters=filters, now=now, official_only=False)
    slugs = {b.pk: b.slug for b in brands}
    values = qs.values_list(
        "platform", "platform_id", "url", "author_id", "author_handle", "created_at", "text", "lang",
        "in_reply_to_id", "in_reply_to_author_id", "conversation_id", "is_repost", "official_brand_id",
        "official_kind", "category", "sentiment_score", "sentiment_label", "tone_analyser",
    )
    for (platform, post_id, url, author_id, handle, created, text, lang, reply_to, reply_to_author, conversation,
         repost, brand_id, kind, category, score, label, analyser) in _stream(values):
        if kind:  # METRICS.md §6: official posts are described by their category, never by sentiment
            score, label, analyser = None, "", ""
        yield (
            platform, post_id, url, author_id, handle, created, text, lang, reply_to, reply_to_author, conversation,
            repost, slugs.get(brand_id), kind, category, ratio(score), label, analyser,
        )


OFFICIAL_POST_COLUMNS = (
    "brand", "platform", "post_id", "url", "author_handle", "created_at_utc", "created_at_local", "text", "lang",
    "official_kind", "category", "outage_related", "off_message", "incident_id", "in_reply_to_id",
    "conversation_id", "sentiment_score", "sentiment_label", "channel",
)


def official_post_rows(*, brands: list[Brand], filters: ExportFilters, now: datetime) -> Iterator[tuple]:
    """One row per official communication (METRICS.md §1 reply/broadcast and off-platform communication, §6
    category, §5 off-message), oldest first: official posts, and off-platform communications (SMS, e-mail,
    video…) with their ``channel``.

    The sentiment columns stay empty: METRICS.md §6 describes official posts by their category, not by
    sentiment (an apology reads as negative to any sentiment model and is what a brand should post).
    """
    import heapq

    qs, brands = _post_queryset(brands=brands, filters=filters, now=now, official_only=True)
    windows = _IncidentWindows(brand_ids=[b.pk for b in brands], now=now)
    slugs = {b.pk: b.slug for b in brands}
    zones = {b.pk: _zone(b.time_zone) for b in brands}
    values = qs.values_list(
        "official_brand_id", "platform", "platform_id", "url", "author_handle", "created_at", "text", "lang",
        "official_kind", "category", "in_reply_to_id", "conversation_id",
    )

    def posts() -> Iterator[tuple]:
        for (brand_id, platform, post_id, url, handle, created, text, lang, kind, category, reply_to,
             conversation) in _stream(values):
            incident_id = windows.at(brand_id, created)
            # METRICS.md §5: a promotional broadcast inside an outage window is off-message.
            off_message = kind == "broadcast" and category == "promotional" and incident_id is not None
            yield created, (
                slugs[brand_id], platform, post_id, url, handle, created, created.astimezone(zones[brand_id]), text,
                lang, kind, category, category in OUTAGE_RELATED, off_message, incident_id, reply_to, conversation,
                None, "", "",
            )

    messages = _communication_rows(brands=brands, filters=filters, now=now, windows=windows, slugs=slugs,
                                   zones=zones)
    for _created, row in heapq.merge(posts(), messages, key=lambda item: item[0]):
        yield row


def _communication_rows(*, brands, filters, now, windows, slugs, zones) -> Iterator[tuple]:
    """Off-platform communications (METRICS.md §1) as official-posts rows: broadcasts marked by their channel."""
    from .models import OffPlatformCommunication

    if filters.platform:
        return  # a platform filter asks for posts of that platform; these went out on none
    incident = _incident_for(filters, brands)
    start, end = _time_window(filters, incident, now)
    qs = OffPlatformCommunication.objects.filter(brand__in=brands)
    if start:
        qs = qs.filter(sent_at__gte=start)
    if end:
        qs = qs.filter(sent_at__lt=end)
    for pk, brand_id, sent_at, text, url, channel, category in qs.order_by("sent_at", "id").values_list(
            "pk", "brand_id", "sent_at", "text", "url", "channel", "category"):
        incident_id = windows.at(brand_id, sent_at)
        yield sent_at, (
            slugs[brand_id], "", f"communication:{pk}", url, "", sent_at, sent_at.astimezone(zones[brand_id]), text,
            "", "broadcast", category, category in OUTAGE_RELATED,
            category == "promotional" and incident_id is not None, incident_id, "", "", None, "", channel,
        )


PHASES = ("before", "during", "after")
PHASE_FIGURES = ("mentions", "answered", "reply_rate", "answered_within_target", "median_frt_s", "p90_frt_s",
                 "km_median_s")
# Added after the first columns (new columns only ever go at the end): METRICS.md §4 business-hours figures.
PHASE_BUSINESS_FIGURES = ("business_median_frt_s", "business_p90_frt_s", "business_answered_within_target")
INCIDENT_COLUMNS = (
    "brand", "incident_id", "title", "severity", "status", "started_at_utc", "ended_at_utc", "ongoing",
    "affected_services", "affected_regions", "acknowledged", "tta_s", "time_to_first_update_s",
    "longest_silence_s", "off_message_posts",
) + tuple(f"{phase}_{figure}" for phase in PHASES for figure in PHASE_FIGURES) + (
    "acknowledged_via", "since_last_update_s",
) + tuple(f"{phase}_km_median_not_reached_over_s" for phase in PHASES) + (
    "first_response_target_s",
) + tuple(f"{phase}_{figure}" for phase in PHASES for figure in PHASE_BUSINESS_FIGURES)


def incident_rows(*, brands: list[Brand], filters: ExportFilters, now: datetime) -> Iterator[tuple]:
    """One row per incident with its METRICS.md §5 figures and the §4 aggregates of each phase."""
    from .figures import incident_phase_figures
    from .reports import incident_summary

    qs = Incident.objects.filter(brand__in=brands).select_related("brand").order_by("started_at", "id")
    if filters.incident is not None:
        qs = qs.filter(pk=filters.incident)
    if filters.start:
        qs = qs.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=filters.start))
    if filters.end:
        qs = qs.filter(started_at__lt=filters.end)
    targets = {brand_id: t.first_response_target_s for brand_id, t in targets_by_brand(brands).items()}
    calendars = calendars_by_brand(brands)
    for incident in qs.iterator(chunk_size=200):
        summary = incident_summary(incident=incident, now=now)
        figures = summary.figures
        first_update = _seconds_of(figures, "first_update_s", "time_to_first_update_s")
        off_message = figures["off_message_count"]
        phases, not_reached, business = [], [], []
        within_s = targets[incident.brand_id]
        for _start, _stop, agg in incident_phase_figures(incident=incident, now=now, platform=filters.platform,
                                                         within_s=within_s,
                                                         calendar=calendars[incident.brand_id]).values():
            phases.extend(figure(name, getattr(agg, name, None)) for name in PHASE_FIGURES)
            not_reached.append(seconds(agg.km_not_reached_over_s))
            business.extend(figure(name, getattr(agg, name, None)) for name in PHASE_BUSINESS_FIGURES)
        yield (
            incident.brand.slug, incident.pk, incident.title, incident.severity, incident.status,
            _iso(incident.started_at), _iso(incident.ended_at), incident.is_ongoing, incident.affected_services,
            incident.affected_regions, summary.acknowledged, seconds(summary.tta_s), seconds(first_update),
            seconds(summary.longest_silence_s), off_message, *phases, figures["acknowledged_via"],
            seconds(figures["since_last_update_s"]), *not_reached, seconds(within_s), *business,
        )


def _seconds_of(obj, *names):
    from .reports import _first_attr, _seconds

    return _seconds(_first_attr(obj, *names))


BRAND_WEEK_COLUMNS = (
    "brand", "week", "time_zone", "week_start_local", "week_end_local", "mentions", "answered", "unanswered",
    "reply_rate", "answered_within_target", "median_frt_s", "p90_frt_s", "km_median_s", "complaints", "net_sentiment",
    "incidents", "km_median_not_reached_over_s", "as_of_utc", "first_response_target_s", "business_median_frt_s",
    "business_p90_frt_s", "business_answered_within_target",
)


def _brand_week_span(*, brand: Brand, filters: ExportFilters, now: datetime) -> tuple[str, str]:
    from . import reports

    zone = brand.zone
    if filters.last_day:
        last = reports.week_label(filters.last_day)
    elif filters.end:
        last = reports.week_containing(moment=filters.end - timedelta(microseconds=1), zone=zone)
    else:
        last = reports.last_complete_week(now=now, zone=zone)
    if filters.first_day:
        first = reports.week_label(filters.first_day)
    elif filters.start:
        first = reports.week_containing(moment=filters.start, zone=zone)
    else:
        first = reports.week_shift(last, -(reports.TREND_WEEKS - 1))
    return first, last


def brand_week_rows(*, brands: list[Brand], filters: ExportFilters, now: datetime) -> Iterator[tuple]:
    """The weekly summary table: one row per brand and ISO week in the brand's time zone (METRICS.md §4, §6).

    Weeks run from the one holding ``from`` to the one holding ``to`` (default: the last 8 complete weeks); plain
    dates name calendar days, date-times are placed in the brand's time zone. Every brand's range is worked out
    (and refused when longer than reports.MAX_RANGE_WEEKS) before the first row, so a download never stops
    halfway through.
    """
    return _brand_week_stream(_brand_week_plan(brands=brands, filters=filters, now=now), now=now)


def _brand_week_plan(*, brands: list[Brand], filters: ExportFilters, now: datetime) -> list[tuple[Brand, str, str]]:
    """(brand, first week, last week) for each brand, refused when a range is empty or too long."""
    from . import reports

    plan = []
    for brand in brands:
        first, last = _brand_week_span(brand=brand, filters=filters, now=now)
        weeks = (reports.week_monday(last) - reports.week_monday(first)).days // 7 + 1
        if weeks < 1:  # only when one end is the default: from and to given together are checked in filters_from
            raise ExportError(_("brand-weeks from %(first)s to %(last)s: the first week comes after the last; "
                                "give both from and to.") % {"first": first, "last": last})
        if weeks > reports.MAX_RANGE_WEEKS:
            raise ExportError(_("brand-weeks covers at most %(most)d weeks at a time; from %(first)s to %(last)s "
                                "is %(weeks)d weeks: narrow from and to.") % {
                "most": reports.MAX_RANGE_WEEKS, "first": first, "last": last, "weeks": weeks})
        plan.append((brand, first, last))
    return plan


def _brand_week_stream(plan: list[tuple[Brand, str, str]], *, now: datetime) -> Iterator[tuple]:
    from . import reports

    for brand, first, last in plan:
        for bw in reports.brand_history(brand=brand, first=first, last=last, as_of=now):
            yield (
                brand.slug, bw.week, bw.zone, bw.start_local.isoformat(), bw.end_local.isoformat(), bw.mentions,
                bw.answered, bw.unanswered, ratio(bw.reply_rate), ratio(bw.answered_within_target),
                seconds(bw.median_frt_s), seconds(bw.p90_frt_s), seconds(bw.km_median_s), bw.complaints,
                ratio(bw.net_sentiment), len(bw.incidents), seconds(bw.km_not_reached_over_s), _iso(bw.as_of),
                seconds(bw.target_s), seconds(bw.business_median_frt_s), seconds(bw.business_p90_frt_s),
                ratio(bw.business_answered_within_target),
            )


KINDS: dict[str, ExportKind] = {
    kind.name: kind for kind in (
        ExportKind("mentions", MENTION_COLUMNS, mention_rows),
        ExportKind("posts", POST_COLUMNS, post_rows),
        ExportKind("official-posts", OFFICIAL_POST_COLUMNS, official_post_rows),
        ExportKind("incidents", INCIDENT_COLUMNS, incident_rows),
        ExportKind("brand-weeks", BRAND_WEEK_COLUMNS, brand_week_rows),
    )
}


def export_counts(*, brands: QuerySet[Brand], filters: ExportFilters, now: datetime | None = None,
                  kinds: Iterable[str] = ()) -> dict[str, int]:
    """How many rows each export (``kinds``, default all) would hold with these filters, counted by the same
    queries as the rows, so the download form can say what will come before anything is downloaded. Nothing is
    audited: no data leaves."""
    from . import reports
    from .models import OffPlatformCommunication

    now = now or timezone.now()
    kinds = set(kinds or KINDS)
    scoped = _scope_brands(brands=brands, filters=filters)
    incident = _incident_for(filters, scoped)
    counts: dict[str, int] = {}
    if "mentions" in kinds:
        counts["mentions"] = _mention_queryset(brands=scoped, filters=filters, now=now).count()
    if "posts" in kinds:
        counts["posts"] = _post_queryset(brands=scoped, filters=filters, now=now, official_only=False)[0].count()
    if "official-posts" in kinds:
        official, post_brands = _post_queryset(brands=scoped, filters=filters, now=now, official_only=True)
        messages = 0
        if not filters.platform:
            start, end = _time_window(filters, incident, now)
            messages_qs = OffPlatformCommunication.objects.filter(brand__in=post_brands)
            if start:
                messages_qs = messages_qs.filter(sent_at__gte=start)
            if end:
                messages_qs = messages_qs.filter(sent_at__lt=end)
            messages = messages_qs.count()
        counts["official-posts"] = official.count() + messages
    if "incidents" in kinds:
        incidents = Incident.objects.filter(brand__in=scoped)
        if filters.incident is not None:
            incidents = incidents.filter(pk=filters.incident)
        if filters.start:
            incidents = incidents.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=filters.start))
        if filters.end:
            incidents = incidents.filter(started_at__lt=filters.end)
        counts["incidents"] = incidents.count()
    if "brand-weeks" in kinds:
        counts["brand-weeks"] = sum(len(reports.weeks_between(first, last))
                                    for _brand, first, last in _brand_week_plan(brands=scoped, filters=filters,
                                                                                now=now))
    return counts


class _Lines:
    """What csv.writer writes into: a list of lines, drained every ROWS_PER_WRITE rows (cheaper than StringIO)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.write = self._parts.append

    def drain(self) -> str:
        text = "".join(self._parts)
        self._parts.clear()
        return text


def export_start(*, kind: str, brands: QuerySet[Brand], filters: ExportFilters, user=None, raw: bool = False,
                 now: datetime | None = None) -> Iterator[tuple]:
    """Check the filters, record the export in the audit log and return its rows (header excluded).

    ``brands`` are the brands the caller may see (``brands_visible_to``); a brand filter must name one of them
    (``_scope_brands``). Everything that can fail is checked here, before anything is recorded or sent.
    """
    if kind not in KINDS:
        raise ExportError(_("Unknown export %(kind)s: choose one of %(kinds)s.") % {
            "kind": quoted(kind), "kinds": ", ".join(KINDS)})
    now = now or timezone.now()
    scoped = _scope_brands(brands=brands, filters=filters)
    _incident_for(filters, scoped)
    rows = KINDS[kind].rows(brands=scoped, filters=filters, now=now)
    AuditEntry.objects.create(user=user if user is not None and user.is_authenticated else None,
                              action="export", target=kind,
                              details={"kind": kind, **filters.as_audit(), **({"raw": True} if raw else {})})
    return rows


def csv_chunks(*, kind: str, rows: Iterator[tuple], bom: bool = False, raw: bool = False) -> Iterator[str]:
    """The CSV text in chunks of ROWS_PER_WRITE rows: optional BOM, header row, then the rows, every cell through
    ``export_cells.row_cells`` (text neutralised unless ``raw``)."""
    buffer = _Lines()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(BOM)
    writer.writerow(KINDS[kind].columns)
    yield buffer.drain()
    cells = export_cells.row_cells
    batch: list[list] = []
    for row in rows:
        batch.append(cells(row, raw=raw))
        if len(batch) >= ROWS_PER_WRITE:
            writer.writerows(batch)
            batch.clear()
            yield buffer.drain()
    if batch:
        writer.writerows(batch)
        yield buffer.drain()


def export_filename(*, kind: str, filters: ExportFilters, raw: bool = False, today: date | None = None) -> str:
    """hotline-<kind>[-<brand>][-incident-<n>][-raw]-<date>.csv, built only from parts checked to be plain slugs:
    never from raw request text, so a header can be neither broken nor rewritten through a link."""
    parts = ["hotline", kind if kind in KINDS else "export"]
    if filters.brand and _FILE_NAME_PART.fullmatch(filters.brand.lower()):
        parts.append(filters.brand.lower())
    if filters.incident is not None:
        parts.append(f"incident-{int(filters.incident)}")
    if raw:
        parts.append("raw")
    parts.append((today or timezone.now().date()).isoformat())
    return "-".join(parts) + ".csv"


# --- The same selections for the API's lists (incidents/api): one set of filters, one answer -------------------

def mentions_selected(*, brands: QuerySet[Brand], filters: ExportFilters, now: datetime) -> QuerySet:
    """The mentions the ``mentions`` export holds with these filters (an unknown incident: ExportError)."""
    return _mention_queryset(brands=_scope_brands(brands=brands, filters=filters), filters=filters, now=now)


def official_posts_selected(*, brands: QuerySet[Brand], filters: ExportFilters, now: datetime) -> QuerySet:
    """The official posts the ``official-posts`` export holds with these filters (its off-platform communications
    aside: the API lists those per incident)."""
    qs, _brands = _post_queryset(brands=_scope_brands(brands=brands, filters=filters), filters=filters, now=now,
                                 official_only=True)
    return qs


def incident_at(*, brands: list[Brand], now: datetime) -> Callable[[int, datetime], int | None]:
    """``at(brand_id, moment)``: the incident an instant falls in, by the exports' rule for overlaps."""
    return _IncidentWindows(brand_ids=[b.pk for b in brands], now=now).at


def brand_week_span(*, brand: Brand, filters: ExportFilters, now: datetime) -> tuple[str, str]:
    """The first and last ISO weeks the ``brand-weeks`` export gives this brand with these filters."""
    return _brand_week_span(brand=brand, filters=filters, now=now)
