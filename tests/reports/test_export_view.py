"""CSV downloads: who may export, which rows, filters, formula neutralisation, streaming and the audit log."""
from __future__ import annotations

import csv
import io
import zoneinfo

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from incidents import reports
from incidents.exports import KINDS
from incidents.models import AuditEntry, Incident, Team
from socialfeed.selectors import response_stats

from .conftest import at


def _rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


@pytest.fixture
def world(make_brand, make_user, conversation, tweet, ingest):
    ondine = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900", terms=["Ondine"])
    volta = make_brand(name="Volta Energie", handle="volta_energie", user_id="901")
    analyst = make_user(username="ana", role="analyst", teams=["Telecom"])
    make_user(username="bob", role="analyst", teams=["Energy"])
    make_user(username="carla", role="comms", teams=["Telecom"])
    Team.objects.get(name="Telecom").brands.add(ondine)
    Team.objects.get(name="Energy").brands.add(volta)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-02 09:00:00"), reply_after_s=125, pid=1)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-05 09:00:00"), reply_after_s=None, pid=2,
                 text="@ondine_mobile =HYPERLINK(\"http://evil.example\",\"click\") still no signal")
    ingest(tweet("m1", at("2026-11-09 09:00:00"), "Is the Ondine app down for anyone else?",
                 platform="mastodon", author="lea"))
    conversation(handle="volta_energie", user_id="901", when=at("2026-11-03 09:00:00"), reply_after_s=60, pid=10)
    incident = Incident.objects.create(brand=ondine, title="Signal lost", started_at=at("2026-11-05 08:00:00"),
                                       ended_at=at("2026-11-05 12:00:00"))
    return ondine, volta, analyst, incident


def test_it_refuses_the_export_to_a_comms_user(client, world):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="carla"))
    assert client.get(reverse("reports:export", args=["mentions"])).status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_it_gives_an_analyst_no_row_of_another_teams_brand(client, world):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    rows = _rows(client.get(reverse("reports:export", args=["mentions"])))
    assert {r["brand"] for r in rows} == {"ondine-mobile"}
    asked_for_other = _rows(client.get(reverse("reports:export", args=["mentions"]), {"brand": "volta-energie"}))
    assert asked_for_other == []
    for kind in KINDS:
        body = b"".join(client.get(reverse("reports:export", args=[kind])).streaming_content).decode()
        assert "volta" not in body


