"""The API tokens page: a user creates personal tokens for their scripts and BI tools, sees each one once, and
revokes them. Tokens live in incidents.tokens; this page only calls it."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .models import ApiToken
from .roles import can_export, can_manage_incidents, role_of
from .tokens import api_token_create, api_token_revoke


def _page(request: HttpRequest, *, new_token: str = "", name_error: str = "", status: int = 200) -> HttpResponse:
    response = render(request, "incidents/api_tokens.html", {
        "tokens": ApiToken.objects.filter(user=request.user), "new_token": new_token, "name_error": name_error,
        "role": role_of(request.user), "can_write": can_manage_incidents(request.user),
        "can_export": can_export(request.user), "api_root": request.build_absolute_uri(reverse("api:index")),
    }, status=status)
    response["Cache-Control"] = "no-store"  # a new token is on this page once: no cache may keep it
    return response


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    action = request.POST.get("action", "")
    if action == "create":
        try:
            token, raw = api_token_create(user=request.user, name=request.POST.get("name", ""))
        except ValidationError as error:
            return _page(request, name_error=" ".join(error.messages), status=400)
        messages.success(request, _("Token “%(name)s” created. Copy it now: Hotline will not show it again.")
                         % {"name": token.name})
        return _page(request, new_token=raw)
    if action == "revoke":
        token_id = request.POST.get("token", "")
        token = ApiToken.objects.filter(user=request.user, pk=int(token_id)).first() if token_id.isdigit() and \
            len(token_id) < 19 else None
        if token is None:
            messages.error(request, _("There is no such token among yours."))
        elif api_token_revoke(token=token):
            messages.success(request, _("Token “%(name)s” revoked: calls made with it are now refused.")
                             % {"name": token.name})
        else:
            messages.info(request, _("That token was already revoked."))
        return redirect("incidents:api_tokens")
    messages.error(request, _("Choose to create or to revoke a token."))
    return redirect("incidents:api_tokens")
