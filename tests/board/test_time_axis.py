"""Every chart of a board shares one time axis that shows the whole outage window, however long, in buckets that
grow with it (METRICS.md §7), never more than 300 of them."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents import board
from incidents.models import Incident

from .conftest import START

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


@pytest.mark.parametrize(("window", "bucket"), [
    (dt.timedelta(minutes=30), 1), (dt.timedelta(hours=3), 1), (dt.timedelta(hours=6), 5),
    (dt.timedelta(hours=19), 5), (dt.timedelta(hours=44), 15), (dt.timedelta(days=4), 60),
    (dt.timedelta(days=20), 180), (dt.timedelta(days=400), 2880),
])
def test_it_grows_the_buckets_with_the_window(window, bucket):
    assert board.bucket_size(window) == bucket * MIN


@settings(max_examples=200, deadline=None)
@given(minutes=st.integers(0, 3 * 365 * 24 * 60), start_offset_s=st.integers(0, 86399),
       ongoing=st.booleans(), after_s=st.integers(0, 30 * 86400))
def test_no_chart_ever_holds_more_than_300_buckets_and_the_whole_window_is_in_it(minutes, start_offset_s, ongoing,
                                                                                   after_s):
    from incidents.models import Brand

    started = START + dt.timedelta(seconds=start_offset_s)
    ended = started + dt.timedelta(minutes=minutes) + dt.timedelta(seconds=7)
    incident = Incident(brand=Brand(time_zone="Europe/Paris"), started_at=started, ended_at=None if ongoing else ended)
    now = ended + (dt.timedelta(0) if ongoing else dt.timedelta(seconds=after_s))
    axis = board.time_axis(incident=incident, now=now)
    assert 1 <= axis.n <= board.MAX_BUCKETS
    assert axis.start <= started and axis.end >= incident.window_end(now)
    assert axis.start < started or axis.step >= board.PHASE  # some of "before" shows
    assert (axis.start - board.EPOCH) % axis.step == dt.timedelta(0)  # buckets aligned as frt_quantiles keys them


def test_every_chart_of_a_board_is_on_the_one_axis(comms_client, outage):
    from django.urls import reverse

    live = comms_client.get(reverse("incidents:board_live", kwargs={"pk": outage.pk})).json()["full"]
    for chart in ("volume", "frt", "within", "tone", "official"):
        data = comms_client.get(reverse("incidents:board_chart", kwargs={"pk": outage.pk, "chart": chart})).json()
        series = data["full"]["series"]
        assert (series["start"], series["step"], series["n"]) == (live["axis"]["min"], live["axis"]["step"],
                                                                  live["axis"]["n"]), chart
        assert all(len(d["data"]) == series["n"] for d in data["full"]["datasets"]), chart


def test_it_ticks_at_round_times_of_the_brands_clock_across_a_dst_change(brand):
    # Paris moved from UTC+1 to UTC+2 at 01:00 UTC on 30 March 2025.
    started = dt.datetime(2025, 3, 29, 12, 0, tzinfo=dt.UTC)
    incident = Incident(brand=brand, started_at=started, ended_at=started + dt.timedelta(hours=20))
    with translation.override("en"):
        ticks = board.board_axis(incident=incident, now=started + dt.timedelta(days=3))["ticks"]
    times = [t["time"] for t in ticks]
    assert times and all(t.endswith(":00") for t in times)
    assert {t["date"] for t in ticks} == {"Sat 29 Mar", "Sun 30 Mar"}
    hours = [int(t[:2]) for t in times]
    assert all(h % 3 == 0 for h in hours)  # three-hourly on the Paris clock, before and after the change


def test_an_incident_of_several_weeks_still_shows_from_its_start(brand):
    incident = Incident.objects.create(brand=brand, title="Long", started_at=START - dt.timedelta(days=40))
    axis = board.time_axis(incident=incident, now=START)
    assert axis.start <= incident.started_at and axis.n <= 300 and axis.step == dt.timedelta(minutes=360)
