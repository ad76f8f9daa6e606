"""The browsable API page: Swagger UI (vendored under static/vendor/, no CDN) reading /api/v1/schema/, with
"Try it out" working on the signed-in session or on a token pasted in "Authorize"."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation

SWAGGER_UI_VERSION = "5.33.1"


@login_required
@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", {"swagger_ui_version": SWAGGER_UI_VERSION})


class _FormatQuery(DefaultContentNegotiation):
    """?format=json or ?format=yaml picks the document's format (the API's other routes take no ?format=)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = request.query_params.get("format")
        if wanted in ("json", "yaml"):
            format_suffix = wanted
        return super().select_renderer(request, renderers, format_suffix)


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 description, generated from the code: YAML, or JSON with ?format=json."""

    content_negotiation_class = _FormatQuery
