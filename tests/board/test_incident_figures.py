"""The board's headline figures on a hand-built outage, worked out from METRICS.md §4 and §5."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from incidents.board import board_tiles
from incidents.figures import incident_figures
from incidents.models import Incident

from .conftest import END, START, at, official

pytestmark = pytest.mark.django_db


def test_it_measures_time_to_acknowledge_from_the_first_outage_related_post(outage):
    figures = incident_figures(incident=outage, now=END + dt.timedelta(days=1))
    # 10:05 is promotional, so the 10:12 apology (a reply) acknowledges; the 10:30 broadcast is the first update.
    assert figures["tta_s"] == 12 * 60
    assert figures["first_update_s"] == 30 * 60


def test_it_counts_the_longest_silence_up_to_the_window_end(outage):
    figures = incident_figures(incident=outage, now=END + dt.timedelta(days=1))
    # Broadcasts at 10:05, 10:30, 11:00; from 11:00 to the 12:00 end is the longest gap.
    assert figures["longest_silence_s"] == 3600


def test_it_counts_the_longest_silence_from_the_start(brand):
    official(brand, at(11, 10))
    incident = Incident.objects.create(brand=brand, title="Quiet start", started_at=START, ended_at=at(11, 30))
    assert incident_figures(incident=incident, now=END)["longest_silence_s"] == 70 * 60


def test_it_flags_promotional_broadcasts_inside_the_window_as_off_message(outage):
    assert incident_figures(incident=outage, now=END)["off_message_count"] == 1


def test_it_aggregates_only_mentions_created_inside_the_window(outage):
    f = incident_figures(incident=outage, now=END + dt.timedelta(hours=1))
    assert (f["mentions"], f["answered"], f["unanswered"]) == (3, 2, 1)
    assert f["reply_rate"] == pytest.approx(2 / 3)
    assert f["median_frt_s"] == pytest.approx((630 + 4200) / 2)
    assert f["p90_frt_s"] == pytest.approx(630 + 0.9 * (4200 - 630))
    assert f["answered_within_target"] == pytest.approx(1 / 3)
    assert f["net_sentiment"] == pytest.approx((1 - 2) / 3)
    assert f["oldest_unanswered_wait_s"] == (END + dt.timedelta(hours=1) - at(10, 2, 10)).total_seconds()


def test_it_counts_mentions_exactly_when_the_window_starts_mid_minute(outage):
    outage.started_at = at(10, 1, 45)  # the 10:01:30 mention falls outside, the 10:02:10 one inside
    f = incident_figures(incident=outage, now=END)
    assert (f["mentions"], f["answered"]) == (2, 1)


def test_it_says_how_long_an_unacknowledged_outage_has_gone_on(brand):
    incident = Incident.objects.create(brand=brand, title="Silent", started_at=START)
    with translation.override("en"):
        tiles = {t["key"]: t for t in board_tiles(incident=incident, now=START + dt.timedelta(hours=3, minutes=12))}
    # The value stays short enough for its tile in both languages; how long goes in the hint.
    assert (tiles["tta"]["value"], tiles["tta"]["hint"]) == ("not acknowledged", "3 h 12 min so far")
    assert tiles["reply_rate"]["value"] == "—"  # no mentions: no value, never 0


def test_it_splits_volume_into_before_during_and_after_phases(outage):
    phases = incident_figures(incident=outage, now=END + dt.timedelta(days=10))["phases"]
    assert [phases[p]["mentions"] for p in ("before", "during", "after")] == [1, 3, 1]
    assert phases["after"]["end"] == END + dt.timedelta(days=7)


def test_promotions_do_not_break_the_silence(brand):
    # METRICS.md §5: only outage-related broadcasts end a silence.
    official(brand, at(10, 20), category="promotional", text="Black Friday!")
    official(brand, at(10, 40), category="other", text="Happy Tuesday")
    official(brand, at(11, 0), text="Engineers are on site")
    incident = Incident.objects.create(brand=brand, title="Quiet", started_at=START, ended_at=at(11, 30))
    assert incident_figures(incident=incident, now=END)["longest_silence_s"] == 60 * 60  # 10:00 → 11:00


def test_it_counts_since_last_update_from_the_last_outage_related_broadcast_for_ongoing_incidents(brand):
    incident = Incident.objects.create(brand=brand, title="Ongoing", started_at=START)
    official(brand, at(10, 30), text="We are investigating")
    official(brand, at(11, 0), category="promotional", text="New phones in store")
    official(brand, at(11, 5), kind="reply", category="status_update", text="@x we are on it")  # a reply: no
    f = incident_figures(incident=incident, now=at(11, 45))
    assert f["since_last_update_s"] == 75 * 60 and f["last_update_at"] == at(10, 30)
    with translation.override("en"):
        tiles = {t["key"]: t for t in board_tiles(incident=incident, now=at(11, 45))}
    assert tiles["since_last_update"]["value"] == "1 h 15 min"
    assert tiles["since_last_update"]["hint"] == "last: 04/03 11:30, X broadcast · cadence: every 1 h"  # brand zone
    # METRICS.md §8: 1 h 15 min without an outage update is over the one-hour cadence.
    assert tiles["since_last_update"]["alert"] is True
    with translation.override("en"):
        tiles = {t["key"]: t for t in board_tiles(incident=incident, now=at(11, 15))}
    assert tiles["since_last_update"]["alert"] is False  # 45 minutes: within the cadence


def test_since_last_update_counts_from_the_start_when_there_is_no_update_and_not_at_all_once_ended(brand, outage):
    incident = Incident.objects.create(brand=brand, title="Silent", started_at=at(13, 0))
    assert incident_figures(incident=incident, now=at(14, 10))["since_last_update_s"] == 70 * 60
    assert incident_figures(incident=outage, now=END + dt.timedelta(hours=1))["since_last_update_s"] is None
    with translation.override("en"):
        assert "since_last_update" not in {t["key"] for t in board_tiles(incident=outage, now=END)}


def test_figures_as_of_a_past_moment_see_a_later_end_as_still_ongoing(outage):
    # A weekly report as of 11:30 must not see what happened after 11:30 (the 11:50 reply) nor the 12:00 end.
    f = incident_figures(incident=outage, now=at(11, 30))
    assert f["ongoing"] and f["window_end"] == at(11, 30)
    assert f["mentions"] == 3 and f["since_last_update_s"] == 30 * 60  # the 11:00 resolution broadcast


def test_it_names_the_overlapping_incidents_of_a_brand(brand, outage):
    from incidents.figures import overlapping_incidents

    inside = Incident.objects.create(brand=brand, title="Second", started_at=at(11, 0), ended_at=at(13, 0))
    after = Incident.objects.create(brand=brand, title="Later", started_at=END, ended_at=at(13, 0))
    ongoing = Incident.objects.create(brand=brand, title="Ongoing since the morning", started_at=at(8, 0))
    assert overlapping_incidents(outage) == [ongoing, inside]
    assert after not in overlapping_incidents(outage)  # [start, end): touching is not overlapping
