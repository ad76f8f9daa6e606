"""Pages for managers and analysts: the weekly summary, a brand's weeks, CSV downloads and digest subscriptions.

Plain functions; figures come from incidents.reports, rows from incidents.exports, brands from incidents.roles.
"""
from __future__ import annotations

import zoneinfo
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import date_inputs, digest, exports, reports
from .business_hours import hours_summary
from .models import DigestSubscription, Platform, validate_time_zone
from .refusals import bad_input
from .roles import brands_visible_to, can_export, can_manage_brand_settings
from .targets import brand_targets


def _zone_choices(brands) -> list[str]:
    return sorted({b.time_zone for b in brands} | {"UTC"})


def _chosen_zone(request: HttpRequest, brands) -> zoneinfo.ZoneInfo:
    choices = _zone_choices(brands)
    wanted = request.GET.get("tz", "")
    if wanted in choices:
        return zoneinfo.ZoneInfo(wanted)
    return zoneinfo.ZoneInfo(brands[0].time_zone if brands else "UTC")


def _chosen_week(request: HttpRequest, zone: zoneinfo.ZoneInfo) -> str:
    week = request.GET.get("week", "")
    return reports.week_from_input(week, field="week") if week else reports.last_complete_week(zone=zone)


def _supported_week(week: str) -> str | None:
    """A neighbouring week to link to, or None when it falls outside the dates Hotline supports."""
    return week if date_inputs.day_is_supported(reports.week_monday(week)) else None


