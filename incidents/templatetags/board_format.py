"""Durations and shares as the live board words them ("3 h 12 min", "45 %"); a missing value is "—".

Usable from Python (the board's tiles are worded server-side) and in templates (``{% load board_format %}``).
"""
from __future__ import annotations

from django import template
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from socialfeed.post_links import web_link as _web_link

register = template.Library()


@register.filter
def duration_text(seconds: float | None) -> str:
    """A duration as people read it on the board: "45 s", "12 min", "3 h 12 min", "2 d 4 h"; None is "—"."""
    if seconds is None:
        return "—"
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes} if minutes else _("%(h)d h") % {"h": hours}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


@register.filter
def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


@register.filter
def web_link(url: str | None) -> str:
    """A post's link only when it is http(s) (socialfeed.post_links); "" renders no link at all."""
    return _web_link(url)


@register.filter
def urlencode_dict(value: dict | None) -> str:
    """A dict of query parameters (the queue's page links) as a query string."""
    return urlencode(value) if value else ""
