"""Pages where a comms team sets up alerting: a brand's targets and business hours, a team's alert channels, and a
brand's alert log. Plain functions over incidents.targets, incidents.business_hours, incidents.alert_channels and
incidents.alerts.

Brands come from incidents.roles.brands_visible_to and teams from the user's memberships: another team's brand or
team is a 404. Everyone who sees a brand reads its settings and alert log; comms users (and administrators)
change them.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import alert_channels, business_hours, spikes, targets
from .forms import AlertChannelForm, BrandSettingsForm
from .models import AlertChannel, Team, Weekday
from .roles import brands_visible_to, can_manage_brand_settings, can_manage_incidents

ALERTS_PER_PAGE = 25


def _require_settings_rights(request: HttpRequest) -> None:
    if not can_manage_brand_settings(request.user):
        raise PermissionDenied(_("Only the comms team can change targets, business hours and alert channels."))


def _teams_of(user):
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(members=user)


@login_required
@require_http_methods(["GET", "POST"])
def brand_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """A brand's METRICS.md §8 targets and §4 business hours; saved all together or not at all."""
    brand = get_object_or_404(brands_visible_to(request.user), slug=slug)
    can_edit = can_manage_brand_settings(request.user)
    initial = targets.targets_form_initial(brand)
    ranges = business_hours.weekly_ranges(brand)
    initial.update({f"hours_{day}": business_hours.ranges_text(r) for day, r in ranges.items()})
    initial["holidays"] = business_hours.holidays_text(brand)
    form = BrandSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        _require_settings_rights(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    targets.brand_targets_save(brand=brand, author=request.user, values={
                        name: data[name] for name in targets.FIELDS})
                    business_hours.business_hours_save(brand=brand, ranges=data["ranges"],
                                                       holidays=data["holiday_days"], author=request.user)
            except ValidationError as error:  # a check the form did not make (another writer raced us)
                for message in targets.validation_messages(error, {n: str(form.fields[n].label) for n in form.fields}):
                    messages.error(request, message)
            else:
                messages.success(request, _("Targets and business hours of %(brand)s are saved.")
                                 % {"brand": brand.name})
                return redirect("incidents:brand_settings", slug=brand.slug)
        else:
            for message in form.messages():
                messages.error(request, message)
    return render(request, "incidents/brand_settings.html", {
        "brand": brand, "form": form, "can_edit": can_edit, "targets": targets.brand_targets(brand),
        "defaults": targets.Targets(), "weekdays": Weekday,
    })


@login_required
@require_GET
def alert_log(request: HttpRequest, slug: str) -> HttpResponse:
    """Every alert of one brand, newest first: raised, cleared, and to which channels it was delivered."""
    from .alerts import alert_summary, brand_alert_log

    brand = get_object_or_404(brands_visible_to(request.user), slug=slug)
    page = Paginator(brand_alert_log(brand=brand), ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"alert": alert, "summary": alert_summary(alert, state="raised"),
             "deliveries": list(alert.deliveries.all())} for alert in page.object_list]
    channels = AlertChannel.objects.filter(team__brands=brand).distinct().select_related("team")
    return render(request, "incidents/alert_log.html", {
        "brand": brand, "rows": rows, "page": page, "channels": channels, "zone": brand.time_zone,
        "open_count": brand.alerts.filter(cleared_at__isnull=True).count(),
    })


@login_required
@require_GET
def teams(request: HttpRequest) -> HttpResponse:
    """The user's teams; with one team, straight to its settings."""
    mine = list(_teams_of(request.user).prefetch_related("brands", "alert_channels"))
    if len(mine) == 1:
        return redirect("incidents:team_settings", team_id=mine[0].pk)
    return render(request, "incidents/teams.html", {"teams": mine})


@login_required
@require_http_methods(["GET", "POST"])
def team_settings(request: HttpRequest, team_id: int) -> HttpResponse:
    """A team's alert channels: what each is, whether it is failing, and a form to add one."""
    team = get_object_or_404(_teams_of(request.user), pk=team_id)
    form = AlertChannelForm(request.POST or None, team=team, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST":
        _require_settings_rights(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                channel = alert_channels.alert_channel_add(team=team, kind=data["kind"], target=data["target"],
                                                           secret=data["secret"], language=data["language"],
                                                           author=request.user)
            except ValidationError as error:
                for message in targets.validation_messages(error, {n: str(form.fields[n].label) for n in form.fields}):
                    messages.error(request, message)
            else:
                messages.success(request, _("Alerts of %(team)s now also go to %(channel)s.")
                                 % {"team": team.name, "channel": channel})
                if channel.kind == AlertChannel.Kind.WEBHOOK and not data["secret"]:
                    messages.warning(request, _("The signing secret of this webhook is %(secret)s — copy it into "
                                                "your receiver now: it is not shown in full again.")
                                     % {"secret": channel.secret})
                return redirect("incidents:team_settings", team_id=team.pk)
        else:
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                for error in errors:
                    messages.error(request, f"{label}: {error}" if label else error)
    return render(request, "incidents/team_settings.html", {
        "team": team, "form": form, "can_edit": can_manage_brand_settings(request.user),
        "channels": team.alert_channels.all(), "brands": team.brands.all(),
        "masked": {c.pk: alert_channels.masked_secret(c.secret) for c in team.alert_channels.all()},
    })


@login_required
@require_POST
def channel_remove(request: HttpRequest, team_id: int, channel_id: int) -> HttpResponse:
    team = get_object_or_404(_teams_of(request.user), pk=team_id)
    channel = get_object_or_404(AlertChannel, pk=channel_id, team=team)
    _require_settings_rights(request)
    alert_channels.alert_channel_remove(channel=channel, author=request.user)
    messages.success(request, _("%(channel)s no longer receives alerts.") % {"channel": channel})
    return redirect("incidents:team_settings", team_id=team.pk)


@login_required
@require_GET
def suggestion(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """A spike alert's link: the spike of one brand (METRICS.md §7) with "Open this incident", or why there is
    nothing to open any more."""
    brand = get_object_or_404(brands_visible_to(request.user), slug=brand_slug)
    found = [s for s in spikes.suggested_incidents(brands=[brand], now=timezone.now()) if s.brand.pk == brand.pk]
    return render(request, "incidents/suggestion.html", {
        "brand": brand, "suggestion": found[0] if found else None, "can_manage": can_manage_incidents(request.user),
        "ongoing": brand.incidents.filter(ended_at__isnull=True).order_by("-started_at"),
    })
