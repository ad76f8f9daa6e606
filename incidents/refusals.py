"""How a page refuses input it cannot use (a filter, a week, a date in its address): a 400 page that says which
value and why, with a way back, never a 500 and never a silently empty page."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def bad_input(request: HttpRequest, message: str, *, back_url: str | None = None) -> HttpResponse:
    return render(request, "bad_input.html", {"message": message, "back_url": back_url or request.path},
                  status=400)
