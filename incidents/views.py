"""Pages and JSON endpoints of the incidents app. Plain functions; figures come from
incidents.board, incidents.figures and incidents.spikes.

Every view reads brands through incidents.roles.brands_visible_to: another team's incident is a 404, never a 403,
so its existence is not disclosed.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from socialfeed.selectors import sources_coverage

from . import board as live_board
from . import figures, spikes
from .forms import CommunicationForm, IncidentEventForm, IncidentForm
from .models import Incident
from .roles import brands_visible_to, can_manage_incidents, role_of
from .services import communication_record, incident_add_note, incident_open, incident_set_status, incident_update

PAGE_SIZE = 20
logger = logging.getLogger(__name__)


def _incident_for(request: HttpRequest, pk: int) -> Incident:
    return get_object_or_404(
        Incident.objects.select_related("brand"), pk=pk, brand__in=brands_visible_to(request.user)
    )


def _require_comms(request: HttpRequest) -> None:
    if not can_manage_incidents(request.user):
        raise PermissionDenied(_("Only the comms team can change incidents."))


def warn_of_overlaps(request: HttpRequest, incident: Incident) -> None:
    """Overlapping incidents of one brand are allowed (two outages can run at once), but never silently."""
    for other in figures.overlapping_incidents(incident):
        messages.warning(request, _(
            "This incident's window overlaps “%(title)s” (#%(pk)d) of the same brand. Each incident counts every "
            "mention and official communication inside its own window, so those in the overlap count in both."
        ) % {"title": other.title, "pk": other.pk})


def _form_errors(request: HttpRequest, form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The incidents list: ongoing first, then past incidents paginated; filters by brand, status and date."""
    brands = brands_visible_to(request.user)
    incidents = Incident.objects.filter(brand__in=brands).select_related("brand")
    brand_slug, status, day = request.GET.get("brand", ""), request.GET.get("status", ""), request.GET.get("date", "")
    if brand_slug:
        incidents = incidents.filter(brand__slug=brand_slug)
    if status in Incident.Status.values:
        incidents = incidents.filter(status=status)
    try:
        on_day = dt.date.fromisoformat(day) if day else None
    except ValueError:
        on_day = None
    if on_day:
        # Incidents whose window touches that day (UTC; the list shows each brand's own zone).
        day_start = dt.datetime.combine(on_day, dt.time(), dt.UTC)
        incidents = incidents.filter(started_at__lt=day_start + dt.timedelta(days=1)).exclude(
            ended_at__lt=day_start)
    now = timezone.now()
    ongoing = [(i, figures.incident_summary(incident=i, now=now))
               for i in incidents.filter(ended_at__isnull=True).order_by("-started_at")]
    page = Paginator(incidents.filter(ended_at__isnull=False).order_by("-started_at"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    past = [(i, figures.incident_summary(incident=i, now=now)) for i in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "incidents/home.html", {
        "brands": brands, "ongoing": ongoing, "past": past, "page": page, "query": query.urlencode(),
        "filters": {"brand": brand_slug, "status": status, "date": day},
        "statuses": Incident.Status.choices, "role": role_of(request.user),
        "can_manage": can_manage_incidents(request.user),
        "suggestions": spikes.suggested_incidents(brands=brands, now=now),
    })


@login_required
@require_POST
def suggestion_confirm(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """Open the incident a complaint spike suggests (METRICS.md §7), starting at the detected start."""
    _require_comms(request)
    brand = get_object_or_404(brands_visible_to(request.user), slug=brand_slug)
    found = [s for s in spikes.suggested_incidents(brands=[brand]) if s.brand.pk == brand.pk]
    if not found:
        messages.info(request, _("That spike is already covered by an incident."))
        return redirect("incidents:home")
    incident = incident_open(brand=brand, title=_("Complaint spike"), started_at=found[0].detected_start,
                             severity=Incident.Severity.MAJOR, status=Incident.Status.INVESTIGATING,
                             author=request.user, details={"from": "suggestion", "ratio": round(found[0].ratio, 2)})
    return redirect("incidents:board", pk=incident.pk)


@login_required
def incident_new(request: HttpRequest) -> HttpResponse:
    _require_comms(request)
    form = IncidentForm(request.POST or None, brands=brands_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        incident = incident_open(author=request.user, **form.cleaned_data)
        warn_of_overlaps(request, incident)
        return redirect("incidents:board", pk=incident.pk)
    return render(request, "incidents/incident_form.html", {"form": form, "incident": None})


@login_required
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident_for(request, pk)
    _require_comms(request)
    # The form edits a copy: on invalid input the page still names the incident as it is stored.
    form = IncidentForm(request.POST or None, instance=Incident.objects.get(pk=incident.pk),
                        brands=brands_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        incident_update(incident=incident, author=request.user, **form.cleaned_data)
        warn_of_overlaps(request, incident)
        return redirect("incidents:board", pk=incident.pk)
    return render(request, "incidents/incident_form.html", {"form": form, "incident": incident})


def _timeline(incident: Incident) -> list[dict]:
    """The incident's own timeline (notes and status changes) and the brand's off-platform communications
    recorded on it, in the order they happened."""
    entries = [{"at": e.at, "kind": e.kind, "event": e} for e in incident.events.select_related("author")]
    entries += [{"at": c.sent_at, "kind": "communication", "communication": c}
                for c in incident.communications.select_related("recorded_by")]
    return sorted(entries, key=lambda entry: entry["at"])


@login_required
@require_GET
def board(request: HttpRequest, pk: int) -> HttpResponse:
    """The live board. The page is a frame: tiles, queue and charts fill from the JSON endpoints below."""
    incident = _incident_for(request, pk)
    now = timezone.now()
    zone = incident.brand.zone
    coverage = sources_coverage(sources=incident.brand.sources.filter(enabled=True).order_by("name"),
                                lost_since=incident.started_at - figures.PHASE)
    return render(request, "incidents/board.html", {
        "incident": incident,
        "tiles": live_board.board_tiles(incident=incident, now=now),
        "queue": live_board.unanswered_queue(incident=incident, now=now),
        "tone_tiers": live_board.tone_tiers(incident=incident, now=now),
        "timeline": _timeline(incident),
        "overlaps": figures.overlapping_incidents(incident),
        "zone": incident.brand.time_zone,
        "can_manage": can_manage_incidents(request.user),
        "event_form": IncidentEventForm(zone=zone),
        "communication_form": CommunicationForm(zone=zone, initial={
            "sent_at": now.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)}),
        # How completely each of the brand's sources has been read: complete up to, open gaps, lost stretches.
        "coverage": coverage,
        "coverage_attention": any(c.open_gap or c.lost for c in coverage),
    })


@login_required
@require_POST
def board_event(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a note to the incident's timeline and/or move its status, at the time it really happened."""
    incident = _incident_for(request, pk)
    _require_comms(request)
    form = IncidentEventForm(request.POST, zone=incident.brand.zone)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("incidents:board", pk=incident.pk)
    data = form.cleaned_data
    try:
        if data["status"]:
            event = incident_set_status(incident=incident, status=data["status"], author=request.user,
                                        note=data["text"], at=data["at"])
            incident.refresh_from_db()
            if incident.status != data["status"]:
                messages.info(request, _("Recorded at its time; the status stays “%(status)s”, the later change.")
                              % {"status": incident.get_status_display()})
            elif event.status == Incident.Status.RESOLVED and incident.ended_at == event.at:
                messages.success(request, _("Resolved: the outage window ends at that time."))
        else:
            incident_add_note(incident=incident, author=request.user, text=data["text"], at=data["at"])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("incidents:board", pk=incident.pk)


@login_required
@require_POST
def board_communication(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an off-platform communication (SMS, e-mail, video…) of the incident's brand (METRICS.md §1)."""
    incident = _incident_for(request, pk)
    _require_comms(request)
    form = CommunicationForm(request.POST, zone=incident.brand.zone)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(f"{_board_url(incident)}#communication-h")
    try:
        communication = communication_record(incident=incident, author=request.user, **form.cleaned_data)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            label = form.fields[field].label if field in form.fields else ""
            for message in errors:
                messages.error(request, f"{label}: {message}" if label else message)
    else:
        messages.success(request, _("%(channel)s recorded as %(category)s.") % {
            "channel": communication.get_channel_display(), "category": communication.get_category_display()})
    return redirect(f"{_board_url(incident)}#timeline-h")


def _board_url(incident: Incident) -> str:
    from django.urls import reverse

    return reverse("incidents:board", kwargs={"pk": incident.pk})


def _json(payload: dict) -> JsonResponse:
    response = JsonResponse(payload)
    response["Cache-Control"] = "no-store"
    return response


def _shared_for_a_moment(key: str, build):
    """The board's JSON, computed once per ``BOARD_SHARED_SECONDS`` for everyone watching the same incident.

    During an outage a whole comms team (and managers) keep the board open, each tab polling every 5 s; without
    this each poll recomputes the same figures. Access is checked before this is called, and the key holds the
    incident, the endpoint and the language the tiles are worded in, so nobody sees a payload they could not
    have computed. If the cache (Redis) is down, the figures are computed from the database as usual.
    """
    seconds = settings.BOARD_SHARED_SECONDS
    if seconds <= 0:
        return build()
    key = f"hotline:board:{key}:{translation.get_language()}"
    try:
        payload = cache.get(key)
    except Exception:  # noqa: BLE001 - a dead cache must not take the board down
        logger.warning("board cache unreachable; computing %s from the database", key)
        return build()
    if payload is None:
        payload = build()
        try:
            cache.set(key, payload, seconds)
        except Exception:  # noqa: BLE001
            logger.warning("board cache unreachable; %s not shared", key)
    return payload


@login_required
@require_GET
def board_live(request: HttpRequest, pk: int) -> JsonResponse:
    """Tiles and unanswered queue, worded server-side, with the server time they are true at."""
    incident = _incident_for(request, pk)

    def build() -> dict:
        now = timezone.now()
        return {
            "as_of": now.isoformat(),
            "tiles": live_board.board_tiles(incident=incident, now=now),
            "queue": live_board.unanswered_queue(incident=incident, now=now),
            "status": incident.get_status_display(),
        }

    return _json(_shared_for_a_moment(f"{incident.pk}:live", build))


_CHARTS = {
    "volume": live_board.chart_volume,
    "frt": live_board.chart_frt,
    "tone": live_board.chart_tone,
    "official": live_board.chart_official,
}


@login_required
@require_GET
def board_chart(request: HttpRequest, pk: int, chart: str) -> JsonResponse:
    """One chart's Chart.js-shaped {labels, datasets}."""
    incident = _incident_for(request, pk)
    builder = _CHARTS.get(chart)
    if builder is None:
        return JsonResponse({"error": "unknown chart"}, status=404)
    return _json(_shared_for_a_moment(f"{incident.pk}:chart:{chart}",
                                      lambda: builder(incident=incident, now=timezone.now())))
