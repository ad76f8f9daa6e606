"""Query parameters of the API, read once and refused with a 400 naming the parameter when they are wrong.

A parameter the route does not take, or one given twice, is refused too (a typo such as ``?form=`` must not
quietly return everything). Dates are ISO 8601 dates or date-times within the dates Hotline supports, 2000-01-01
to 2099-12-31 UTC; a date alone is UTC midnight, and as ``to`` it includes that whole day (as in the exports).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from rest_framework import serializers

from incidents import date_inputs, reports
from incidents.models import Incident, Platform
from socialfeed.models import Post

from .errors import field_error

MAX_TEXT = 64  # longer than any date, week, slug or cursor this API reads


@dataclass(frozen=True)
class Moment:
    """A ``from`` or ``to`` as a UTC instant, with the calendar day when only a date was written."""

    at: dt.datetime
    day: dt.date | None = None


class MomentField(serializers.CharField):
    """An ISO 8601 date (2026-03-02) or date-time (2026-03-02T09:00:00Z; no offset: UTC)."""

    def __init__(self, *, end: bool = False, **kwargs):
        self.end = end
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Moment:
        text = super().to_internal_value(data)
        try:
            at, day = date_inputs.parse_moment(text, field=self.field_name, end=self.end)
        except date_inputs.DateInputError as error:
            raise serializers.ValidationError(str(error)) from None
        return Moment(at=at, day=day)


class WeekField(serializers.CharField):
    """An ISO week such as 2026-W10, or a date (2026-03-02) standing for the ISO week that holds it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_TEXT)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        text = super().to_internal_value(data).strip()
        try:
            if date_inputs.looks_like_day(text):
                day = date_inputs.parse_day(text, field=self.field_name)
            else:
                day = date_inputs.parse_week(text, field=self.field_name)
        except date_inputs.DateInputError as error:
            raise serializers.ValidationError(str(error)) from None
        return reports.week_label(day)


def _limit(default: int, maximum: int) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, default=default, min_value=1, max_value=maximum,
                                    help_text=f"How many items per page, 1 to {maximum} (default {default}).")


def _cursor() -> serializers.CharField:
    return serializers.CharField(required=False, max_length=200,
                                 help_text="The `next_cursor` of the page before; leave out for the first page.")


def _brand() -> serializers.CharField:
    return serializers.CharField(required=False, max_length=MAX_TEXT,
                                 help_text="A brand's slug (see /api/v1/brands/); one of your team's brands.")


class _WithWindow(serializers.Serializer):
    """Adds ``from`` and ``to`` (Python keywords, so they cannot be class attributes)."""

    window_help = ("Mentions or posts created at or after `from` and before `to` (a date alone as `to` "
                   "includes that day).")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = MomentField(required=False, help_text=f"ISO 8601 date or date-time. {self.window_help}")
        fields["to"] = MomentField(required=False, end=True,
                                   help_text=f"ISO 8601 date or date-time. {self.window_help}")
        return fields

    def validate(self, data):
        start, end = data.get("from"), data.get("to")
        if start and end and end.at <= start.at:
            raise field_error("to", _("“to” must come after “from”."))
        return data


class PostQuery(_WithWindow):
    brand = _brand()
    incident = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                        help_text="An incident's id: its whole outage window (from/to are then "
                                                  "ignored, as in the exports).")
    platform = serializers.ChoiceField(required=False, choices=Platform.choices)
    cursor = _cursor()
    limit = _limit(100, 1000)


class MentionQuery(PostQuery):
    answered = serializers.BooleanField(required=False, allow_null=False,
                                        help_text="true: answered mentions only (METRICS.md §3); false: unanswered.")
    complaint = serializers.BooleanField(required=False, help_text="true: complaints only (METRICS.md §6).")


class OfficialPostQuery(PostQuery):
    kind = serializers.ChoiceField(required=False, choices=[("reply", "reply"), ("broadcast", "broadcast")],
                                   help_text="Replies to customers or broadcasts (METRICS.md §1).")
    category = serializers.ChoiceField(required=False, choices=Post.Category.choices,
                                       help_text="The post's METRICS.md §6 category.")


class IncidentQuery(_WithWindow):
    window_help = "Incidents whose outage window overlaps [from, to)."
    brand = _brand()
    status = serializers.ChoiceField(required=False, choices=Incident.Status.choices)
    ongoing = serializers.BooleanField(required=False, help_text="true: ongoing incidents only; false: ended ones.")
    cursor = _cursor()
    limit = _limit(20, 100)


class NoQuery(serializers.Serializer):
    """A route that takes no query parameter."""


class PageQuery(serializers.Serializer):
    cursor = _cursor()
    limit = _limit(100, 500)


class BrandWeekQuery(serializers.Serializer):
    brand = _brand()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = WeekField(required=False, help_text="The first ISO week (2026-W10, or a date in it); "
                                                             "default: 7 weeks before `to`.")
        fields["to"] = WeekField(required=False, help_text="The last ISO week (2026-W17, or a date in it); "
                                                           "default: the brand's last complete week.")
        return fields


LEAGUE_SORTS = [column for name in reports.LEAGUE_COLUMNS for column in (name, f"-{name}")]


class LeagueQuery(serializers.Serializer):
    week = WeekField(required=False, help_text="The ISO week (default: the last complete week in `tz`).")
    tz = serializers.CharField(required=False, max_length=MAX_TEXT,
                               help_text="The time zone weeks are counted in: UTC or one of your brands' zones "
                                         "(default: your first brand's zone).")
    sort = serializers.ChoiceField(required=False, choices=LEAGUE_SORTS, default="brand",
                                   help_text="A column, `-` first for descending; brands without a value go last.")


def read_query(serializer_class: type[serializers.Serializer], request) -> dict:
    """The route's query parameters, checked; a ValidationError (400) naming the parameter otherwise."""
    params = request.query_params
    known = serializer_class().fields
    for name in params:
        if name not in known:
            raise field_error(name, _("This route takes no parameter “%(name)s” (it takes: %(known)s).")
                              % {"name": name[:MAX_TEXT], "known": ", ".join(known) or _("none")})
        if len(params.getlist(name)) > 1:
            raise field_error(name, _("Give this parameter once."))
    serializer = serializer_class(data=params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data

