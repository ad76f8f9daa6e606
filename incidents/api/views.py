"""The API's routes: plain function views over the selectors and services the pages use.

Every route reads brands through ``incidents.roles.brands_visible_to``: another team's brand or incident is a 404
on a path and a 400 "no such brand / incident among your brands" in a filter, the same answer as for one that
does not exist. Only comms may write (403 otherwise); mentions and official posts in bulk follow the exports'
rule (analysts and administrators) and are written to the audit log like an export. Every write is audited twice:
the service's own entry says what changed, an ``api.write`` entry says which token did it.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import board, exports, figures, reports
from incidents.business_hours import calendars_by_brand, minute_text
from incidents.models import AuditEntry, Brand, Incident, IncidentEvent, OffPlatformCommunication
from incidents.roles import brands_visible_to, can_export, can_manage_incidents
from incidents.services import (
    communication_record,
    incident_add_note,
    incident_open,
    incident_set_status,
    incident_update,
)
from incidents.targets import targets_by_brand
from socialfeed.tone.categories import OUTAGE_RELATED

from . import serializers as out
from . import writes
from .errors import field_error
from .pagination import cursor_decode, keyset_page, page_body
from .params import (
    BrandWeekQuery,
    IncidentQuery,
    LeagueQuery,
    MentionQuery,
    NoQuery,
    OfficialPostQuery,
    PageQuery,
    read_query,
)

# --- Who may see and do what -----------------------------------------------------------------------------------

def _brands(request: Request):
    return brands_visible_to(request.user)


def _brand_named(request: Request, slug: str | None) -> Brand | None:
    """The brand a ``brand`` filter names, among the caller's; a 400 naming ``brand`` when it is none of them."""
    if not slug:
        return None
    brand = _brands(request).filter(slug=slug).first()
    if brand is None:
        raise field_error("brand", _("There is no brand %(slug)r among your brands (see /api/v1/brands/).")
                          % {"slug": slug[:64]})
    return brand


def _incident(request: Request, pk: int) -> Incident:
    incident = Incident.objects.select_related("brand").filter(pk=pk, brand__in=_brands(request)).first()
    if incident is None:
        raise exceptions.NotFound(_("There is no incident %(pk)s among your brands.") % {"pk": pk})
    return incident


def _require_comms(request: Request) -> None:
    if not can_manage_incidents(request.user):
        raise exceptions.PermissionDenied(_("Only the comms team can change incidents."))


def _require_export(request: Request) -> None:
    if not can_export(request.user):
        raise exceptions.PermissionDenied(_("Only analysts and administrators may list mentions and posts in bulk, "
                                            "as for CSV exports."))


def _caller(request: Request) -> str:
    token = getattr(request, "api_token", None)
    return f"token:{token.prefix}" if token is not None else "session"


def _audit_write(request: Request, *, target: str, status_code: int) -> None:
    token = getattr(request, "api_token", None)
    AuditEntry.objects.create(user=request.user, action="api.write", target=target, details={
        "method": request.method, "path": request.path, "status": status_code, "via": _caller(request),
        **({"token": token.pk, "token_name": token.name} if token is not None else {})})


# --- Index -----------------------------------------------------------------------------------------------------

@extend_schema(operation_id="index", responses=out.IndexSerializer, summary="Where everything is",
               tags=["index"])
@api_view(["GET"])
def index(request: Request) -> Response:
    read_query(NoQuery, request)  # takes no parameter
    base = request.build_absolute_uri("/api/v1/")
    return Response({"version": "1", "schema": base + "schema/", "docs": base + "docs/", "routes": {
        name: base + path for name, path in (
            ("brands", "brands/"), ("incidents", "incidents/"), ("mentions", "mentions/"),
            ("official_posts", "official-posts/"), ("brand_weeks", "brand-weeks/"), ("league", "league/"))}})


# --- Brands ----------------------------------------------------------------------------------------------------

