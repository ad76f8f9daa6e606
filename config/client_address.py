"""The address a request comes from, as Hotline's own reverse proxies report it (``TRUSTED_PROXY_COUNT``).

The login lock-out (django-axes) is keyed on user name and this address. Behind a proxy, ``REMOTE_ADDR`` is the
proxy's own address for everyone, so keying on it would let anyone lock anyone out; ``X-Forwarded-For`` alone
is written by the client, so trusting all of it would let anyone pick the address they are locked under.

With ``TRUSTED_PROXY_COUNT=N`` (the number of reverse proxies in front of Hotline that each append the address
they received the request from), the client's address is the N-th entry of ``X-Forwarded-For`` counted from
the right: the one the outermost trusted proxy saw. Anything further left was written by the client and is
ignored. A request carrying fewer entries did not come through the proxies; it is keyed on ``REMOTE_ADDR``,
as every request is with the default ``TRUSTED_PROXY_COUNT=0`` (Hotline reached directly).
"""
from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:  # a proxy that writes something else than an address is misconfigured: do not trust it
        return remote
