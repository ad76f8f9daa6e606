"""Pages of the socialfeed app. Plain functions; reads are filtered by the brands the user may see."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.roles import brands_visible_to
from socialfeed.clients.base import configuration_status
from socialfeed.models import Source
from socialfeed.selectors import SourceCoverage, sources_coverage


@dataclass(frozen=True)
class _SourceRow:
    source: Source
    state: str  # ok | catching_up | failing | rate_limited | stopped | not_configured | disabled | never_polled
    state_label: str
    coverage: SourceCoverage


def _state_of(source: Source, *, configured: tuple[bool, str], now) -> tuple[str, str]:
    # The order is the order an operator should act in: what blocks polling first, then what slows it.
    if not configured[0]:
        return "not_configured", configured[1].replace("not configured: ", _("not configured — "), 1)
    if not source.enabled:
        return "disabled", _("disabled")
    if source.error_is_permanent:
        return "stopped", _("stopped: fix the cause, then reset it")
    if source.rate_limited_until and source.rate_limited_until > now:
        return "rate_limited", _("rate-limited")
    if source.consecutive_failures or (source.last_error and source.last_success_at is None
                                       and source.last_error_at is not None):
        # A source that has never succeeded but has an error is failing, never "waiting for its first poll".
        return "failing", _("failing (%(count)s in a row), retrying") % {"count": max(source.consecutive_failures, 1)}
    if source.backfill_cursor:
        return "catching_up", _("catching up: reading back what came in during a burst")
    if source.last_success_at is None:
        return "never_polled", _("waiting for its first poll")
    return "ok", _("polling")


@login_required
def sources(request: HttpRequest) -> HttpResponse:
    """Every source of the user's brands with its polling state: what it needs, when it last ran, why it fails."""
    now = timezone.now()
    visible = (Source.objects.filter(brand__in=brands_visible_to(request.user))
               .select_related("brand", "official_account").order_by("brand__name", "name"))
    configured: dict[str, tuple[bool, str]] = {}
    rows = []
    for coverage in sources_coverage(sources=visible):
        source = coverage.source
        if source.platform not in configured:
            configured[source.platform] = configuration_status(source.platform)
        state, label = _state_of(source, configured=configured[source.platform], now=now)
        rows.append(_SourceRow(source=source, state=state, state_label=label, coverage=coverage))
    return render(request, "socialfeed/sources.html", {
        "rows": rows, "now": now, "can_see_rejects": request.user.is_staff})