def _brand_bodies(brands: list[Brand]) -> list[dict]:
    """Brands with their METRICS.md §8 targets and §4 business hours, read where the pages read them
    (incidents.targets, incidents.business_hours), two queries each for all the brands."""
    targets = targets_by_brand(brands)
    calendars = calendars_by_brand(brands)
    bodies = []
    for brand in brands:
        t, calendar = targets[brand.pk], calendars[brand.pk]
        bodies.append({
            "slug": brand.slug, "name": brand.name, "time_zone": brand.time_zone, "languages": brand.languages,
            "official_accounts": [{"platform": a.platform, "handle": a.handle} for a in brand.official_accounts.all()],
            "tracking_terms": [str(term) for term in brand.tracking_terms.all()],
            "targets": {"first_response_target_s": t.first_response_target_s, "update_cadence_s": t.update_cadence_s,
                        "acknowledgement_target_s": t.acknowledgement_target_s,
                        "spike_threshold": t.spike_threshold, "unanswered_breach_count": t.unanswered_breach_count,
                        "is_default": t.is_default},
            "business_hours": {"always_open": calendar.always_open, "holidays": sorted(calendar.holidays),
                               "weekly": [{"weekday": day, "opens": minute_text(opens), "closes": minute_text(closes)}
                                          for day in sorted(calendar.ranges)
                                          for opens, closes in calendar.ranges[day]]},
        })
    return bodies


def _brands_with_details(request: Request):
    return _brands(request).prefetch_related("official_accounts", "tracking_terms")


@extend_schema(operation_id="brands_list", responses=out.BrandSerializer(many=True), summary="Your brands")
@api_view(["GET"])
def brand_list(request: Request) -> Response:
    """The brands of your teams, with their official accounts, tracking terms and targets."""
    read_query(NoQuery, request)
    return Response(out.BrandSerializer(_brand_bodies(list(_brands_with_details(request).order_by("name", "slug"))),
                                        many=True).data)


@extend_schema(operation_id="brands_retrieve", responses=out.BrandSerializer,
               summary="One brand")
@api_view(["GET"])
def brand_detail(request: Request, slug: str) -> Response:
    read_query(NoQuery, request)
    brand = _brands_with_details(request).filter(slug=slug).first()
    if brand is None:
        raise exceptions.NotFound(_("There is no brand %(slug)r among your brands.") % {"slug": slug})
    return Response(out.BrandSerializer(_brand_bodies([brand])[0]).data)


# --- Incidents -------------------------------------------------------------------------------------------------

BUSINESS = ("business_median_frt_s", "business_p90_frt_s", "business_answered_within_target")  # METRICS.md §4


def _phase_body(start: dt.datetime, end: dt.datetime, agg) -> dict:
    hours = (end - start).total_seconds() / 3600
    return {"start": start, "end": end, "mentions": agg.mentions,
            "per_hour": agg.mentions / hours if hours > 0 else None, "answered": agg.answered,
            "reply_rate": agg.reply_rate, "answered_within_target": agg.answered_within_target,
            "median_frt_s": agg.median_frt_s, "p90_frt_s": agg.p90_frt_s, "km_median_s": agg.km_median_s,
            "km_not_reached_over_s": agg.km_not_reached_over_s, **{name: getattr(agg, name) for name in BUSINESS}}


def incident_figures_body(incident: Incident, *, now: dt.datetime) -> dict:
    """The incident's METRICS.md §5 figures and §4/§6 window aggregates from the board's selector
    (incidents.figures.incident_figures), and each phase's from the incidents export's
    (incidents.figures.incident_phase_figures)."""
    f = figures.incident_figures(incident=incident, now=now)
    phases = {name: _phase_body(start, end, agg)
              for name, (start, end, agg) in figures.incident_phase_figures(incident=incident, now=now).items()}
    keys = ("window_start", "window_end", "ongoing", "elapsed_s", "tta_s", "acknowledged_via", "first_update_s",
            "first_update_via", "longest_silence_s", "since_last_update_s", "last_update_at", "last_update_via",
            "off_message_count", "mentions", "answered", "unanswered", "reply_rate", "median_frt_s", "p90_frt_s",
            "answered_within_target", "first_response_target_s", "complaints", "net_sentiment",
            "oldest_unanswered_wait_s")
    body = {key: f[key] for key in keys}
    # The silence-counted median and the business-hours figures of the window are the "during" phase's.
    during = phases["during"]
    body.update(as_of=now, acknowledged=f["tta_s"] is not None, phases=phases, km_median_s=during["km_median_s"],
                km_not_reached_over_s=during["km_not_reached_over_s"], **{name: during[name] for name in BUSINESS})
    return body


