"""METRICS.md §4 business-hours FRT: the part of a wait inside the brand's opening hours (its own zone, minus
holidays), against values worked out by hand, across closed nights, weekends, holidays and both DST changes;
and the same figures on the weekly page, the brand page, the digest, the exports and ``response_stats``."""
from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from incidents.business_hours import BusinessCalendar, business_hours_save, calendar_for
from incidents.models import Brand, Team
from socialfeed.normalised import NormalisedPost
from socialfeed.services import posts_ingest

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = dt.UTC
WEEKDAYS_9_TO_6 = {day: [(9 * 60, 18 * 60)] for day in range(5)}


def paris(text: str) -> dt.datetime:
    """A wall-clock time in Paris, "2026-11-02 17:30", as a UTC instant (as the database gives them)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=PARIS).astimezone(UTC)


def _calendar(ranges, holidays=()) -> BusinessCalendar:
    return BusinessCalendar(zone=PARIS, ranges=ranges, holidays=frozenset(holidays))


def test_a_reply_across_a_closed_night_counts_only_the_open_hours():
    # Monday 17:30 → Tuesday 09:15, open 09:00–18:00: 30 min on Monday + 15 min on Tuesday.
    asked, answered = paris("2026-11-02 17:30"), paris("2026-11-03 09:15")
    assert (answered - asked).total_seconds() == 15 * 3600 + 45 * 60
    assert _calendar(WEEKDAYS_9_TO_6).open_seconds(asked, answered) == 45 * 60


def test_a_weekend_and_a_holiday_are_closed():
    # Thursday 24 Dec 17:00 → Monday 28 Dec 10:00; Friday 25 is a holiday: 1 h Thursday + 1 h Monday.
    calendar = _calendar(WEEKDAYS_9_TO_6, holidays=[dt.date(2026, 12, 25)])
    assert calendar.open_seconds(paris("2026-12-24 17:00"), paris("2026-12-28 10:00")) == 2 * 3600
    # The same wait without the holiday: Friday's 9 hours count too.
    assert _calendar(WEEKDAYS_9_TO_6).open_seconds(paris("2026-12-24 17:00"), paris("2026-12-28 10:00")) == 11 * 3600


def test_a_wait_that_starts_and_ends_outside_hours_counts_none():
    assert _calendar(WEEKDAYS_9_TO_6).open_seconds(paris("2026-11-02 19:00"), paris("2026-11-03 08:59")) == 0


def test_the_spring_dst_change_makes_an_open_range_an_hour_shorter():
    # Sunday 29 March 2026 in Paris: 02:00 CET becomes 03:00 CEST. Open 01:00–04:00 that night lasts 2 real
    # hours (00:00–02:00 UTC), though the wall clock reads 3.
    calendar = _calendar({6: [(60, 4 * 60)]})
    asked, answered = paris("2026-03-28 23:00"), paris("2026-03-29 08:00")
    assert asked.astimezone(PARIS).utcoffset() == dt.timedelta(hours=1)
    assert answered.astimezone(PARIS).utcoffset() == dt.timedelta(hours=2)
    assert calendar.open_seconds(asked, answered) == 2 * 3600
    # Open all night 00:00–06:00: a wait from 00:30 to 05:30 on the wall clock is 4 real hours, all of them open.
    night = _calendar({6: [(0, 6 * 60)]})
    asked, answered = paris("2026-03-29 00:30"), paris("2026-03-29 05:30")
    assert (answered - asked).total_seconds() == 4 * 3600
    assert night.open_seconds(asked, answered) == 4 * 3600
    # Given as Paris times, the wall clocks say 5 h apart; the real wait is still 4 h.
    assert night.open_seconds(asked.astimezone(PARIS), answered.astimezone(PARIS)) == 4 * 3600


def test_the_autumn_dst_change_makes_an_open_range_an_hour_longer():
    # Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET. Open 01:00–04:00 lasts 4 real hours (23:00–03:00 UTC).
    calendar = _calendar({6: [(60, 4 * 60)]})
    asked, answered = paris("2026-10-24 23:00"), paris("2026-10-25 08:00")
    assert calendar.open_seconds(asked, answered) == 4 * 3600
    night = _calendar({6: [(0, 6 * 60)]})
    asked, answered = paris("2026-10-25 00:30"), paris("2026-10-25 05:30")
    assert (answered - asked).total_seconds() == 6 * 3600
    assert night.open_seconds(asked, answered) == 6 * 3600


def test_a_range_until_midnight_ends_at_the_next_day_start():
    # Saturday 28 March 2026 22:00 → 24:00, then Sunday 00:00–01:00 (the night shift of two ranges).
    calendar = _calendar({5: [(22 * 60, 24 * 60)], 6: [(0, 60)]})
    assert calendar.open_seconds(paris("2026-03-28 21:00"), paris("2026-03-29 09:00")) == 3 * 3600


def test_a_brand_without_hours_is_open_all_the_time(make_brand):
    brand = make_brand(name="Volta", slug="volta")
    calendar = calendar_for(brand)
    assert calendar.always_open
    asked, answered = paris("2026-03-28 23:00"), paris("2026-03-29 08:00")
    assert calendar.open_seconds(asked, answered) == (answered - asked).total_seconds() == 8 * 3600


# --- The figures on every surface ---------------------------------------------------------------------------

def _thread(pid: int, asked: dt.datetime, answered: dt.datetime | None) -> list[NormalisedPost]:
    """A customer's mention of @ondine_mobile and, unless None, Ondine's reply."""
    question = NormalisedPost(platform="x", platform_id=str(pid), author_id=f"c{pid}", author_handle=f"c{pid}",
                              created_at=asked, text="@ondine_mobile no data since this morning", lang="en",
                              conversation_id=str(pid))
    posts = [question]
    if answered:
        posts.append(NormalisedPost(platform="x", platform_id=f"{pid}r", author_id="900",
                                    author_handle="ondine_mobile", created_at=answered, text="Sorry, on it", lang="en",
                                    in_reply_to_id=str(pid), in_reply_to_author_id=f"c{pid}",
                                    conversation_id=str(pid)))
    return posts


@pytest.fixture
def week_45(make_brand, make_user, client):
    """Ondine Mobile, open Monday to Friday 09:00–18:00 in Paris (set on the settings page), in ISO week 2026-W45:

    a) Mon 17:30 → Tue 09:15: calendar 56,700 s, business 2,700 s
    b) Tue 10:00 → Tue 10:20: 1,200 s either way
    c) Fri 17:50 → next Mon 09:40: calendar 229,800 s, business 600 + 2,400 = 3,000 s
    d) Wed 12:00, unanswered.
    By hand (T = 1 h): business median 2,700 s, p90 2,700 + 0.8 × 300 = 2,940 s, within target 3/4;
    calendar median 56,700 s, p90 56,700 + 0.8 × 173,100 = 195,180 s, within target 1/4.
    """
    team, _ = Team.objects.get_or_create(name="Ondine comms")
    make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", user_id="900", team=team)
    comms = make_user(username="camille", role="comms", teams=["Ondine comms"])
    comms.email = "camille@ondine.example"
    comms.save()
    client.force_login(comms)
    form = {"first_response_target_min": 60, "update_cadence_min": 60, "acknowledgement_target_min": 30,
            "spike_threshold": 5, "unanswered_breach_count": 10, "holidays": ""}
    form.update({f"hours_{day}": "09:00–18:00" for day in range(5)})
    assert client.post(reverse("incidents:brand_settings", args=["ondine"]), form).status_code == 302
    posts = (_thread(1, paris("2026-11-02 17:30"), paris("2026-11-03 09:15"))
             + _thread(2, paris("2026-11-03 10:00"), paris("2026-11-03 10:20"))
             + _thread(3, paris("2026-11-06 17:50"), paris("2026-11-09 09:40"))
             + _thread(4, paris("2026-11-04 12:00"), None))
    posts_ingest(posts=posts)
    return Brand.objects.get(slug="ondine"), comms


def test_response_stats_prints_business_hours_figures_beside_the_calendar_ones(week_45):
    out = io.StringIO()
    call_command("response_stats", "--from", "2026-11-01T23:00Z", "--to", "2026-11-08T23:00Z", "--business-hours",
                 stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows == [{
        "brand": "ondine", "mentions": "4", "answered": "3", "reply_rate": "0.75", "median_frt_s": "56700",
        "p90_frt_s": "195180", "answered_within_target": "0.25", "first_response_target_s": "3600",
        "business_median_frt_s": "2700", "business_p90_frt_s": "2940", "business_answered_within_target": "0.75",
    }]
    plain = io.StringIO()
    call_command("response_stats", "--from", "2026-11-01T23:00Z", "--to", "2026-11-08T23:00Z", stdout=plain)
    assert "business" not in plain.getvalue()


def _cell(html: str, figure: str, row_attr: str) -> str:
    import re

    row = re.search(rf"<tr {row_attr}>(.*?)</tr>", html, re.S).group(1)
    return re.search(rf'<td data-figure="{figure}">(.*?)(<span|</td>)', row, re.S).group(1).strip()


def test_the_weekly_and_brand_pages_show_business_hours_beside_calendar_figures(week_45, client):
    week = client.get(reverse("reports:week"), {"week": "2026-W45", "tz": "Europe/Paris"}).content.decode()
    row = 'data-brand="ondine"'
    assert _cell(week, "median_frt_s", row) == "15 h 45 min 00 s"
    assert _cell(week, "business_median_frt_s", row) == "45 min 00 s"
    assert _cell(week, "business_p90_frt_s", row) == "49 min 00 s"
    assert _cell(week, "business_answered_within_target", row) == "75.0 %"
    assert _cell(week, "answered_within_target", row) == "25.0 %"
    assert "target 1 h" in week
    brand_page = client.get(reverse("reports:brand", args=["ondine"]), {"from": "2026-W45", "to": "2026-W45"})
    html = brand_page.content.decode()
    row = 'data-week="2026-W45"'
    assert _cell(html, "business_median_frt_s", row) == "45 min 00 s"
    assert _cell(html, "business_answered_within_target", row) == "75.0 %"
    assert "Business hours (Europe/Paris): Mon 09:00–18:00" in html and "First-response target: 1 h." in html


def test_the_digest_and_the_brand_weeks_export_carry_the_business_hours_figures(week_45):
    from incidents import exports
    from incidents.digest import digest_message
    from incidents.reports import weekly_summary

    brand, comms = week_45
    row = weekly_summary(brands=[brand], week="2026-W45", zone=brand.zone)[0]
    text = digest_message(user=comms, row=row, to=comms.email).body
    assert "Answered within target (1 h): 25.0 %" in text
    assert "Median FRT, business hours: 45 min 00 s" in text and "Within target, business hours: 75.0 %" in text
    assert "Business hours (Europe/Paris): Mon 09:00–18:00" in text
    filters = exports.filters_from({"brand": "ondine", "from": "2026-11-02", "to": "2026-11-08"})
    rows = exports.export_start(kind="brand-weeks", brands=Brand.objects.all(), filters=filters)
    body = "".join(exports.csv_chunks(kind="brand-weeks", rows=rows))
    [week] = list(csv.DictReader(io.StringIO(body)))
    assert (week["answered_within_target"], week["first_response_target_s"], week["business_median_frt_s"],
            week["business_p90_frt_s"], week["business_answered_within_target"]) == (
        "0.25", "3600", "2700", "2940", "0.75")  # seconds whole when whole (incidents.export_cells)


def test_the_mentions_export_gives_each_mention_its_business_hours_frt(week_45):
    from incidents import exports

    filters = exports.filters_from({"brand": "ondine"})
    rows = exports.export_start(kind="mentions", brands=Brand.objects.all(), filters=filters)
    body = "".join(exports.csv_chunks(kind="mentions", rows=rows))
    by_post = {r["post_id"]: r for r in csv.DictReader(io.StringIO(body))}
    assert [(by_post[p]["frt_s"], by_post[p]["business_frt_s"], by_post[p]["within_target"]) for p in "1234"] == [
        ("56700", "2700", "false"), ("1200", "1200", "true"), ("229800", "3000", "false"),
        ("", "", "false")]


def test_saving_hours_with_an_overlap_stores_nothing(make_brand):
    from django.core.exceptions import ValidationError

    brand = make_brand(name="Volta", slug="volta")
    business_hours_save(brand=brand, ranges=WEEKDAYS_9_TO_6, holidays=[])
    with pytest.raises(ValidationError, match="Monday: 09:00–12:00 overlaps 11:00–14:00"):
        business_hours_save(brand=brand, ranges={0: [(9 * 60, 12 * 60), (11 * 60, 14 * 60)]}, holidays=[])
    assert calendar_for(brand).ranges == {day: [(540, 1080)] for day in range(5)}  # the old hours stand


def _minute_by_minute(calendar: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> float:
    """The definition, walked one real minute at a time on the brand's wall clock (slow, obviously right)."""
    total, moment = 0.0, start
    while moment < end:
        local = moment.astimezone(calendar.zone)
        minute = local.hour * 60 + local.minute
        step = min(end, moment + dt.timedelta(minutes=1)) - moment
        if local.date() not in calendar.holidays and any(
                a <= minute < b for a, b in calendar.ranges.get(local.weekday(), ())):
            total += step.total_seconds()
        moment += step
    return total


@pytest.mark.parametrize("week_start", ["2026-03-23", "2026-10-19", "2026-12-21"])  # both DST weeks, Christmas
def test_business_hours_agree_with_a_minute_by_minute_walk(week_start):
    import random

    calendar = _calendar({**WEEKDAYS_9_TO_6, 5: [(10 * 60, 13 * 60)], 6: [(0, 6 * 60), (22 * 60, 24 * 60)]},
                         holidays=[dt.date(2026, 12, 25)])
    rng = random.Random(week_start)
    base = paris(f"{week_start} 00:00")
    for _ in range(40):
        start = base + dt.timedelta(minutes=rng.randint(0, 7 * 24 * 60))
        end = start + dt.timedelta(minutes=rng.randint(0, 3 * 24 * 60))
        assert calendar.open_seconds(start, end) == _minute_by_minute(calendar, start, end), (start, end)
