"""The two stories Hotline was made from, told with invented operators and every figure worked out by hand from
METRICS.md §1, §5 and §6.

*Lagune Mobile* acknowledges within minutes, posts updates, its co-CEO apologises in a video and it offers free
apps as a goodwill gesture. *Falaise Télécom* says nothing about the outage for nine days, posts promotions in
French (one of them about SMS) and finally apologises by SMS. Posts go in through ``posts_ingest`` and are
categorised by Hotline's own rules; the video, the gesture and the SMS are off-platform communications.
"""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from incidents.board import board_marks, board_tiles, chart_official
from incidents.figures import incident_figures
from incidents.models import Incident
from incidents.services import communication_record, incident_set_status
from socialfeed.normalised import NormalisedPost
from socialfeed.services import posts_ingest

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)
LAGUNE_START = dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC)
FALAISE_START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _post(pid, when, text, *, author, author_id, reply_to=None, lang="en"):
    return NormalisedPost(
        platform="x", platform_id=pid, author_id=author_id, author_handle=author, created_at=when, text=text,
        lang=lang, in_reply_to_id=reply_to.platform_id if reply_to else "",
        in_reply_to_author_id=reply_to.author_id if reply_to else "",
        conversation_id=reply_to.conversation_id if reply_to else pid, url=f"https://x.com/{author}/status/{pid}")


@pytest.fixture
def comms(make_user):
    return make_user(username="nadia", role="comms", teams=["Operators"])


@pytest.fixture
def lagune(make_brand, comms):
    """Lagune Mobile's outage, 13:00 UTC on Monday 9 March 2026, resolved 61 hours later."""
    from incidents.models import Team

    brand = make_brand(name="Lagune Mobile", slug="lagune", handle="LaguneMobile", user_id="710000001",
                       time_zone="America/Toronto", team=Team.objects.get(name="Operators"))
    incident = Incident.objects.create(brand=brand, title="Email and messaging outage", started_at=LAGUNE_START,
                                       status="investigating")
    t0 = LAGUNE_START
    us = {"author": "LaguneMobile", "author_id": "710000001"}
    m1 = _post("l-m1", t0 + 4 * MIN, "@LaguneMobile my email has stopped working, what's going on?",
               author="zoe_k", author_id="810000001")
    m2 = _post("l-m2", t0 + H, "@LaguneMobile still no messages here", author="sam_t", author_id="810000002")
    m3 = _post("l-m3", t0 + 2 * H, "@LaguneMobile day ruined, no email at all", author="ines_b", author_id="810000003")
    posts_ingest(posts=[
        m1, m2, m3,
        # 13:06, a reply: acknowledges the outage (status update), so TTA = 6 min.
        _post("l-r1", t0 + 6 * MIN, "@zoe_k We're aware of a service outage affecting email and messaging, "
              "engineers are investigating.", reply_to=m1, **us),
        _post("l-r2", t0 + H + 5 * MIN, "@sam_t Sorry about this, we're working on it right now.", reply_to=m2, **us),
        # Broadcasts: 20 min (first public update), 5 h, 14 h, then the all-clear at 60 h.
        _post("l-b1", t0 + 20 * MIN, "We are investigating a service disruption affecting email and messaging "
              "across Europe. Updates here as we know more.", **us),
        _post("l-b2", t0 + 5 * H, "Update: the cause is identified, a core switch failure. Engineers are working "
              "to restore service.", **us),
        _post("l-b3", t0 + 14 * H, "Update: engineers are working to clear the message backlog; some delays "
              "continue in Europe.", **us),
        _post("l-b4", t0 + 60 * H, "All services are now fully restored. Thank you for your patience.", **us),
    ])
    incident = Incident.objects.get(pk=incident.pk)
    # 40 h: the co-CEO's video apology; 52 h: free premium apps as a goodwill gesture. Off-platform broadcasts.
    communication_record(incident=incident, channel="video", sent_at=t0 + 40 * H, author=comms,
                         text="Our co-CEO's video message: we are truly sorry to every customer, and here is what "
                              "we are doing about it.", url="https://video.lagune.example/co-ceo-message")
    communication_record(incident=incident, channel="other", sent_at=t0 + 52 * H, author=comms, category="apology",
                         text="Goodwill gesture: free premium apps for every customer, as a thank you for your "
                              "patience.")
    # Resolved, back-dated to 61 h: the window ends then (METRICS.md §5).
    incident_set_status(incident=incident, status="resolved", author=comms, at=t0 + 61 * H)
    return Incident.objects.get(pk=incident.pk)


