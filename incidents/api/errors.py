"""Every refusal of the API as JSON: ``{"message": ..., "errors": {field: [messages]}}``.

``message`` is one sentence a person can read, starting with the field it is about ("limit: Ensure this value
is less than or equal to 500."); ``errors`` holds each field's messages for a program (empty when the refusal is
about no field: 401, 403, 404, 429).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

NON_FIELD = "non_field_errors"


class ErrorSerializer(serializers.Serializer):
    """What every refused call answers."""

    message = serializers.CharField(help_text="What went wrong, naming the field when one is at fault.")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Each field's messages; empty when no field is at fault.")


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if key != NON_FIELD else ""
            for inner, messages in _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name).items():
                out.setdefault(inner, []).extend(messages)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                for inner, messages in _flatten(value, f"{prefix}[{index}]" if prefix else str(index)).items():
                    out.setdefault(inner, []).extend(messages)
            else:
                out.setdefault(prefix, []).append(str(value))
    else:
        out.setdefault(prefix, []).append(str(detail))
    return out


def error_body(detail) -> dict:
    """The JSON body of a refusal from a DRF error detail (a string, a list or a dict of field errors)."""
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        detail = detail["detail"]
    flat = _flatten(detail)
    messages = [f"{field}: {m}" if field else m for field, found in flat.items() for m in found]
    return {"message": " ".join(messages) or _("The request was refused."),
            "errors": {field: found for field, found in flat.items() if field}}


def field_error(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [message]})


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or _("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or _("You may not do this."))
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(_("The body is not valid JSON: %(reason)s") % {"reason": exc.detail})
    response = exception_handler(exc, context)
    if response is None:
        return None
    body = error_body(response.data)
    new = Response(body, status=response.status_code)
    for name, value in response.items():
        if name.lower() in ("www-authenticate", "retry-after", "allow"):
            new[name] = value
    return new