@login_required
def week(request: HttpRequest) -> HttpResponse:
    """One ISO week (in the chosen brand time zone), one row per brand, sortable as a league table."""
    brands = list(brands_visible_to(request.user))
    zone = _chosen_zone(request, brands)
    try:
        week = _chosen_week(request, zone)
    except date_inputs.DateInputError as error:
        return bad_input(request, str(error))
    now = timezone.now()
    rows = reports.weekly_summary(brands=brands, week=week, zone=zone, as_of=now)
    rows, sort = reports.league_sort(rows, sort=request.GET.get("sort", "brand"))
    start, end = reports.week_bounds(week=week, zone=zone)
    as_of = reports.week_as_of(end=end, now=now)
    monday = reports.week_monday(week)
    return render(request, "reports/week.html", {
        "rows": rows, "week": week, "zone": zone.key, "zones": _zone_choices(brands), "sort": sort,
        "start_local": start.astimezone(zone), "end_local": end.astimezone(zone),
        "as_of": as_of, "so_far": as_of < end,
        "previous_week": _supported_week(reports.week_shift(week, -1)),
        "next_week": _supported_week(reports.week_shift(week, 1)),
        "columns": _league_columns(sort), "can_export": can_export(request.user),
        "tone_tiers": _tone_tiers(brand_ids=[b.pk for b in brands], start=start, end=end),
        # Calendar days, not instants: each brand's weeks are counted in its own zone, the same ISO week for all.
        "export_query": urlencode({"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}),
    })


def _tone_tiers(*, brand_ids: list[int], start, end) -> dict[str, int]:
    """How many of these mentions the accurate tone tier has read (the net sentiment column says which)."""
    from socialfeed.models import Mention
    from socialfeed.tone.tiers import mention_tiers

    return mention_tiers(Mention.objects.filter(brand_id__in=brand_ids, created_at__gte=start, created_at__lt=end))


def _league_columns(sort: str) -> list[dict]:
    labels = {
        "brand": _("Brand"), "mentions": _("Mentions"), "reply_rate": _("Reply rate"),
        "answered_within_target": _("Answered within target"), "median_frt_s": _("Median FRT"),
        "p90_frt_s": _("p90 FRT"), "km_median_s": _("Median, silence counted"),
        "business_median_frt_s": _("Median FRT, business hours"), "business_p90_frt_s": _("p90 FRT, business hours"),
        "business_answered_within_target": _("Within target, business hours"), "complaints": _("Complaints"),
        "net_sentiment": _("Net sentiment"), "incidents": _("Incidents"),
    }
    columns = []
    for name in reports.LEAGUE_COLUMNS:
        current = sort.lstrip("-") == name
        descending = current and sort.startswith("-")
        columns.append({
            "name": name, "label": labels[name], "current": current,
            "aria": ("descending" if descending else "ascending") if current else "none",
            # Clicking the sorted column flips it; numbers start with the biggest first.
            "next": (name if descending else f"-{name}") if current else (name if name == "brand" else f"-{name}"),
        })
    return columns


@login_required
def brand(request: HttpRequest, slug: str) -> HttpResponse:
    """One brand, week by week over a range of ISO weeks in the brand's time zone, with a chart."""
    brand = get_object_or_404(brands_visible_to(request.user), slug=slug)
    last_default = reports.last_complete_week(zone=brand.zone)
    try:
        last = reports.week_from_input(request.GET["to"], field="to") if request.GET.get("to") else last_default
        first = (reports.week_from_input(request.GET["from"], field="from") if request.GET.get("from")
                 else reports.week_shift(last, -(reports.TREND_WEEKS - 1)))
    except date_inputs.DateInputError as error:
        return bad_input(request, str(error))
    now = timezone.now()
    weeks = reports.brand_history(brand=brand, first=first, last=last, as_of=now)
    start, _end = reports.week_bounds(week=weeks[0].week, zone=brand.zone)
    _start, end = reports.week_bounds(week=weeks[-1].week, zone=brand.zone)
    context = {
        "brand": brand, "weeks": weeks, "first": weeks[0].week, "last": weeks[-1].week,
        "target_s": brand_targets(brand).first_response_target_s, "hours_summary": hours_summary(brand),
        "holidays": brand.holidays.count(), "can_edit_settings": can_manage_brand_settings(request.user),
        "can_export": can_export(request.user), "platforms": Platform.choices,
        "tone_tiers": _tone_tiers(brand_ids=[brand.pk], start=start, end=end),
        "export_from": start.astimezone(brand.zone).isoformat(), "export_to": end.astimezone(brand.zone).isoformat(),
        "export_query": urlencode({"brand": brand.slug, "from": start.isoformat(), "to": end.isoformat()}),
    }
    if context["can_export"]:
        # Each incident with the mentions its download holds: its whole window, whatever the dates say.
        incidents = list(brand.incidents.filter(started_at__lt=end).order_by("-started_at")[:50])
        for incident in incidents:
            incident.download_mentions = exports.export_counts(
                brands=brands_visible_to(request.user),
                filters=exports.ExportFilters(brand=brand.slug, incident=incident.pk), now=now,
                kinds=["mentions"])["mentions"]
        try:
            counts = exports.export_counts(brands=brands_visible_to(request.user), now=now,
                                           filters=exports.filters_from({"brand": brand.slug,
                                                                         "from": context["export_from"],
                                                                         "to": context["export_to"]}))
            download_counts = _counts_text(counts)
        except exports.ExportError as error:  # the page's own range reaches past the supported dates: say so
            download_counts = str(error)
        context.update(incidents=incidents, download_counts=download_counts)
    return render(request, "reports/brand.html", context)


def _counts_text(counts: dict[str, int]) -> str:
    return _("This download holds %(mentions)s mentions, %(posts)s posts, %(official)s official communications, "
             "%(incidents)s incidents or %(weeks)s brand weeks.") % {
        "mentions": f"{counts['mentions']:,}", "posts": f"{counts['posts']:,}",
        "official": f"{counts['official-posts']:,}", "incidents": f"{counts['incidents']:,}",
        "weeks": f"{counts['brand-weeks']:,}"}


@login_required
def export_counts(request: HttpRequest) -> HttpResponse:
    """How many rows each download would hold with the form's filters (the brand page's form asks as you type)."""
    if not can_export(request.user):
        return HttpResponseForbidden(_("Only analysts and administrators may export."))
    try:
        counts = exports.export_counts(brands=brands_visible_to(request.user),
                                       filters=exports.filters_from(request.GET))
    except exports.ExportError as error:
        return JsonResponse({"error": str(error)}, status=400)
    response = JsonResponse({"counts": counts, "text": _counts_text(counts)})
    response["Cache-Control"] = "no-store"
    return response


def _switch(request: HttpRequest, name: str) -> bool:
    """A download switch (bom, raw): 1 or 0, or absent."""
    value = request.GET.get(name, "")
    if value not in ("", "0", "1"):
        raise exports.ExportError(_("%(name)s must be 1 or 0, not %(value)s.") % {"name": name, "value": date_inputs.quoted(value)})
    return value == "1"


@login_required
def export(request: HttpRequest, kind: str) -> HttpResponse:
    """Stream a CSV export with the page's filters (brand, from, to, incident, platform; bom=1 for Excel, raw=1
    for text exactly as stored, for pandas and BI tools). Every bad filter is a 400 saying why."""
    if not can_export(request.user):
        return HttpResponseForbidden(_("Only analysts and administrators may export."))
    if kind not in exports.KINDS:
        raise Http404(_("Unknown export."))
    try:
        bom, raw = _switch(request, "bom"), _switch(request, "raw")
        filters = exports.filters_from(request.GET)
        rows = exports.export_start(kind=kind, brands=brands_visible_to(request.user), filters=filters,
                                    user=request.user, raw=raw)
    except exports.ExportError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        exports.csv_chunks(kind=kind, rows=rows, bom=bom, raw=raw), content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, exports.export_filename(kind=kind, filters=filters, raw=raw))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def digests(request: HttpRequest) -> HttpResponse:
    """The profile page where a user picks the brands whose weekly digest they receive, and their time zone."""
    brands = list(brands_visible_to(request.user))
    subscriptions = {s.brand_id: s for s in DigestSubscription.objects.filter(user=request.user)}
    current_zone = next(iter(subscriptions.values())).time_zone if subscriptions else (
        brands[0].time_zone if brands else "UTC")
    if request.method == "POST":
        zone = request.POST.get("time_zone", "").strip() or "UTC"
        try:
            validate_time_zone(zone)
        except Exception:  # noqa: BLE001 — a ValidationError; answered on the page
            messages.error(request, _("%(zone)s is not a known time zone (for example Europe/Paris).") % {"zone": zone})
            return redirect("reports:digests")
        # Compared as text with the user's own brand ids, never through int(): "²" passes str.isdigit() but not
        # int(), and neither do 5,000 digits.
        yours = {str(b.pk): b.pk for b in brands}
        unknown = [value for value in request.POST.getlist("brand") if value not in yours]
        if unknown:
            messages.error(request, _("%(value)s is not one of your brands: nothing was changed.") % {
                "value": date_inputs.quoted(unknown[0])})
            return redirect("reports:digests")
        wanted = {yours[value] for value in request.POST.getlist("brand")}
        DigestSubscription.objects.filter(user=request.user).exclude(brand_id__in=wanted).delete()
        for brand_id in wanted:
            DigestSubscription.objects.update_or_create(user=request.user, brand_id=brand_id,
                                                        defaults={"time_zone": zone})
        if wanted and not request.user.email:
            messages.warning(request, _("Your account has no e-mail address: ask an administrator to add one."))
        messages.success(request, _("Your weekly digests are saved."))
        return redirect("reports:digests")
    return render(request, "reports/digests.html", {
        "brands": brands, "subscribed": set(subscriptions), "time_zone": current_zone,
        "zones": sorted(zoneinfo.available_timezones()),
    })


@login_required
@require_POST
def digest_send_now(request: HttpRequest) -> HttpResponse:
    """"Send me this digest now": last week's digest of one of the user's brands, e-mailed at once."""
    brand_id = request.POST.get("brand", "")
    # ASCII digits only: "²" passes str.isdigit() but not int().
    brand = (brands_visible_to(request.user).filter(pk=int(brand_id)).first()
             if brand_id.isascii() and brand_id.isdigit() and len(brand_id) < 19 else None)
    if brand is None:
        messages.error(request, _("Choose one of your brands."))
        return redirect("reports:digests")
    if not request.user.email:
        messages.error(request, _("Your account has no e-mail address: ask an administrator to add one."))
        return redirect("reports:digests")
    try:
        week = digest.digest_send_now(user=request.user, brand=brand)
    except Exception as error:  # noqa: BLE001 - the mail server's answer, shown to the user
        messages.error(request, _("The digest could not be sent: %(error)s") % {"error": error})
    else:
        messages.success(request, _("The digest of %(brand)s for %(week)s is on its way to %(email)s.")
                         % {"brand": brand.name, "week": week, "email": request.user.email})
    return redirect("reports:digests")


@login_required
@require_GET
def digest_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The HTML digest of last week, as Monday's e-mail will show it."""
    brand = get_object_or_404(brands_visible_to(request.user), slug=slug)
    message = digest.digest_message(user=request.user, row=digest.digest_now(brand=brand),
                                    to=request.user.email or "preview@hotline.invalid")
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
