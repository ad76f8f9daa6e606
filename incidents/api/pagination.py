"""Keyset pagination: a page is the rows after the last one of the page before, in a fixed order of
(timestamp, id). Unlike page numbers it neither skips nor repeats a row when new mentions arrive while a script
pages through, and every page costs one index probe however deep it is.

A cursor is opaque to callers: the last row's timestamp and id, base64url-encoded. A cursor that was not made
here is a 400 naming ``cursor``; a forged one can only move the position, since the filters and the user's
brands still apply.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers

from .errors import field_error


@dataclass(frozen=True)
class Position:
    at: dt.datetime
    pk: int


def cursor_encode(position: Position) -> str:
    text = f"{position.at.astimezone(dt.UTC).isoformat()}|{position.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_decode(cursor: str | None) -> Position | None:
    if not cursor:
        return None
    refused = field_error("cursor", _("This is not a cursor Hotline gave: leave it out to start from the first "
                                      "page, or pass the next_cursor of the page before."))
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        stamp, pk = text.split("|")
        at = dt.datetime.fromisoformat(stamp)
        number = int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise refused from None
    if at.tzinfo is None or not 0 < number < 2**63:
        raise refused
    return Position(at=at, pk=number)


def keyset_page(queryset: QuerySet, *, after: Position | None, limit: int, field: str = "created_at",
                descending: bool = False) -> tuple[list, Position | None]:
    """Up to ``limit`` rows after ``after`` in (field, id) order, and the position of the last one when more
    rows follow (None on the last page)."""
    if after is not None:
        if descending:
            queryset = queryset.filter(Q(**{f"{field}__lt": after.at}) | Q(**{field: after.at, "pk__lt": after.pk}))
        else:
            queryset = queryset.filter(Q(**{f"{field}__gt": after.at}) | Q(**{field: after.at, "pk__gt": after.pk}))
    order = (f"-{field}", "-pk") if descending else (field, "pk")
    rows = list(queryset.order_by(*order)[:limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    if isinstance(last, dict):  # a .values() query: the rows are dicts holding ``field`` and "id"
        return rows, Position(at=last[field], pk=last["id"])
    return rows, Position(at=getattr(last, field), pk=last.pk)


def page_body(request, results: list, position: Position | None) -> dict:
    """A page: its results, the cursor of the next page and the full URL that fetches it (both null at the end)."""
    if position is None:
        return {"results": results, "next_cursor": None, "next": None}
    cursor = cursor_encode(position)
    query = request.query_params.copy()
    query["cursor"] = cursor
    return {"results": results, "next_cursor": cursor,
            "next": request.build_absolute_uri(request.path) + "?" + query.urlencode()}


def page_serializer(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The OpenAPI shape of a page of ``item``."""
    return type(name, (serializers.Serializer,), {
        "results": item(many=True),
        "next_cursor": serializers.CharField(allow_null=True, help_text="Pass as `cursor` for the next page; "
                                                                        "null on the last page."),
        "next": serializers.CharField(allow_null=True, help_text="The next page's full URL; null on the last page."),
        "__doc__": f"One page of {item.__name__.removesuffix('Serializer').lower()}s, oldest or newest first as "
                   "the route says.",
    })
