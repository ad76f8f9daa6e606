"""Pages and JSON endpoints of the incidents app. Plain functions; figures come from
incidents.board, incidents.queue, incidents.figures and incidents.spikes.

Every view reads brands through incidents.roles.brands_visible_to: another team's incident is a 404, never a 403,
so its existence is not disclosed.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from socialfeed.selectors import sources_coverage

from . import board as live_board
from . import date_inputs, figures, queue, spikes
from .forms import CommunicationForm, IncidentEventForm, IncidentForm
from .live_updates import bump_generation, generation, live_response
from .models import Incident, MentionHandling, Platform
from .refusals import bad_input
from .roles import brands_visible_to, can_manage_incidents, role_of
from .services import (
    communication_record,
    incident_add_note,
    incident_open,
    incident_set_status,
    incident_update,
    mentions_assign,
    mentions_mark_handled,
    mentions_put_back,
)

PAGE_SIZE = 20
logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    """Django's login page; while ``make demo`` serves (never in production) it lists the demo logins and roles."""

    def get_context_data(self, **kwargs):
        from .demo import DEMO_PASSWORD, demo_logins

        context = super().get_context_data(**kwargs)
        roles = {"admin": _("administrator: every page, the admin site and exports"),
                 "comms": _("comms: declares and updates incidents"),
                 "manager": _("manager: reads every page of the team's brands"),
                 "analyst": _("analyst: reads and exports CSV")}
        logins = demo_logins()
        context["demo_logins"] = [(username, roles[role]) for username, role in logins]
        context["demo_password"] = DEMO_PASSWORD if logins else ""
        return context


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
    # A filter that cannot be used says so: an unknown brand or status would otherwise show an empty list.
    if brand_slug and not brands.filter(slug=brand_slug).exists():
        return bad_input(request, _("There is no brand %(slug)s among your brands.") % {"slug": date_inputs.quoted(brand_slug)})
    if status and status not in Incident.Status.values:
        return bad_input(request, _("status %(value)s is not one of %(choices)s.") % {
            "value": date_inputs.quoted(status), "choices": ", ".join(Incident.Status.values)})
    try:
        on_day = date_inputs.parse_day(day, field="date") if day else None
    except date_inputs.DateInputError as error:
        return bad_input(request, str(error))
    if brand_slug:
        incidents = incidents.filter(brand__slug=brand_slug)
    if status:
        incidents = incidents.filter(status=status)
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


def _queue_context(request: HttpRequest, incident: Incident, now) -> dict:
    filters, errors = queue.queue_filters(request.GET)
    page = queue.queue_page(incident=incident, filters=filters, now=now, user_id=request.user.pk)
    return {"queue": page, "queue_filters": filters, "queue_errors": errors, "queue_states": queue.state_choices()}


