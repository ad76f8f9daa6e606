"""The browsable API page: Swagger UI (vendored under static/vendor/, no CDN) reading /api/v1/schema/, with
"Try it out" working on the signed-in session or on a token pasted in "Authorize"."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

SWAGGER_UI_VERSION = "5.33.1"


@login_required
@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", {"swagger_ui_version": SWAGGER_UI_VERSION})