def _incident_body(request: Request, incident: Incident, *, now: dt.datetime) -> dict:
    return {
        "id": incident.pk, "brand": incident.brand, "title": incident.title, "severity": incident.severity,
        "status": incident.status, "started_at": incident.started_at, "ended_at": incident.ended_at,
        "is_ongoing": incident.is_ongoing, "affected_services": incident.affected_services,
        "affected_regions": incident.affected_regions, "created_at": incident.created_at,
        "updated_at": incident.updated_at,
        "board_url": request.build_absolute_uri(reverse("incidents:board", kwargs={"pk": incident.pk})),
        "overlapping_incidents": [other.pk for other in figures.overlapping_incidents(incident)],
        "figures": incident_figures_body(incident, now=now),
    }


def _incident_response(request: Request, incident: Incident, *, status_code: int = 200) -> Response:
    incident = Incident.objects.select_related("brand").get(pk=incident.pk)
    return Response(out.IncidentSerializer(_incident_body(request, incident, now=timezone.now())).data,
                    status=status_code)


@extend_schema(methods=["GET"], operation_id="incidents_list", parameters=[IncidentQuery],
               description="Your brands' incidents, newest first, each with every METRICS.md §5 figure and the §4 "
                           "aggregates of its window and phases, as of now (keyset pages).",
               responses=out.IncidentPage, summary="Incidents, newest first")
@extend_schema(methods=["POST"], operation_id="incidents_create", request=writes.IncidentCreateBody,
               description="Declare an incident with its outage window, with the checks and messages of the "
                           "incident form (a start in the future, an end before the start… are refused naming "
                           "the field). Only comms.",
               responses={201: out.IncidentSerializer}, summary="Declare an incident (comms)")
@api_view(["GET", "POST"])
def incident_list(request: Request) -> Response:
    """GET: your brands' incidents, newest first, each with every METRICS.md §5 figure (keyset pages).
    POST: declare an incident, with the checks and messages of the incident form."""
    if request.method == "POST":
        _require_comms(request)
        form = writes.incident_form(writes.read_body(writes.IncidentCreateBody, request), brands=_brands(request))
        try:
            incident = incident_open(author=request.user, details={"via": "api"}, **form.cleaned_data)
        except DjangoValidationError as error:
            raise writes.service_refusal(error) from None
        _audit_write(request, target=f"incident:{incident.pk}", status_code=201)
        return _incident_response(request, incident, status_code=status.HTTP_201_CREATED)
    q = read_query(IncidentQuery, request)
    incidents = Incident.objects.filter(brand__in=_brands(request)).select_related("brand")
    brand = _brand_named(request, q.get("brand"))
    if brand is not None:
        incidents = incidents.filter(brand=brand)
    if q.get("status"):
        incidents = incidents.filter(status=q["status"])
    if "ongoing" in q:
        incidents = incidents.filter(ended_at__isnull=q["ongoing"])
    if q.get("from"):
        incidents = incidents.exclude(ended_at__lte=q["from"].at)
    if q.get("to"):
        incidents = incidents.filter(started_at__lt=q["to"].at)
    rows, position = keyset_page(incidents, after=cursor_decode(q.get("cursor")), limit=q["limit"],
                                 field="started_at", descending=True)
    now = timezone.now()
    results = out.IncidentSerializer([_incident_body(request, i, now=now) for i in rows], many=True).data
    return Response(page_body(request, results, position))


@extend_schema(methods=["GET"], operation_id="incidents_retrieve",
               description="The incident, its outage window, status and every METRICS.md §5 figure, as of now.", responses=out.IncidentSerializer, summary="One incident with every figure")
@extend_schema(methods=["PATCH"], operation_id="incidents_update",
               description="Change some of the incident's fields (the others keep their value) with the incident "
                           "form's checks; a status move goes on its timeline, and resolving ends the window now "
                           "unless it has an end (METRICS.md §5). Only comms.", request=writes.IncidentUpdateBody, responses=out.IncidentSerializer,
               summary="Change an incident (comms)")