@login_required
@require_GET
def board(request: HttpRequest, pk: int) -> HttpResponse:
    """The live board. The page arrives with its tiles and queue; charts and refreshes come from the JSON
    endpoints below, each sending only what changed (incidents.live_updates)."""
    incident = _incident_for(request, pk)
    now = timezone.now()
    zone = incident.brand.zone
    coverage = sources_coverage(sources=incident.brand.sources.filter(enabled=True).order_by("name"),
                                lost_since=incident.started_at - figures.PHASE)
    brand_languages = [code for code in incident.brand.languages if isinstance(code, str)]
    return render(request, "incidents/board.html", {
        "incident": incident,
        "tiles": live_board.board_tiles(incident=incident, now=now),
        **_queue_context(request, incident, now),
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
        "members": queue.team_members(incident),
        "reasons": MentionHandling.Reason.choices,
        "languages": brand_languages,
        "platforms": Platform.choices,
        "charts": _CHART_FIGURES,
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
    return reverse("incidents:board", kwargs={"pk": incident.pk})


@login_required
@require_GET
def board_live(request: HttpRequest, pk: int) -> HttpResponse:
    """Tiles, status, the shared time axis and the marks every chart draws, with the server time they are
    true at; a 304 or a patch when the page already holds an earlier version."""
    incident = _incident_for(request, pk)

    def build() -> dict:
        now = timezone.now()
        return {
            "as_of": now.isoformat(),
            "tiles": live_board.board_tiles(incident=incident, now=now),
            "status": incident.get_status_display(),
            "axis": live_board.board_axis(incident=incident, now=now),
            "marks": live_board.board_marks(incident=incident, now=now),
        }

    return live_response(request, f"{incident.pk}:live", build)


_CHARTS = {
    "volume": live_board.chart_volume,
    "frt": live_board.chart_frt,
    "within": live_board.chart_within,
    "tone": live_board.chart_tone,
    "official": live_board.chart_official,
}
# The board's charts in page order: (name, caption, description for screen readers).
_CHART_FIGURES = [
    ("volume", gettext_lazy("Mentions and complaints"),
     gettext_lazy("Mentions and complaints per bucket before, during and after the outage window")),
    ("frt", gettext_lazy("First response time"),
     gettext_lazy("Median and p90 first response time of the mentions of each bucket, with the target")),
    ("within", gettext_lazy("Answered within the target"),
     gettext_lazy("Share of each bucket's mentions answered within the first-response target")),
    ("tone", gettext_lazy("Customers’ net sentiment"),
     gettext_lazy("Net sentiment of customers’ mentions per bucket")),
    ("official", gettext_lazy("Official posts and off-platform communications by category"),
     gettext_lazy("Official replies, broadcasts and off-platform communications per bucket, stacked by category")),
]


@login_required
@require_GET
def board_chart(request: HttpRequest, pk: int, chart: str) -> HttpResponse:
    """One chart's series on the board's shared axis; a 304 or a patch when the page holds an earlier one."""
    incident = _incident_for(request, pk)
    builder = _CHARTS.get(chart)
    if builder is None:
        return JsonResponse({"error": _("Unknown chart “%(chart)s”.") % {"chart": chart[:40]}}, status=404)
    return live_response(request, f"{incident.pk}:chart:{chart}",
                         lambda: builder(incident=incident, now=timezone.now()))


@login_required
@require_GET
def board_queue(request: HttpRequest, pk: int) -> HttpResponse:
    """One page of the unanswered queue with its counts, for the filters in the query."""
    incident = _incident_for(request, pk)
    filters, errors = queue.queue_filters(request.GET)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    user_id = request.user.pk
    key = (f"{incident.pk}:queue:{generation(f'queue:{incident.pk}')}:{user_id}:"
           f"{urlencode(sorted(filters.query().items()))}")
    return live_response(request, key, lambda: queue.queue_page(incident=incident, filters=filters,
                                                                 now=timezone.now(), user_id=user_id))


@login_required
@require_GET
def board_bucket(request: HttpRequest, pk: int) -> JsonResponse:
    """The posts of one bucket of the board's axis (``?at=`` milliseconds since the epoch), for a click on a chart."""
    incident = _incident_for(request, pk)
    raw = request.GET.get("at", "")
    try:
        at = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=int(raw))
        payload = live_board.bucket_posts(incident=incident, at=at)
    except (ValueError, OverflowError):
        return JsonResponse({"error": _("“at” must be a time on the board's axis, in milliseconds since 1970 "
                                        "(got “%(value)s”).") % {"value": raw[:40]}}, status=400)
    response = JsonResponse(payload)
    response["Cache-Control"] = "no-store"
    return response


_QUEUE_ACTIONS = ("handle", "put_back", "assign", "unassign")


def _queue_action_error(request: HttpRequest, incident: Incident, message: str, back: str) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": message}, status=400)
    messages.error(request, message)
    return redirect(f"{reverse('incidents:board', args=[incident.pk])}{back}#queue")


@login_required
@require_POST
def queue_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the chosen queued mentions handled without a reply, put them back, or (un)assign them."""
    incident = _incident_for(request, pk)
    _require_comms(request)
    filters, _errors = queue.queue_filters(QueryDict(request.POST.get("query", "")))
    back = f"?{urlencode(filters.query())}" if filters.query() else ""
    action = request.POST.get("action", "")
    if action not in _QUEUE_ACTIONS:
        return _queue_action_error(request, incident, _("Choose what to do with the selected mentions."), back)
    raw_ids = request.POST.getlist("mention")
    bad = [value for value in raw_ids if not value.isdigit() or len(value) > 18]
    if bad:
        return _queue_action_error(request, incident, _("“%(value)s” is not a mention of this queue.") % {
            "value": bad[0][:40]}, back)
    if not raw_ids:
        return _queue_action_error(request, incident, _("Select at least one mention first."), back)
    try:
        if action == "handle":
            reason = request.POST.get("reason", "")
            if reason not in MentionHandling.Reason.values:
                return _queue_action_error(request, incident, _("Choose why the mentions need no reply."), back)
            changed = mentions_mark_handled(incident=incident, mention_ids=raw_ids, reason=reason, user=request.user)
            message = ngettext("%(n)d mention marked handled without a reply (%(reason)s).",
                               "%(n)d mentions marked handled without a reply (%(reason)s).", changed) % {
                "n": changed, "reason": MentionHandling.Reason(reason).label}
        elif action == "put_back":
            changed = mentions_put_back(incident=incident, mention_ids=raw_ids, user=request.user)
            message = ngettext("%(n)d mention back in the queue.", "%(n)d mentions back in the queue.",
                               changed) % {"n": changed}
        else:
            assignee = None
            if action == "assign":
                raw = request.POST.get("assignee", "")
                assignee = queue.team_members(incident).filter(pk=int(raw)).first() if raw.isdigit() else None
                if assignee is None:
                    return _queue_action_error(request, incident, _("Choose a member of the brand's teams."), back)
            changed = mentions_assign(incident=incident, mention_ids=raw_ids, assignee=assignee, user=request.user)
            message = (ngettext("%(n)d mention assigned to %(name)s.", "%(n)d mentions assigned to %(name)s.",
                                changed) % {"n": changed, "name": assignee.get_username()} if assignee else
                       ngettext("%(n)d mention unassigned.", "%(n)d mentions unassigned.", changed) % {"n": changed})
    except ValueError as error:
        return _queue_action_error(request, incident, str(error), back)
    if changed:
        bump_generation(f"queue:{incident.pk}")  # everyone's next queue read shows it, not a shared older one
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"changed": changed, "message": message})
    messages.success(request, message)
    return redirect(f"{reverse('incidents:board', args=[incident.pk])}{back}#queue")
