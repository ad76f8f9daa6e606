"""METRICS.md §4 business hours: a brand's weekly opening hours in its own time zone, minus its holidays, and the
part of a wait that falls inside them (business-hours FRT).

Opening hours are wall-clock times in the brand's zone, so a day on which clocks change is 23 or 25 hours long
and a range across the change lasts what the clocks say it lasts in real time: 00:00–06:00 on the last Sunday of
March in Paris is five real hours. A time that a change skips or repeats is read as zoneinfo reads it (the first
of a repeated hour). A brand without opening hours is open all the time.

``BusinessCalendar.open_seconds(start, end)`` is what the §4 figures call for every answered mention: each local
day's ranges are converted to UTC once, flattened with a running total of open seconds, and a wait costs two
bisections, however long it is.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .date_inputs import day_is_supported, supported_range
from .models import AuditEntry, Brand, Holiday, OpeningHours, Weekday

UTC = dt.UTC
DAY_MINUTES = 24 * 60

Ranges = dict[int, list[tuple[int, int]]]  # weekday (Monday 0) -> [(opens_min, closes_min)], sorted


@dataclass
class BusinessCalendar:
    """A brand's business hours (METRICS.md §4). ``ranges`` empty: open all the time."""

    zone: zoneinfo.ZoneInfo
    ranges: Ranges = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()
    _days: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict, repr=False)
    # Open intervals of the local days covered so far, flattened for bisection (see open_seconds).
    _starts: list[float] = field(default_factory=list, repr=False)
    _ends: list[float] = field(default_factory=list, repr=False)
    _before: list[float] = field(default_factory=list, repr=False)
    _span: tuple[dt.date, dt.date] | None = field(default=None, repr=False)

    @property
    def always_open(self) -> bool:
        return not any(self.ranges.values())

    def day_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open intervals of one local calendar day, as UTC instants."""
        cached = self._days.get(day)
        if cached is None:
            cached = []
            if day not in self.holidays:
                for opens, closes in self.ranges.get(day.weekday(), ()):
                    cached.append((self._instant(day, opens), self._instant(day, closes)))
            self._days[day] = cached
        return cached

    def _instant(self, day: dt.date, minute: int) -> dt.datetime:
        if minute >= DAY_MINUTES:  # 24:00 is the next day's midnight, whatever the length of this day
            day, minute = day + dt.timedelta(days=1), minute - DAY_MINUTES
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def open_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """METRICS.md §4 business-hours FRT: the seconds of [start, end] that fall inside business hours."""
        # In UTC epoch seconds: Python subtracts two times of one zone as wall clocks, which a DST change makes wrong.
        a, b = start.timestamp(), end.timestamp()
        if b <= a:
            return 0.0
        if self.always_open:
            return b - a
        self._cover(start, end)
        return self._open_before(b) - self._open_before(a)

    def _cover(self, start: dt.datetime, end: dt.datetime) -> None:
        """Make the flat interval arrays span the local days of [start, end] (and one day either side)."""
        first = start.astimezone(self.zone).date() - dt.timedelta(days=1)
        last = end.astimezone(self.zone).date() + dt.timedelta(days=1)
        if self._span and self._span[0] <= first and last <= self._span[1]:
            return
        if self._span:  # grow to the union, in big steps so a long series of waits rebuilds rarely
            first = min(first, self._span[0] - dt.timedelta(days=31))
            last = max(last, self._span[1] + dt.timedelta(days=31))
        starts, ends, before = [], [], []
        total = 0.0
        day = first
        while day <= last:
            for lo, hi in self.day_intervals(day):
                lo_s, hi_s = lo.timestamp(), hi.timestamp()
                if starts and lo_s < ends[-1]:  # ranges of one day never overlap; guard the day boundary anyway
                    lo_s = ends[-1]
                if hi_s <= lo_s:
                    continue
                starts.append(lo_s)
                ends.append(hi_s)
                before.append(total)
                total += hi_s - lo_s
            day += dt.timedelta(days=1)
        self._starts, self._ends, self._before, self._span = starts, ends, before, (first, last)

    def _open_before(self, moment: float) -> float:
        """Open seconds from the start of the covered span up to ``moment`` (a prefix sum: two bisects a wait)."""
        i = bisect_right(self._starts, moment) - 1
        if i < 0:
            return 0.0
        return self._before[i] + min(moment, self._ends[i]) - self._starts[i]


def calendar_for(brand: Brand) -> BusinessCalendar:
    return calendars_by_brand([brand])[brand.pk]


def calendars_by_brand(brands: Iterable[Brand]) -> dict[int, BusinessCalendar]:
    """Each brand's business calendar, in two queries whatever the number of brands."""
    brands = list(brands)
    ranges: dict[int, Ranges] = {b.pk: {} for b in brands}
    holidays: dict[int, set[dt.date]] = {b.pk: set() for b in brands}
    for brand_id, weekday, opens, closes in OpeningHours.objects.filter(brand__in=brands).order_by(
            "weekday", "opens_min").values_list("brand_id", "weekday", "opens_min", "closes_min"):
        ranges[brand_id].setdefault(weekday, []).append((opens, closes))
    for brand_id, day in Holiday.objects.filter(brand__in=brands).values_list("brand_id", "day"):
        holidays[brand_id].add(day)
    return {b.pk: BusinessCalendar(zone=b.zone, ranges=ranges[b.pk], holidays=frozenset(holidays[b.pk]))
            for b in brands}


