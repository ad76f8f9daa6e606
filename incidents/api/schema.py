"""What drf-spectacular cannot see in the code, added to the OpenAPI description: how callers authenticate, and
the refusals every operation may answer (their body is errors.ErrorSerializer), so that the description is
complete enough for a fuzzer to hold every response against it."""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .errors import ErrorSerializer

REFUSALS = {
    "400": "A query parameter or a body field is wrong: `message` names it, `errors` holds each field's messages.",
    "401": "No token, or a token that is unknown or revoked.",
    "403": "Your role may not do this (only comms write; only analysts and administrators list in bulk).",
    "429": "Too many calls this minute for this token: wait Retry-After seconds.",
}


class HotlineAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        refusals = dict(REFUSALS)
        if "{" in self.path:
            refusals["404"] = "There is no such object among your brands (another team's is not found either)."
        if self.method in ("POST", "PATCH", "PUT"):
            refusals["415"] = "The body must be JSON (Content-Type: application/json)."
        for code, description in refusals.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), code, direction=direction)
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers["Retry-After"] = {"schema": {"type": "integer"}, "required": True,
                                      "description": "Seconds until this token may call again."}
        return headers


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "incidents.api.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A personal API token from your API tokens page (or `manage.py api_token create`), "
                               "sent as `Authorization: Bearer <token>` or `Authorization: Token <token>`."}


class BrowserSessionScheme(OpenApiAuthenticationExtension):
    target_class = "incidents.api.authentication.BrowserSessionAuthentication"
    name = "browserSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME,
                "description": "Signed in to Hotline in this browser (writes also need the CSRF token)."}