@pytest.fixture
def falaise(make_brand, comms):
    """Falaise Télécom's BlackBerry outage, 08:00 UTC on Monday 2 March 2026, resolved 222 hours (9 d 6 h) later."""
    from incidents.models import Team

    brand = make_brand(name="Falaise Télécom", slug="falaise", handle="FalaiseTelecom", user_id="720000001",
                       time_zone="Africa/Porto-Novo", team=Team.objects.get(name="Operators"))
    incident = Incident.objects.create(brand=brand, title="Service BlackBerry interrompu", started_at=FALAISE_START,
                                       status="investigating")
    t0 = FALAISE_START
    us = {"author": "FalaiseTelecom", "author_id": "720000001", "lang": "fr"}
    customers = [_post(f"f-m{i}", t0 + (3 + 20 * i) * H, f"@FalaiseTelecom toujours pas de BlackBerry, jour {i + 1}",
                       author=f"client{i}", author_id=f"82000000{i}", lang="fr") for i in range(5)]
    posts_ingest(posts=[
        *customers,
        # Three promotions in French, none about the outage: they acknowledge nothing and break no silence.
        _post("f-p1", t0 + 48 * H, "Nouveau : Facebook par SMS ! Mettez à jour votre statut et recevez vos "
              "notifications par simple SMS au 3232, gratuit ce mois-ci", **us),
        _post("f-p2", t0 + 96 * H, "Gagnez vos places pour le concert de Nadia Rivière samedi à Cotonou ! RT + "
              "follow pour participer", **us),
        _post("f-p3", t0 + 149 * H, "Rechargez 2000 F et recevez 500 F de bonus, profitez-en jusqu'à dimanche !", **us),
    ])
    incident = Incident.objects.get(pk=incident.pk)
    # 9 d 3 h (219 h): the SMS apology, the first word about the outage.
    communication_record(incident=incident, channel="sms", sent_at=t0 + 219 * H, author=comms,
                         text="Falaise Télécom vous présente ses excuses pour la gêne occasionnée sur le service "
                              "BlackBerry ces derniers jours.")
    incident_set_status(incident=incident, status="resolved", author=comms, at=t0 + 222 * H)
    return Incident.objects.get(pk=incident.pk)


def test_lagune_acknowledges_in_minutes_and_its_video_breaks_the_silence(lagune):
    f = incident_figures(incident=lagune, now=LAGUNE_START + 100 * H)
    assert lagune.ended_at == LAGUNE_START + 61 * H and lagune.status == "resolved"
    assert f["tta_s"] == 6 * 60 and f["acknowledged_via"] == "X reply"
    assert f["first_update_s"] == 20 * 60 and f["first_update_via"] == "X broadcast"
    # Outage-related broadcasts at 20 min, 5 h, 14 h, 40 h (video), 52 h (gesture), 60 h; the window ends at
    # 61 h. Longest gap: 14 h → 40 h = 26 h (46 h, 14 h → 60 h, if the video and the gesture were not counted).
    assert f["longest_silence_s"] == 26 * 3600
    assert f["off_message_count"] == 0
    assert f["since_last_update_s"] is None  # resolved: no "since last update"
    assert (f["mentions"], f["answered"]) == (3, 2)


