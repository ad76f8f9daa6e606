"""Pages of the incidents app. Plain functions; logic lives in selectors and services."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Incident
from .roles import brands_visible_to, role_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    brands = brands_visible_to(request.user).prefetch_related("official_accounts")
    incidents = (
        Incident.objects.filter(brand__in=brands).select_related("brand").order_by("-ended_at", "-started_at")
    )
    ongoing = [i for i in incidents if i.is_ongoing]
    past = [i for i in incidents if not i.is_ongoing][:20]
    return render(request, "incidents/home.html", {
        "brands": brands, "ongoing": ongoing, "past": past, "role": role_of(request.user),
    })
