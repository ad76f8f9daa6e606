"""Who is calling the API: a personal token (``Authorization: Token <token>`` or ``Bearer <token>``), or the
signed-in browser session (the docs page's "Try it out"). Either way the caller is a user, and sees what that
user sees."""
from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from incidents.tokens import api_token_find

KEYWORDS = ("token", "bearer")


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """A personal API token (incidents.tokens). No Authorization header: not this scheme (the session may apply);
    a header naming another scheme: not this one either; a token that is unknown, revoked or of an inactive user:
    401, with the same message whichever it is."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Authorization: write “Token” (or “Bearer”), one space, then your token."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raw = ""
        token = api_token_find(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is unknown or has been revoked."))
        request.api_token = token
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes an unauthenticated call a 401 (with this challenge) rather than a 403.
        return 'Token realm="Hotline API"'


class BrowserSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in user's session, with Django's CSRF check on writes (the docs page sends the token)."""