def test_lagune_since_last_update_counts_from_the_video_while_it_is_ongoing(lagune):
    # As of 45 h the incident is still ongoing; the last outage-related broadcast is the 40 h video.
    f = incident_figures(incident=lagune, now=LAGUNE_START + 45 * H)
    assert f["ongoing"] and f["since_last_update_s"] == 5 * 3600 and f["last_update_via"] == "video"
    assert f["longest_silence_s"] == 26 * 3600  # 14 h → 40 h, already


def test_falaise_stays_unacknowledged_for_nine_days_whatever_it_promotes(falaise):
    # As of 5 days: three days after the "Facebook par SMS" promotion, which the first rules read as a workaround.
    f = incident_figures(incident=falaise, now=FALAISE_START + 120 * H)
    assert f["tta_s"] is None and f["first_update_s"] is None
    assert f["since_last_update_s"] == 120 * 3600  # no outage update: counted from the start
    assert f["longest_silence_s"] == 120 * 3600
    assert f["off_message_count"] == 2  # the SMS and concert promotions so far
    with translation.override("en"):
        tiles = {t["key"]: t for t in board_tiles(incident=falaise, now=FALAISE_START + 120 * H)}
    assert (tiles["tta"]["value"], tiles["tta"]["hint"]) == ("not acknowledged", "5 d 0 h so far")
    assert tiles["since_last_update"]["value"] == "5 d 0 h"
    assert tiles["since_last_update"]["hint"] == "no outage update yet: counted from the start · cadence: every 1 h"


def test_falaise_is_acknowledged_by_its_sms_after_nine_days_and_three_hours(falaise):
    f = incident_figures(incident=falaise, now=FALAISE_START + 300 * H)
    assert falaise.ended_at == FALAISE_START + 222 * H
    assert f["tta_s"] == 219 * 3600 and f["acknowledged_via"] == "SMS"
    assert f["first_update_s"] == 219 * 3600  # an off-platform communication is a broadcast
    # Outage-related broadcasts: only the SMS at 219 h; the window ends at 222 h.
    assert f["longest_silence_s"] == 219 * 3600
    assert f["off_message_count"] == 3
    assert (f["mentions"], f["answered"]) == (5, 0)
    with translation.override("en"):
        tiles = {t["key"]: t for t in board_tiles(incident=falaise, now=FALAISE_START + 300 * H)}
    assert tiles["tta"]["value"] == "9 d 3 h" and tiles["tta"]["hint"] == "by SMS"
    assert tiles["longest_silence"]["value"] == "9 d 3 h"
    assert "since_last_update" not in tiles


def test_every_chart_marks_the_video_and_the_sms_by_channel_and_counts_them_by_category(lagune, falaise):
    with translation.override("en"):
        lagune_marks = board_marks(incident=lagune, now=LAGUNE_START + 62 * H)["communications"]
        falaise_marks = board_marks(incident=falaise, now=FALAISE_START + 223 * H)["communications"]
        lagune_chart = chart_official(incident=lagune, now=LAGUNE_START + 62 * H)
    lagune_mix = {d["label"]: d["data"] for d in lagune_chart["datasets"]}
    off_platform = [m for m in lagune_marks if m["off_platform"]]
    [video] = [m for m in off_platform if m["channel"] == "Video"]
    assert video["category"] == "apology" and video["point"] == "triangle"
    assert [m["channel"] for m in off_platform].count("Other") == 1  # the goodwill gesture
    [sms] = [m for m in falaise_marks if m["off_platform"]]
    assert sms["channel"] == "SMS" and sms["category"] == "apology"
    assert sms["text"].startswith("Falaise Télécom vous présente ses excuses")
    assert not any(m["channel"] == "Video" for m in falaise_marks)
    # The video counts in its category on the official-posts chart, in its own bucket.
    series = lagune_chart["series"]
    assert lagune_mix["Apology"][(video["at"] - series["start"]) // series["step"]] >= 1