@api_view(["GET", "PATCH"])
def incident_detail(request: Request, pk: int) -> Response:
    """GET: the incident, its outage window, status and every METRICS.md §5 figure, as of now.
    PATCH: change some of its fields (the others keep their value), with the incident form's checks; a status
    move goes on its timeline, resolving ends the window now unless it has an end (METRICS.md §5)."""
    incident = _incident(request, pk)
    if request.method == "PATCH":
        _require_comms(request)
        body = writes.read_body(writes.IncidentUpdateBody, request)
        form = writes.incident_form(body, brands=_brands(request), instance=incident)
        try:
            incident_update(incident=incident, author=request.user, **form.cleaned_data)
        except DjangoValidationError as error:
            raise writes.service_refusal(error) from None
        _audit_write(request, target=f"incident:{incident.pk}", status_code=200)
        return _incident_response(request, incident)
    read_query(NoQuery, request)
    return _incident_response(request, incident)


def _event_entry(event: IncidentEvent) -> dict:
    return {"id": f"event:{event.pk}", "kind": event.kind, "at": event.at, "text": event.text,
            "status": event.status, "author": event.author.get_username() if event.author else "", "channel": "",
            "category": ""}


def _communication_entry(c: OffPlatformCommunication) -> dict:
    return {"id": f"communication:{c.pk}", "kind": "communication", "at": c.sent_at, "text": c.text, "status": "",
            "author": c.recorded_by.get_username() if c.recorded_by else "", "channel": c.channel,
            "category": c.category}


@extend_schema(methods=["GET"], operation_id="incidents_timeline_list",
               description="Notes, status changes and the off-platform communications recorded on the incident, "
                           "in the order they happened.", responses=out.TimelineEntrySerializer(many=True), summary="The incident's timeline")
@extend_schema(methods=["POST"], operation_id="incidents_timeline_create",
               description="A note and/or a status move at the time it really happened (default now, never in "
                           "the future), as on the board. Only comms.", request=writes.TimelineEntryBody, responses={201: out.TimelineEntrySerializer},
               summary="Add a note or a status change (comms)")
@api_view(["GET", "POST"])
def incident_timeline(request: Request, pk: int) -> Response:
    """GET: notes, status changes and the off-platform communications recorded on the incident, in the order they
    happened. POST: a note and/or a status move at the time it really happened (default now, never in the
    future), as on the board."""
    incident = _incident(request, pk)
    if request.method == "POST":
        _require_comms(request)
        data = writes.timeline_form(writes.read_body(writes.TimelineEntryBody, request),
                                    brand=incident.brand).cleaned_data
        try:
            if data["status"]:
                event = incident_set_status(incident=incident, status=data["status"], author=request.user,
                                            note=data["text"], at=data["at"])
            else:
                event = incident_add_note(incident=incident, author=request.user, text=data["text"], at=data["at"])
        except DjangoValidationError as error:
            raise writes.service_refusal(error) from None
        _audit_write(request, target=f"incident:{incident.pk}", status_code=201)
        return Response(out.TimelineEntrySerializer(_event_entry(event)).data, status=status.HTTP_201_CREATED)
    read_query(NoQuery, request)
    entries = [_event_entry(e) for e in incident.events.select_related("author")]
    entries += [_communication_entry(c) for c in incident.communications.select_related("recorded_by")]
    entries.sort(key=lambda entry: entry["at"])
    return Response(out.TimelineEntrySerializer(entries, many=True).data)


def _communication_body(c: OffPlatformCommunication) -> dict:
    return {"id": c.pk, "brand": c.brand, "incident_id": c.incident_id, "channel": c.channel, "sent_at": c.sent_at,
            "text": c.text, "url": c.url, "category": c.category, "outage_related": c.category in OUTAGE_RELATED,
            "recorded_by": c.recorded_by.get_username() if c.recorded_by else "", "recorded_at": c.recorded_at}


@extend_schema(methods=["GET"], operation_id="incidents_communications_list",
               description="The off-platform communications (SMS, e-mail, video…, METRICS.md §1) recorded on the "
                           "incident.", responses=out.CommunicationSerializer(many=True), summary="Off-platform communications")