# --- Reading and writing the weekly table ----------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d{1,2})[:h.](\d{2})\s*[-–—]\s*(\d{1,2})[:h.](\d{2})\s*$")


def minute_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def ranges_text(ranges: list[tuple[int, int]]) -> str:
    """"09:00–12:00, 14:00–18:00" as the settings page shows one day."""
    return ", ".join(f"{minute_text(a)}–{minute_text(b)}" for a, b in ranges)


def _minute(hours: str, minutes: str) -> int | None:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m):
        return None
    return h * 60 + m


def parse_day(text: str, *, day_label: str) -> list[tuple[int, int]]:
    """One day's ranges from "09:00–12:00, 14:00–18:00" (empty: closed). ValidationError naming the day when a
    range is not a range, ends before it starts, or overlaps another."""
    found = []
    for piece in filter(None, (p.strip() for p in re.split(r"[,;\n]", text or ""))):
        match = _RANGE.match(piece)
        opens = _minute(match[1], match[2]) if match else None
        closes = _minute(match[3], match[4]) if match else None
        if opens is None or closes is None:
            raise ValidationError(_("%(day)s: “%(range)s” is not a range of times such as 09:00–18:00.")
                                  % {"day": day_label, "range": piece})
        if closes <= opens:
            raise ValidationError(_("%(day)s: %(range)s ends before it starts (a range past midnight is two "
                                    "ranges: 22:00–24:00 and 00:00–02:00 the next day).")
                                  % {"day": day_label, "range": f"{minute_text(opens)}–{minute_text(closes)}"})
        found.append((opens, closes))
    found.sort()
    ranges_check(found, day_label=day_label)
    return found


def ranges_check(ranges: list[tuple[int, int]], *, day_label: str) -> None:
    """ValidationError naming the day when two of its ranges overlap (touching ends are fine)."""
    ordered = sorted(ranges)
    for (a1, b1), (a2, b2) in zip(ordered, ordered[1:], strict=False):
        if a2 < b1:
            raise ValidationError(_("%(day)s: %(first)s overlaps %(second)s.") % {
                "day": day_label, "first": f"{minute_text(a1)}–{minute_text(b1)}",
                "second": f"{minute_text(a2)}–{minute_text(b2)}"})


_HOLIDAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(.*)$", re.ASCII)


def parse_holidays(text: str, *, label: str) -> list[tuple[dt.date, str]]:
    """One holiday per line, "2026-12-25 Christmas"; ValidationError naming the line when it is not a date."""
    found: dict[dt.date, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _HOLIDAY.match(line)
        day = None
        if match:
            try:
                day = dt.date.fromisoformat(match[1])
            except ValueError:
                day = None
        if day is None:
            raise ValidationError(_("%(field)s, line %(line)d: “%(text)s” does not start with a date such as "
                                    "2026-12-25.") % {"field": label, "line": number, "text": line.strip()[:60]})
        if not day_is_supported(day):
            raise ValidationError(_("%(field)s, line %(line)d: %(day)s is outside the dates Hotline supports "
                                    "(%(range)s).") % {"field": label, "line": number, "day": day.isoformat(),
                                                       "range": supported_range()})
        found[day] = match[2].strip()[:120]
    return sorted(found.items())


def weekly_ranges(brand: Brand) -> Ranges:
    return calendar_for(brand).ranges


def holidays_text(brand: Brand) -> str:
    return "\n".join(f"{h.day:%Y-%m-%d} {h.name}".strip() for h in brand.holidays.all())


def hours_summary(brand: Brand) -> str:
    """"Mon 09:00–18:00 · …" for pages that name the hours a business-hours figure counts; "" when always open."""
    ranges = weekly_ranges(brand)
    return " · ".join(f"{Weekday(day).label[:3]} {ranges_text(ranges[day])}" for day in sorted(ranges) if ranges[day])


@transaction.atomic
def business_hours_save(*, brand: Brand, ranges: Ranges, holidays: list[tuple[dt.date, str]], author=None) -> None:
    """Replace a brand's opening hours and holidays. ValidationError (naming the day) on a range that ends before
    it starts or overlaps another, and then nothing is stored."""
    for weekday, day_ranges in ranges.items():
        label = str(Weekday(weekday).label)
        for opens, closes in day_ranges:
            if not (0 <= opens < closes <= DAY_MINUTES):
                raise ValidationError(_("%(day)s: %(range)s ends before it starts.")
                                      % {"day": label, "range": f"{minute_text(opens)}–{minute_text(closes)}"})
        ranges_check(day_ranges, day_label=label)
    before = (ranges_text_all(calendar_for(brand).ranges), holidays_text(brand))
    OpeningHours.objects.filter(brand=brand).delete()
    OpeningHours.objects.bulk_create([OpeningHours(brand=brand, weekday=weekday, opens_min=a, closes_min=b)
                                      for weekday, day_ranges in sorted(ranges.items()) for a, b in day_ranges])
    Holiday.objects.filter(brand=brand).delete()
    Holiday.objects.bulk_create([Holiday(brand=brand, day=day, name=name) for day, name in holidays])
    after = (ranges_text_all(ranges), "\n".join(f"{d:%Y-%m-%d} {n}".strip() for d, n in holidays))
    if before != after:
        AuditEntry.objects.create(user=author, action="brand.business_hours", target=f"brand:{brand.slug}",
                                  details={"hours": after[0], "holidays": after[1]})


def ranges_text_all(ranges: Ranges) -> str:
    return "; ".join(f"{day}: {ranges_text(sorted(r))}" for day, r in sorted(ranges.items()) if r)
