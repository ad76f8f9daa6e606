"""The link to a post on its platform: only ever an http(s) address with a host.

Platforms, feeds and import files hand Hotline a post's URL; a hostile feed entry or file row can make it
``javascript:…``, ``data:…`` or ``vbscript:…``. Ingestion stores a post's URL only when ``web_link`` accepts it
(the post itself is stored either way, without a link), and pages render a link only through it again, so a
URL stored before this rule existed cannot become a clickable script either.
"""
from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL_LENGTH = 500  # Post.url's column


def web_link(url: str | None) -> str:
    """``url`` when it is an http:// or https:// address with a host, else "" (no link)."""
    if not url:
        return ""
    candidate = url.strip()
    if len(candidate) > MAX_URL_LENGTH or any(c in candidate for c in "\x00\r\n\t"):
        return ""
    try:
        parts = urlsplit(candidate)
    except ValueError:  # an unbalanced [ in the host, an invalid port
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return candidate