@extend_schema(methods=["POST"], operation_id="incidents_communications_create",
               description="Record one with the time it was really sent, as the board's form does; without a "
                           "category the category rules read the text. Only comms.", request=writes.CommunicationBody, responses={201: out.CommunicationSerializer},
               summary="Record an off-platform communication (comms)")
@api_view(["GET", "POST"])
def incident_communications(request: Request, pk: int) -> Response:
    """GET: the off-platform communications (SMS, e-mail, video…, METRICS.md §1) recorded on the incident.
    POST: record one, with the time it was really sent, as the board's form does; without a category the
    category rules read the text."""
    incident = _incident(request, pk)
    if request.method == "POST":
        _require_comms(request)
        data = writes.communication_form(writes.read_body(writes.CommunicationBody, request),
                                         brand=incident.brand).cleaned_data
        try:
            communication = communication_record(incident=incident, author=request.user, **data)
        except DjangoValidationError as error:
            raise writes.service_refusal(error) from None
        _audit_write(request, target=f"incident:{incident.pk}", status_code=201)
        communication = OffPlatformCommunication.objects.select_related("brand", "recorded_by").get(
            pk=communication.pk)
        return Response(out.CommunicationSerializer(_communication_body(communication)).data,
                        status=status.HTTP_201_CREATED)
    read_query(NoQuery, request)
    rows = incident.communications.select_related("brand", "recorded_by").order_by("sent_at", "id")
    return Response(out.CommunicationSerializer([_communication_body(c) for c in rows], many=True).data)


@extend_schema(operation_id="incidents_unanswered_list", parameters=[PageQuery],
               responses=out.UnansweredPage, summary="The unanswered queue")
@api_view(["GET"])
def incident_unanswered(request: Request, pk: int) -> Response:
    """The incident window's unanswered mentions, oldest first (the board's queue, METRICS.md §3), in keyset
    pages: a mention answered while you page simply leaves the queue."""
    incident = _incident(request, pk)
    q = read_query(PageQuery, request)
    now = timezone.now()
    rows, position = keyset_page(board.unanswered_mentions(incident=incident, now=now),
                                 after=cursor_decode(q.get("cursor")), limit=q["limit"])
    for mention in rows:
        mention.waiting_s = (now - mention.created_at).total_seconds()
    return Response(page_body(request, out.UnansweredSerializer(rows, many=True).data, position))


# --- Mentions and official posts (the exports' selections) -----------------------------------------------------

# Each list item's field and the column it is read from (the serializers in serializers.py describe them).
MENTION_FIELDS = (
    ("id", "id"), ("brand", "brand__slug"), ("platform", "post__platform"), ("post_id", "post__platform_id"),
    ("url", "post__url"), ("author_id", "post__author_id"), ("author_handle", "post__author_handle"),
    ("created_at", "created_at"), ("text", "post__text"), ("lang", "post__lang"), ("matched_by", "matched_by"),
    ("sentiment_score", "post__sentiment_score"), ("sentiment_label", "post__sentiment_label"),
    ("complaint", "complaint"), ("answered", "answered"), ("first_response_post_id", "first_response__platform_id"),
    ("first_response_at", "first_response_at"), ("frt_s", "frt_seconds"),
)
MENTION_VALUES = tuple(source for _name, source in MENTION_FIELDS) + ("brand_id",)
POST_FIELDS = (
    ("id", "id"), ("brand", "official_brand__slug"), ("platform", "platform"), ("post_id", "platform_id"),
    ("url", "url"), ("author_handle", "author_handle"), ("created_at", "created_at"), ("text", "text"),
    ("lang", "lang"), ("official_kind", "official_kind"), ("category", "category"),
    ("in_reply_to_id", "in_reply_to_id"), ("conversation_id", "conversation_id"),
)
POST_VALUES = tuple(source for _name, source in POST_FIELDS) + ("official_brand_id",)


def _export_filters(request: Request, q: dict) -> exports.ExportFilters:
    brand = _brand_named(request, q.get("brand"))
    start, end = q.get("from"), q.get("to")
    return exports.ExportFilters(brand=brand.slug if brand else "", start=start.at if start else None,
                                 end=end.at if end else None, incident=q.get("incident"),
                                 platform=q.get("platform", ""))