def test_it_exports_every_mention_column_with_its_first_response(client, world):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    response = client.get(reverse("reports:export", args=["mentions"]), {"brand": "ondine-mobile"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    rows = _rows(response)
    assert list(rows[0])[:17] == ["brand", "platform", "post_id", "url", "author_id", "author_handle",
                                  "created_at_utc", "created_at_local", "text", "lang", "matched_by",
                                  "sentiment_score", "sentiment_label", "tone_analyser", "complaint", "answered",
                                  "first_response_id"]
    first = rows[0]
    assert first["post_id"] == "1"
    assert first["created_at_utc"] == "2026-11-02T09:00:00+00:00"
    assert first["created_at_local"] == "2026-11-02T10:00:00+01:00"
    assert first["answered"] == "true" and first["first_response_id"] == "1r"
    assert first["first_response_at_utc"] == "2026-11-02T09:02:05+00:00"
    assert float(first["frt_s"]) == 125
    assert first["incident_id"] == ""
    assert rows[1]["incident_id"] == str(incident.pk)
    assert rows[1]["answered"] == "false" and rows[1]["frt_s"] == ""


def test_it_neutralises_cells_a_spreadsheet_would_run_as_a_formula(client, world, tweet, ingest):
    ondine, volta, analyst, incident = world
    for pid, text in (("f1", "=1+2 @ondine_mobile"), ("f2", "+33 6 @ondine_mobile"), ("f3", "-2 @ondine_mobile"),
                      ("f4", "@ondine_mobile help")):
        ingest(tweet(pid, at("2026-11-06 09:00:00"), text, author="@evil" if pid == "f4" else "mallory"))
    client.force_login(analyst)
    rows = {r["post_id"]: r for r in _rows(client.get(reverse("reports:export", args=["mentions"])))}
    assert rows["f1"]["text"] == "'=1+2 @ondine_mobile"
    assert rows["f2"]["text"] == "'+33 6 @ondine_mobile"
    assert rows["f3"]["text"] == "'-2 @ondine_mobile"
    assert rows["f4"]["text"] == "'@ondine_mobile help"
    assert rows["f4"]["author_handle"] == "'@evil"
    assert rows["2"]["text"] == "'@ondine_mobile =HYPERLINK(\"http://evil.example\",\"click\") still no signal"


def test_it_keeps_the_pages_filters(client, world):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    url = reverse("reports:export", args=["mentions"])
    by_date = _rows(client.get(url, {"from": "2026-11-04", "to": "2026-11-08"}))
    assert [r["post_id"] for r in by_date] == ["2"]
    by_platform = _rows(client.get(url, {"platform": "mastodon"}))
    assert [r["post_id"] for r in by_platform] == ["m1"]
    by_incident = _rows(client.get(url, {"incident": incident.pk}))
    assert [r["post_id"] for r in by_incident] == ["2"]
    assert client.get(url, {"from": "last tuesday"}).status_code == 400
    # Another team's incident number answers like an unknown one.
    other = Incident.objects.create(brand=volta, title="Grid", started_at=at("2026-11-03 08:00:00"))
    assert client.get(url, {"incident": other.pk}).status_code == 400


def test_it_records_each_export_in_the_audit_log(client, world):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    b"".join(client.get(reverse("reports:export", args=["official-posts"]), {"brand": "ondine-mobile",
                                                                              "platform": "x"}).streaming_content)
    entry = AuditEntry.objects.get(action="export")
    assert entry.user == analyst and entry.target == "official-posts"
    assert entry.details == {"kind": "official-posts", "brand": "ondine-mobile", "platform": "x"}


def test_it_starts_with_a_bom_for_excel_only_when_asked(client, world):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    url = reverse("reports:export", args=["posts"])
    plain = b"".join(client.get(url).streaming_content)
    excel = b"".join(client.get(url, {"bom": "1"}).streaming_content)
    assert plain.startswith(b"platform,post_id,")
    assert excel.startswith(b"\xef\xbb\xbfplatform,post_id,")


def test_it_exports_official_posts_and_incidents(client, world):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    official = _rows(client.get(reverse("reports:export", args=["official-posts"])))
    assert [r["post_id"] for r in official] == ["1r"]
    assert official[0]["official_kind"] == "reply"
    incidents = _rows(client.get(reverse("reports:export", args=["incidents"])))
    assert len(incidents) == 1
    row = incidents[0]
    assert row["incident_id"] == str(incident.pk) and row["acknowledged"] == "false" and row["tta_s"] == ""
    assert float(row["longest_silence_s"]) == 4 * 3600
    assert row["during_mentions"] == "1" and row["during_reply_rate"] == "0.0"


def test_it_agrees_with_response_stats_in_the_brand_weeks_export(client, world):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    rows = _rows(client.get(reverse("reports:export", args=["brand-weeks"]),
                            {"brand": "ondine-mobile", "from": "2026-10-26", "to": "2026-11-15"}))
    assert [r["week"] for r in rows] == ["2026-W44", "2026-W45", "2026-W46"]
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    for row in rows:
        start, end = reports.week_bounds(week=row["week"], zone=paris)
        stats = response_stats(brands=[ondine], start=start, end=end)[0]
        assert int(row["mentions"]) == stats.mentions
        for figure in ("reply_rate", "median_frt_s", "p90_frt_s", "answered_within_target"):
            value = getattr(stats, figure)
            assert row[figure] == ("" if value is None else str(value))
    assert rows[0]["mentions"] == "0" and rows[0]["reply_rate"] == ""
    assert rows[1]["week_start_local"] == "2026-11-02T00:00:00+01:00"
