"""Headers and refusals every response gets: a Content-Security-Policy that needs no 'unsafe-inline' (every script
and style is a file under static/), ``Cache-Control: no-store`` on whatever a signed-in user sees, and a 400 for
NUL characters in a query or form."""
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The admin ships inline scripts of its own; it stays usable, everything else is strict.
        if not request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", CSP)
        return response


class SignedInNoStoreMiddleware:
    """Nothing shown to a signed-in user is kept by the browser or a proxy: a brand's figures, its customers'
    posts and exports must not be readable from a shared computer's cache or its back button after logging out.

    Placed after AuthenticationMiddleware. A response that already says how it may be cached keeps that and gains
    ``no-store`` and ``private``; static files are served by WhiteNoise before this and stay cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if response.has_header("Cache-Control"):
                patch_cache_control(response, no_store=True, private=True)
            else:
                add_never_cache_headers(response)
        return response


class RejectNulCharactersMiddleware:
    """Refuse a query or form value holding a NUL character with a 400 that says so.

    No field of Hotline can hold one, and PostgreSQL refuses them in text: without this, a filter or form with a
    NUL in it would reach the database and fail there as a server error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                 "multipart/form-data"):
            for key, values in request.POST.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    return _nul_refused(request, key)
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return _nul_refused(request, key)
        return self.get_response(request)


def _nul_refused(request: HttpRequest, field: str = "") -> HttpResponse:
    where = f' in "{field[:40]}"' if field else " in the address"
    message = f"Refused: a NUL character{where} is not valid input."
    if request.path.startswith("/api/"):
        # The API answers every refusal as JSON naming the field (incidents/api/errors.py).
        name = field[:40].replace("\x00", "")
        return JsonResponse({"message": message, "errors": {name: [message]} if name else {}}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