def _audit_bulk(request: Request, *, kind: str, filters: exports.ExportFilters, cursor) -> None:
    # The first page stands for the list, as one export does: a script paging through writes one entry.
    if cursor is None:
        AuditEntry.objects.create(user=request.user, action="export", target=f"api:{kind}",
                                  details={"kind": kind, "via": _caller(request), **filters.as_audit()})


def _selected(select, request: Request, filters: exports.ExportFilters, now: dt.datetime):
    try:
        return select(brands=_brands(request), filters=filters, now=now)
    except exports.ExportError as error:
        raise field_error("incident", str(error)) from None


@extend_schema(operation_id="mentions_list", parameters=[MentionQuery], responses=out.MentionPage,
               summary="Mentions (analysts)")
@api_view(["GET"])
def mention_list(request: Request) -> Response:
    """Mentions of your brands, oldest first, with their first response and tone: the rows of the mentions
    export, with the same filters. Analysts and administrators, as for exports."""
    q = read_query(MentionQuery, request)
    _require_export(request)
    filters = _export_filters(request, q)
    now = timezone.now()
    after = cursor_decode(q.get("cursor"))
    mentions = _selected(exports.mentions_selected, request, filters, now)
    if "answered" in q:
        mentions = mentions.filter(answered=q["answered"])
    if "complaint" in q:
        mentions = mentions.filter(complaint=q["complaint"])
    rows, position = keyset_page(mentions.values(*MENTION_VALUES), after=after, limit=q["limit"])
    at = exports.incident_at(brands=list(_brands(request)), now=now)
    # Built as plain dicts rather than through MentionSerializer (which describes them in the OpenAPI document):
    # a page of a thousand mentions serialises several times faster, and the fuzzer holds the two to each other.
    results = [{name: row[source] for name, source in MENTION_FIELDS} | {
        "incident": at(row["brand_id"], row["created_at"])} for row in rows]
    _audit_bulk(request, kind="mentions", filters=filters, cursor=after)
    return Response(page_body(request, results, position))


@extend_schema(operation_id="official_posts_list", parameters=[OfficialPostQuery], responses=out.OfficialPostPage,
               summary="Official posts (analysts)")
@api_view(["GET"])
def official_post_list(request: Request) -> Response:
    """Your brands' official posts (replies and broadcasts), oldest first, with their METRICS.md §6 category and
    §5 off-message flag: the official-posts export's posts, with the same filters (its off-platform
    communications are under each incident). Analysts and administrators, as for exports."""
    q = read_query(OfficialPostQuery, request)
    _require_export(request)
    filters = _export_filters(request, q)
    now = timezone.now()
    after = cursor_decode(q.get("cursor"))
    posts = _selected(exports.official_posts_selected, request, filters, now)
    if q.get("kind"):
        posts = posts.filter(official_kind=q["kind"])
    if q.get("category"):
        posts = posts.filter(category=q["category"])
    rows, position = keyset_page(posts.values(*POST_VALUES), after=after, limit=q["limit"])
    at = exports.incident_at(brands=list(_brands(request)), now=now)
    results = []
    for row in rows:
        incident = at(row["official_brand_id"], row["created_at"])
        results.append({name: row[source] for name, source in POST_FIELDS} | {
            "incident": incident, "outage_related": row["category"] in OUTAGE_RELATED,
            # METRICS.md §5: a promotional broadcast inside an outage window is off-message.
            "off_message": row["official_kind"] == "broadcast" and row["category"] == "promotional"
            and incident is not None})
    _audit_bulk(request, kind="official-posts", filters=filters, cursor=after)
    return Response(page_body(request, results, position))


# --- Weekly figures and the league table -----------------------------------------------------------------------

def brand_week_body(bw: reports.BrandWeek) -> dict:
    return {"brand": bw.brand, "week": bw.week, "zone": bw.zone, "week_start_local": bw.start_local.isoformat(),
            "week_end_local": bw.end_local.isoformat(), "as_of": bw.as_of, "so_far": bw.so_far,
            "mentions": bw.mentions, "answered": bw.answered, "unanswered": bw.unanswered,
            "reply_rate": bw.reply_rate, "answered_within_target": bw.answered_within_target,
            "target_s": bw.target_s, **{name: getattr(bw, name) for name in BUSINESS},
            "median_frt_s": bw.median_frt_s, "p90_frt_s": bw.p90_frt_s, "km_median_s": bw.km_median_s,
            "km_not_reached_over_s": bw.km_not_reached_over_s, "complaints": bw.complaints,
            "net_sentiment": bw.net_sentiment, "incidents": [i.incident.pk for i in bw.incidents]}


