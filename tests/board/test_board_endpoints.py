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
    return response.json()


def test_it_shows_the_board_with_tiles_and_queue(comms_client, outage):
    response = comms_client.get(reverse("incidents:board", kwargs={"pk": outage.pk}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "12 min" in body  # time to acknowledge
    assert "still down" in body  # the unanswered mention waits in the queue
    assert "Europe/Paris" in body
    assert " style=" not in body and "<script>" not in body  # the CSP forbids inline code


def test_it_fills_every_minute_of_the_volume_chart(comms_client, outage):
    data = _json(comms_client, "board_chart", outage, chart="volume")
    minutes = (END - START) / dt.timedelta(minutes=1) + 2 * 120  # the window and two hours either side
    assert len(data["labels"]) == minutes
    assert all(len(d["data"]) == minutes for d in data["datasets"])
    assert sum(data["datasets"][0]["data"]) == 5  # 09:30, three in the window, 12:00
    assert data["labels"][120] == "11:00"  # 10:00 UTC is 11:00 in Paris
    assert data["phases"]["during"] == {"from": 120, "to": 240, "label": "outage window"}


def test_it_gives_frt_per_15_minutes_with_gaps_as_null(comms_client, outage):
    data = _json(comms_client, "board_chart", outage, chart="frt")
    assert len(data["labels"]) == 8
    median, p90, within = (d["data"] for d in data["datasets"])
    assert median[0] == pytest.approx(630 / 60, abs=0.05)  # 10:00-10:15: one answered mention
    assert median[1] is None and within[1] is None  # 10:15-10:30: nothing, but the bucket is there
    assert within[0] == 50.0  # 10:00-10:15: one of two answered within 1 h
    assert median[2] == pytest.approx(70.0)  # 10:40 answered after 4200 s


def test_it_charts_customers_net_sentiment_and_the_official_posts_categories_never_their_sentiment(
        comms_client, outage):
    from .conftest import official

    # Any sentiment model reads an apology as negative: METRICS.md §6 describes official posts by category.
    official(outage.brand, at(10, 14), kind="reply", category="apology", text="So sorry, we are on it")
    data = _json(comms_client, "board_chart", outage, chart="tone")
    by_label = {d["label"]: d for d in data["datasets"]}
    customers = by_label["Customers' net sentiment"]["data"]
    assert customers[0] == -1.0 and customers[2] == 1.0  # two negative mentions, then a positive one
    assert by_label["Official: apology"]["data"][:3] == [2, 0, 0]  # 10:12 and 10:14, per 15 minutes
    assert by_label["Official: promotional"]["data"][0] == 1  # the 10:05 promotion
    assert by_label["Official: status update"]["data"][2] == 1  # 10:30
    assert by_label["Official: workaround"]["data"][7] == 1  # the 11:50 reply
    assert all(d["yAxisID"] == "y1" and d["type"] == "bar" for d in data["datasets"][1:])
    assert not any("tone" in d["label"].lower() or "negative" in d["label"].lower() for d in data["datasets"])


def test_it_flags_off_message_posts_on_the_official_timeline(comms_client, outage):
    data = _json(comms_client, "board_chart", outage, chart="official")
    by_label = {d["label"]: d["data"] for d in data["datasets"]}
    assert len(by_label["Promotional"]) == 1
    assert len(by_label["Off-message (promotional during the outage)"]) == 1
    assert by_label["Apology"][0]["x"] == "11:12"


def test_it_serves_tiles_and_queue_in_one_live_payload(comms_client, outage):
    data = _json(comms_client, "board_live", outage)
    tiles = {t["key"]: t["value"] for t in data["tiles"]}
    assert tiles["reply_rate"] == "67 %"
    assert tiles["longest_silence"] == "1 h"
    assert [q["author"] for q in data["queue"]] and data["queue"][0]["complaint"] is True


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


def test_it_shows_an_ongoing_incident_up_to_now(comms_client, brand):
    incident = Incident.objects.create(brand=brand, title="Now", started_at=at(10, 0).replace(year=2020))
    data = _json(comms_client, "board_chart", incident, chart="volume")
    assert len(data["labels"]) <= 3 * 24 * 60  # a long outage shows its last three days per minute


def test_it_speaks_french_when_the_browser_asks(comms_client, outage):
    url = reverse("incidents:board_live", kwargs={"pk": outage.pk})
    data = comms_client.get(url, headers={"accept-language": "fr"}).json()
    tiles = {t["key"]: t for t in data["tiles"]}
    assert tiles["tta"]["label"] == "Délai de reconnaissance"
    assert tiles["longest_silence"]["value"] == "1 h"


def test_viewers_of_one_incident_share_its_figures_for_a_moment_but_never_across_teams_or_languages(
        comms_client, make_user, outage, settings):
    from django.test import Client

    from incidents.models import Team

    from .conftest import mention

    settings.BOARD_SHARED_SECONDS = 60
    first = _json(comms_client, "board_live", outage)
    mention(outage.brand, at(10, 50), text="@ondine_mobile still nothing")  # stored after the first viewer looked
    assert _json(comms_client, "board_live", outage) == first  # the same figures, as of the same moment
    french = comms_client.get(reverse("incidents:board_live", kwargs={"pk": outage.pk}),
                              headers={"accept-language": "fr"}).json()
    assert french["tiles"][0]["label"] != first["tiles"][0]["label"]  # worded for French readers, not reused
    Team.objects.create(name="Volta comms")
    other = Client()
    other.force_login(make_user(username="vera", role="comms", teams=["Volta comms"]))
    assert other.get(reverse("incidents:board_live", kwargs={"pk": outage.pk})).status_code == 404

    settings.BOARD_SHARED_SECONDS = 0
    queue = [q["text"] for q in _json(comms_client, "board_live", outage)["queue"]]
    assert "@ondine_mobile still nothing" in queue and queue != [q["text"] for q in first["queue"]]


def test_the_official_timeline_groups_a_minute_of_replies_into_one_point_but_keeps_every_broadcast(
        comms_client, outage):
    from .conftest import official

    for second in range(30):  # the brand answers 30 customers within one minute
        official(outage.brand, at(10, 20, second), kind="reply", category="apology", text=f"Sorry {second:02}")
    official(outage.brand, at(10, 20, 40), text="Engineers are on site")  # a broadcast in the same minute
    data = _json(comms_client, "board_chart", outage, chart="official")
    by_label = {d["label"]: d["data"] for d in data["datasets"]}
    apologies = by_label["Apology"]
    busy = [p for p in apologies if p["x"] == "11:20"]
    assert len(busy) == 1 and busy[0]["count"] == 30 and busy[0]["text"].startswith("30 replies this minute")
    assert [p["text"] for p in apologies if p["x"] == "11:12"] == ["Sorry, we are on it"]  # a lone reply: its text
    assert "Engineers are on site" in [p["text"] for p in by_label["Status update"] if p["x"] == "11:20"]
    assert [p["x"] for p in apologies] == sorted(p["x"] for p in apologies)
