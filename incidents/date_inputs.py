"""Dates, date-times and ISO weeks that users type, read once and checked against the calendar Hotline supports.

Hotline supports dates from 2000-01-01 to 2099-12-31 (UTC): every filter, form field, export option and command
option that takes a date refuses anything outside with a message naming the field, the value and that range.
Why a range at all: the pages compute around what they are given (the day after a date, the 7 days before an
incident, the 8 weeks of a trend, a brand's time zone), and near the ends of Python's calendar (years 1 and 9999)
that arithmetic overflows. Keeping inputs a whole century away from both ends means no computation on a
supported date can overflow, and social media posts all fall inside it.

Digits are ASCII only: "２０２６-03-02" or "٢٠٢٦-W10" are refused, not read as 2026.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
FIRST_MOMENT = datetime.combine(FIRST_DAY, time(0), tzinfo=UTC)
END_MOMENT = datetime.combine(LAST_DAY + timedelta(days=1), time(0), tzinfo=UTC)  # exclusive
MAX_INPUT_LENGTH = 64  # longer than any ISO 8601 date-time; a longer value is refused before it is parsed

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.ASCII | re.IGNORECASE)


class DateInputError(ValueError):
    """A date the user typed that Hotline cannot read or does not support; the message says which and why."""


def supported_range() -> str:
    return _("from %(first)s to %(last)s") % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}


def quoted(value: str) -> str:
    """A value a user typed, quoted back in a refusal: as Python's repr (control characters escaped) and cut
    short when long. Every refusal of a typed value shows it this way."""
    return repr(value if len(value) <= MAX_INPUT_LENGTH else value[:MAX_INPUT_LENGTH] + "…")


def _outside(field: str, value: str) -> DateInputError:
    return DateInputError(_("%(field)s %(value)s is outside the dates Hotline supports (%(range)s).") % {
        "field": field, "value": quoted(value), "range": supported_range()})


def _unreadable(field: str, value: str, example: str) -> DateInputError:
    return DateInputError(_("%(field)s %(value)s is not a date Hotline can read (for example %(example)s).") % {
        "field": field, "value": quoted(value), "example": example})


def day_is_supported(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def moment_is_supported(moment: datetime) -> bool:
    """An aware instant within [2000-01-01T00:00Z, 2100-01-01T00:00Z)."""
    try:
        return FIRST_MOMENT <= moment.astimezone(UTC) < END_MOMENT
    except (OverflowError, ValueError):
        return False


def looks_like_day(value: str) -> bool:
    """Written as a calendar day (YYYY-MM-DD), whether or not it is a real or supported one."""
    return bool(_DAY.fullmatch(value.strip()))


def parse_day(value: str, *, field: str) -> date:
    """A calendar day written YYYY-MM-DD."""
    text = value.strip()
    if len(text) > MAX_INPUT_LENGTH or not _DAY.fullmatch(text):
        raise _unreadable(field, value, "2026-03-02")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise _unreadable(field, value, "2026-03-02") from None
    if not day_is_supported(day):
        raise _outside(field, value)
    return day


def parse_moment(value: str, *, field: str, end: bool = False) -> tuple[datetime, date | None]:
    """An ISO 8601 date or date-time as a UTC instant, with the calendar day when only a date was given.

    A date alone is UTC midnight; as an ``end`` it includes that whole day (the next midnight). A date-time
    without an offset is UTC.
    """
    text = value.strip()
    if len(text) > MAX_INPUT_LENGTH or not text.isascii():
        raise _unreadable(field, value, "2026-03-02 / 2026-03-02T09:00Z")
    if _DAY.fullmatch(text):
        day = parse_day(text, field=field)
        return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=UTC), day
    try:
        moment = parse_datetime(text.replace("z", "Z"))
    except ValueError:
        moment = None
    if moment is None:
        raise _unreadable(field, value, "2026-03-02 / 2026-03-02T09:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not moment_is_supported(moment):
        raise _outside(field, value)
    return moment.astimezone(UTC), None


def parse_week(value: str, *, field: str) -> date:
    """The Monday of an ISO week written YYYY-Www (2026-W10)."""
    text = value.strip()
    match = _WEEK.fullmatch(text) if len(text) <= MAX_INPUT_LENGTH else None
    if match is None:
        raise _unreadable(field, value, "2026-W10")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise _unreadable(field, value, "2026-W10") from None
    if not day_is_supported(monday):
        raise _outside(field, value)
    return monday


def check_wall_clock(moment: datetime, *, field: str) -> datetime:
    """A naive date-time typed in a brand's zone (incident forms): its day must be supported."""
    if not day_is_supported(moment.date()):
        raise _outside(field, moment.isoformat(timespec="minutes"))
    return moment
