"""The board page and its JSON endpoints: Chart.js shape, every bucket present, other teams' incidents hidden."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from incidents.models import Incident

from .conftest import END, START, at

pytestmark = pytest.mark.django_db


def _json(client, name, incident, **kwargs):
    response = client.get(reverse(f"incidents:{name}", kwargs={"pk": incident.pk, **kwargs}))
    assert response.status_code == 200
    body = response.json()
    return body["full"] if "full" in body else body


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_it_shows_the_board_with_tiles_and_queue(comms_client, outage):
    response = comms_client.get(reverse("incidents:board", kwargs={"pk": outage.pk}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "12 min" in body  # time to acknowledge
    assert "still down" in body  # the unanswered mention waits in the queue
    assert "Europe/Paris" in body
    assert " style=" not in body and "<script>" not in body  # the CSP forbids inline code


def test_it_fills_every_bucket_of_the_volume_chart_on_the_shared_axis(comms_client, outage):
    data = _json(comms_client, "board_chart", outage, chart="volume")
    axis = _json(comms_client, "board_live", outage)["axis"]
    series = data["series"]
    # A two-hour window: one-minute buckets (METRICS.md §7), 30 of "before" and 30 of "after" around it.
    assert series == {"start": _ms(at(9, 30)), "step": 60_000, "n": 180}
    assert (axis["min"], axis["max"], axis["step"]) == (_ms(at(9, 30)), _ms(at(12, 30)), 60_000)
    assert all(len(d["data"]) == 180 for d in data["datasets"])
    assert sum(data["datasets"][0]["data"]) == 5  # 09:30, three in the window, 12:00
    assert data["datasets"][0]["data"][31] == 1  # the 10:01:30 mention, in the 10:01 bucket
    assert axis["ticks"][1] == {"at": _ms(at(10, 0)), "time": "11:00", "date": "Tue 4 Mar"}  # Paris time


def test_it_gives_frt_per_bucket_with_gaps_as_null_and_the_target(comms_client, outage):
    data = _json(comms_client, "board_chart", outage, chart="frt")
    median, p90 = (d["data"] for d in data["datasets"])
    assert median[31] == pytest.approx(630 / 60, abs=0.05)  # 10:01: one answered mention, FRT 630 s
    assert median[32] is None and p90[32] is None  # 10:02: nothing answered, but the bucket is there
    assert median[70] == pytest.approx(70.0)  # 10:40 answered after 4200 s
    assert data["y"]["title"] == "minutes" and data["target"]["value"] == 60.0


def test_it_gives_the_share_answered_within_the_target_per_bucket(comms_client, outage):
    within = _json(comms_client, "board_chart", outage, chart="within")["datasets"][0]["data"]
    assert within[31] == 100.0 and within[32] == 0.0  # answered in 630 s; never answered
    assert within[70] == 0.0  # answered, but after 70 minutes
    assert within[33] is None  # no mention: no value, never 0 %


def test_it_charts_customers_net_sentiment_and_the_official_posts_categories_never_their_sentiment(
        comms_client, outage):
    from .conftest import official

    # Any sentiment model reads an apology as negative: METRICS.md §6 describes official posts by category.
    official(outage.brand, at(10, 14), kind="reply", category="apology", text="So sorry, we are on it")
    data = _json(comms_client, "board_chart", outage, chart="tone")
    assert [d["label"] for d in data["datasets"]] == ["Customers' net sentiment"]  # no "tone" of official posts
    customers = data["datasets"][0]["data"]
    assert customers[31] == -1.0 and customers[70] == 1.0  # two negative mentions, then a positive one
    mix = {d["label"]: d["data"] for d in _json(comms_client, "board_chart", outage, chart="official")["datasets"]}
    assert mix["Apology"][42] == 1 and mix["Apology"][44] == 1  # 10:12 and 10:14, in their one-minute buckets
    assert mix["Promotional"][35] == 1 and mix["Status update"][60] == 1 and mix["Workaround"][140] == 1


def test_it_marks_the_window_status_changes_and_official_broadcasts_for_every_chart(comms_client, outage):
    from incidents.services import incident_set_status

    incident_set_status(incident=outage, status="identified", note="Router")
    outage.events.update(at=at(10, 20))
    marks = _json(comms_client, "board_live", outage)["marks"]
    assert marks["window"]["from"] == _ms(START) and marks["window"]["to"] == _ms(END)
    assert [p["label"] for p in marks["phases"]] == ["before", "after"]
    assert marks["statuses"] == [{"at": _ms(at(10, 20)), "label": "identified"}]
    shown = [(c["at"], c["category"], c["off_message"]) for c in marks["communications"]]
    assert shown == [(_ms(at(9, 50)), "status_update", False), (_ms(at(10, 5)), "promotional", True),
                     (_ms(at(10, 30)), "status_update", False), (_ms(at(11, 0)), "resolution", False)]
    # No outage-related broadcast for longer than the one-hour cadence: 10:00-10:30 is fine, 11:00-12:00 is not
    # (exactly one hour), so no stretch is marked.
    assert marks["silences"] == []


def test_it_stacks_official_posts_per_bucket_by_category(comms_client, outage):
    data = _json(comms_client, "board_chart", outage, chart="official")
    by_label = {d["label"]: d["data"] for d in data["datasets"]}
    assert by_label["Promotional"][35] == 1 and by_label["Apology"][42] == 1
    assert sum(sum(values) for values in by_label.values()) == 6
    assert data["stacked"] is True


def test_it_lists_the_posts_of_a_clicked_bucket(comms_client, outage):
    url = reverse("incidents:board_bucket", kwargs={"pk": outage.pk})
    bucket = comms_client.get(url, {"at": _ms(at(10, 1, 45))}).json()
    assert bucket["mentions"]["count"] == 1 and bucket["mentions"]["items"][0]["answered"] is True
    assert "11:01" in bucket["title"]  # Paris time
    refused = comms_client.get(url, {"at": "yesterday"})
    assert refused.status_code == 400 and "yesterday" in refused.json()["error"]
    assert comms_client.get(url, {"at": _ms(at(20, 0))}).status_code == 400  # off the axis


def test_it_serves_tiles_in_the_live_payload(comms_client, outage):
    data = _json(comms_client, "board_live", outage)
    tiles = {t["key"]: t["value"] for t in data["tiles"]}
    assert tiles["reply_rate"] == "67 %"
    assert tiles["longest_silence"] == "1 h"
    # METRICS.md §8: the 10:02:10 mention waits past the target, the 10:40 one was answered after 70 minutes.
    assert tiles["breaches"] == "2"


def test_it_hides_another_teams_incident(client, make_user, make_brand, outage):
    from incidents.models import Team

    other_team = Team.objects.create(name="Volta comms")
    other = make_brand(name="Volta Energie", slug="volta", team=other_team)
    theirs = Incident.objects.create(brand=other, title="Blackout", started_at=START, ended_at=END)
    client.force_login(make_user(username="vera", role="comms", teams=["Volta comms"]))
    for name, kwargs in (("board", {}), ("board_live", {}), ("board_chart", {"chart": "volume"}), ("edit", {})):
        assert client.get(reverse(f"incidents:{name}", kwargs={"pk": outage.pk, **kwargs})).status_code == 404
    assert client.get(reverse("incidents:board", kwargs={"pk": theirs.pk})).status_code == 200


def test_it_lets_comms_add_a_note_and_move_the_status(comms_client, outage):
    url = reverse("incidents:event", kwargs={"pk": outage.pk})
    comms_client.post(url, {"text": "Engineers found the faulty router", "status": "identified"})
    outage.refresh_from_db()
    assert outage.status == "identified"
    board = comms_client.get(reverse("incidents:board", kwargs={"pk": outage.pk})).content.decode()
    assert "Engineers found the faulty router" in board


def test_it_refuses_notes_from_readers(client, make_user, outage):
    client.force_login(make_user(username="max", role="manager", teams=["Ondine comms"]))
    response = client.post(reverse("incidents:event", kwargs={"pk": outage.pk}), {"text": "hi"})
    assert response.status_code == 403
    assert not outage.events.exists()


def test_it_shows_the_whole_window_of_a_long_ongoing_incident_in_at_most_300_buckets(comms_client, brand):
    incident = Incident.objects.create(brand=brand, title="Now", started_at=at(10, 0).replace(year=2020))
    data = _json(comms_client, "board_chart", incident, chart="volume")
    axis = _json(comms_client, "board_live", incident)["axis"]
    assert data["series"]["n"] <= 300 and data["series"]["n"] == axis["n"]
    assert axis["min"] <= _ms(incident.started_at)  # the whole window, not its last days


def test_it_speaks_french_when_the_browser_asks(comms_client, outage):
    url = reverse("incidents:board_live", kwargs={"pk": outage.pk})
    data = comms_client.get(url, headers={"accept-language": "fr"}).json()["full"]
    tiles = {t["key"]: t for t in data["tiles"]}
    assert tiles["tta"]["label"] == "Délai de reconnaissance"
    assert tiles["longest_silence"]["value"] == "1 h"
    assert data["marks"]["window"]["label"] == "fenêtre de panne"


def test_viewers_of_one_incident_share_its_figures_for_a_moment_but_never_across_teams_or_languages(
        comms_client, make_user, outage, settings):
    from django.test import Client

    from incidents.models import Team
    from socialfeed.rollups import rollups_rebuild

    from .conftest import mention

    # A cache of this test's own: a shared Redis would hold payloads of an earlier run's incident of the same id.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "share"}}
    settings.BOARD_SHARED_SECONDS = 60
    first = _json(comms_client, "board_live", outage)
    mention(outage.brand, at(10, 50), text="@ondine_mobile still nothing")  # stored after the first viewer looked
    assert _json(comms_client, "board_live", outage) == first  # the same figures, as of the same moment
    french = comms_client.get(reverse("incidents:board_live", kwargs={"pk": outage.pk}),
                              headers={"accept-language": "fr"}).json()["full"]
    assert french["tiles"][0]["label"] != first["tiles"][0]["label"]  # worded for French readers, not reused
    Team.objects.create(name="Volta comms")
    other = Client()
    other.force_login(make_user(username="vera", role="comms", teams=["Volta comms"]))
    assert other.get(reverse("incidents:board_live", kwargs={"pk": outage.pk})).status_code == 404

    settings.BOARD_SHARED_SECONDS = 0
    rollups_rebuild(brand_id=outage.brand_id)
    tiles = {t["key"]: t["value"] for t in _json(comms_client, "board_live", outage)["tiles"]}
    assert tiles["mentions"] == "4"