@extend_schema(operation_id="brand_weeks_list", parameters=[BrandWeekQuery], responses=out.BrandWeeksSerializer,
               summary="Weekly figures per brand")
@api_view(["GET"])
def brand_week_list(request: Request) -> Response:
    """One row per brand and ISO week in the brand's time zone (METRICS.md §4, §6), the rows of the brand-weeks
    export and of the brand page: what a BI tool charts week by week. Each week is as of its end (the current
    week so far, as of now). At most 104 weeks at a time."""
    q = read_query(BrandWeekQuery, request)
    brand = _brand_named(request, q.get("brand"))
    brands = [brand] if brand else list(_brands(request).order_by("slug"))
    now = timezone.now()
    results = []
    for b in brands:
        first, last = exports.brand_week_span(brand=b, filters=exports.ExportFilters(), now=now)
        last = q.get("to") or (last if not q.get("from") else max(last, q["from"]))
        first = q.get("from") or reports.week_shift(last, -(reports.TREND_WEEKS - 1))
        if reports.week_monday(first) > reports.week_monday(last):
            raise field_error("from", _("“from” (%(first)s) must not come after “to” (%(last)s).")
                              % {"first": first, "last": last})
        if (reports.week_monday(last) - reports.week_monday(first)).days // 7 + 1 > reports.MAX_RANGE_WEEKS:
            raise field_error("from", _("At most %(n)d weeks at a time: narrow “from” and “to”.")
                              % {"n": reports.MAX_RANGE_WEEKS})
        results += [brand_week_body(bw) for bw in reports.brand_history(brand=b, first=first, last=last, as_of=now)]
    return Response({"results": out.BrandWeekSerializer(results, many=True).data})


def _zone_choices(brands: list[Brand]) -> list[str]:
    return sorted({b.time_zone for b in brands} | {"UTC"})


@extend_schema(operation_id="league_retrieve", parameters=[LeagueQuery], responses=out.LeagueSerializer,
               summary="The league table of one week")
@api_view(["GET"])
def league(request: Request) -> Response:
    """The weekly page's league table: every brand's figures over one ISO week in one time zone, the change
    against the week before, sorted by any column."""
    q = read_query(LeagueQuery, request)
    brands = list(_brands(request))
    zones = _zone_choices(brands)
    zone_name = q.get("tz") or (brands[0].time_zone if brands else "UTC")
    if zone_name not in zones:
        raise field_error("tz", _("%(zone)r is not one of your brands' time zones: choose one of %(zones)s.")
                          % {"zone": zone_name[:64], "zones": ", ".join(zones)})
    zone = zoneinfo.ZoneInfo(zone_name)
    week = q.get("week") or reports.last_complete_week(zone=zone)
    now = timezone.now()
    rows, sort = reports.league_sort(reports.weekly_summary(brands=brands, week=week, zone=zone, as_of=now),
                                     sort=q["sort"])
    start, end = reports.week_bounds(week=week, zone=zone)
    as_of = reports.week_as_of(end=end, now=now)
    body = {"week": week, "time_zone": zone.key, "week_start_local": start.astimezone(zone).isoformat(),
            "week_end_local": end.astimezone(zone).isoformat(), "as_of": as_of, "so_far": as_of < end, "sort": sort,
            "rows": [{"brand": row.brand.slug, "name": row.brand.name, "week": brand_week_body(row.current),
                      "changes": {name: row.change(name) for name in reports.COMPARABLE}} for row in rows]}
    return Response(out.LeagueSerializer(body).data)



@extend_schema(exclude=True)
@api_view(["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"])
def not_found(request: Request) -> Response:
    """Any other address under /api/v1/: a JSON 404 like every refusal of the API, not a web page."""
    raise exceptions.NotFound(_("There is no such API route: see /api/v1/ for the routes."))
