"""CSV downloads: who may export, which rows, filters, formula neutralisation, streaming and the audit log."""
from __future__ import annotations

import csv
import io
import zoneinfo

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from incidents import reports
from incidents.export_cells import figure
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
    # Another team's brand is answered exactly as a brand that does not exist: nothing leaks about it.
    asked_for_other = client.get(reverse("reports:export", args=["mentions"]), {"brand": "volta-energie"})
    asked_for_none = client.get(reverse("reports:export", args=["mentions"]), {"brand": "nope"})
    assert asked_for_other.status_code == asked_for_none.status_code == 400
    assert asked_for_other.content.decode() == "There is no brand 'volta-energie' among your brands."
    assert asked_for_none.content.decode() == "There is no brand 'nope' among your brands."
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
        for name in ("reply_rate", "median_frt_s", "p90_frt_s", "answered_within_target"):
            value = figure(name, getattr(stats, name))
            assert row[name] == ("" if value is None else str(value))
    assert rows[0]["mentions"] == "0" and rows[0]["reply_rate"] == ""
    assert rows[1]["week_start_local"] == "2026-11-02T00:00:00+01:00"


@pytest.mark.parametrize("params, reason", [
    ({"brand": "nope"}, "There is no brand 'nope' among your brands."),
    ({"platform": "myspace"}, "platform 'myspace' is not one Hotline reads: choose one of x, mastodon, bluesky, "
                              "reddit, feed."),
    ({"from": "2026-11-09", "to": "2026-11-02"}, "from '2026-11-09' must come before to '2026-11-02'."),
    ({"from": "2026-11-09T10:00Z", "to": "2026-11-09T10:00Z"},
     "from '2026-11-09T10:00Z' must come before to '2026-11-09T10:00Z'."),
    ({"incident": "²"}, "incident '²' is not an incident number."),
    ({"incident": "9" * 400}, f"incident '{'9' * 64}…' is not an incident number."),
    ({"bom": "yes"}, "bom must be 1 or 0, not 'yes'."),
    ({"raw": "true"}, "raw must be 1 or 0, not 'true'."),
])
@pytest.mark.parametrize("kind", ["mentions", "brand-weeks"])
def test_it_answers_400_with_the_reason_for_a_filter_it_cannot_use(client, world, params, reason, kind):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    response = client.get(reverse("reports:export", args=[kind]), params)
    assert response.status_code == 400
    assert response.content.decode() == reason
    assert not AuditEntry.objects.filter(action="export").exists()


HOSTILE = '=HYPERLINK("http://evil.example","x")'
GUID = '=HYPERLINK("http://evil.example","feed")'


def _is_number(cell: str) -> bool:
    """A figure such as -0.5952: a spreadsheet reads it as the number it is, nothing runs."""
    try:
        float(cell)
    except ValueError:
        return False
    return cell.strip() == cell


def test_it_neutralises_every_text_cell_of_every_export_unless_raw_is_asked_for(client, world, ingest):
    from incidents.export_cells import FORMULA_START
    from incidents.models import OfficialAccount
    from socialfeed.normalised import NormalisedPost

    ondine, volta, analyst, incident = world
    feed = "https://status.ondine.example/feed.atom"
    OfficialAccount.objects.create(brand=ondine, platform="feed", handle="Ondine status", platform_user_id=feed)
    # Every text field a platform or a feed controls, set to a formula: a customer post (matched by the tracking
    # term) and an official status-feed entry whose guid is one.
    ingest(NormalisedPost(platform="mastodon", platform_id=HOSTILE, author_id=HOSTILE, author_handle=HOSTILE,
                          created_at=at("2026-11-05 09:30:00"), text="-Ondine is down again", lang="=1+1",
                          in_reply_to_id=HOSTILE, in_reply_to_author_id="+" + HOSTILE, conversation_id="@" + HOSTILE,
                          url="https://mastodon.example/@x/1"),
           NormalisedPost(platform="feed", platform_id=GUID, author_id=feed, author_handle="=Ondine status",
                          created_at=at("2026-11-05 09:40:00"), text="+Investigating a data outage", lang="+fr",
                          url="https://status.ondine.example/1"))
    Incident.objects.filter(pk=incident.pk).update(title="=cmd|' /C calc'!A0", affected_services="@SUM(1+1)",
                                                   affected_regions="\rEverywhere")
    client.force_login(analyst)
    for kind in KINDS:
        rows = [r for r in csv.reader(io.StringIO(b"".join(client.get(
            reverse("reports:export", args=[kind]), {"from": "2026-11-02", "to": "2026-11-08"}).streaming_content
        ).decode()))][1:]
        cells = [cell for row in rows for cell in row]
        assert cells, kind
        unsafe = [cell for cell in cells if cell and cell[0] in FORMULA_START and not _is_number(cell)]
        assert not unsafe, f"{kind}: {unsafe}"
        raw = [cell for row in csv.reader(io.StringIO(b"".join(client.get(
            reverse("reports:export", args=[kind]), {"from": "2026-11-02", "to": "2026-11-08", "raw": "1"}
        ).streaming_content).decode())) for cell in row]
        if kind != "brand-weeks":  # figures only: nothing a platform wrote
            assert {"'" + HOSTILE, "'" + GUID, "'=cmd|' /C calc'!A0"} & set(cells), kind
            assert {HOSTILE, GUID, "=cmd|' /C calc'!A0"} & set(raw), kind
    posts = {r["post_id"]: r for r in _rows(client.get(reverse("reports:export", args=["posts"])))}
    hostile = posts["'" + HOSTILE]
    assert (hostile["lang"], hostile["in_reply_to_id"], hostile["in_reply_to_author_id"], hostile["conversation_id"]) \
        == ("'=1+1", "'" + HOSTILE, "'+" + HOSTILE, "'@" + HOSTILE)
    official = _rows(client.get(reverse("reports:export", args=["official-posts"]), {"platform": "feed"}))
    assert [(r["post_id"], r["author_handle"], r["lang"]) for r in official] == [
        ("'" + GUID, "'=Ondine status", "'+fr")]
    audit = AuditEntry.objects.filter(action="export", details__raw=True)
    assert audit.count() == len(KINDS) and audit.first().user == analyst


def test_it_rounds_ratios_to_4_decimals_and_seconds_to_whole_or_3_decimals(client, world, conversation):
    from incidents import export_cells

    ondine, volta, analyst, incident = world
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-03 09:00:00"), reply_after_s=101880.25,
                 pid=3, author="c3")
    client.force_login(analyst)
    week = next(r for r in _rows(client.get(reverse("reports:export", args=["brand-weeks"]),
                                            {"brand": "ondine-mobile", "from": "2026-11-02", "to": "2026-11-08"}))
                if r["week"] == "2026-W45")
    assert week["mentions"] == "3" and week["answered"] == "2"
    assert week["reply_rate"] == "0.6667"  # 2/3
    assert week["median_frt_s"] == "51002.625"  # (125 + 101880.25) / 2
    mention = next(r for r in _rows(client.get(reverse("reports:export", args=["mentions"]))) if r["post_id"] == "3")
    assert mention["frt_s"] == "101880.25"
    assert len(mention["sentiment_score"].split(".")[-1]) <= 4
    assert export_cells.ratio(0.08070175438596491) == 0.0807 and export_cells.ratio(-0.00001) == 0.0
    assert export_cells.seconds(101880.00000000001) == 101880 and str(export_cells.seconds(90.0)) == "90"
    assert export_cells.seconds(12.34567) == 12.346 and export_cells.seconds(None) is None


def test_it_names_the_download_from_checked_slugs_only(client, world):
    from django.utils import timezone

    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    today = timezone.now().date().isoformat()
    url = reverse("reports:export", args=["mentions"])
    assert client.get(url, {"brand": "ondine-mobile"})["Content-Disposition"] == \
        f'attachment; filename="hotline-mentions-ondine-mobile-{today}.csv"'
    assert client.get(url, {"incident": incident.pk, "raw": "1"})["Content-Disposition"] == \
        f'attachment; filename="hotline-mentions-incident-{incident.pk}-raw-{today}.csv"'
    assert client.get(url, {"brand": 'ondine-mobile"; filename="evil.exe'}).status_code == 400


def test_it_refuses_the_export_to_staff_who_are_not_analysts(client, world, make_user):
    from django.contrib.auth.models import Permission

    for role in ("comms", "manager"):
        staff = make_user(username=f"staff-{role}", role=role, teams=["Telecom"])
        staff.is_staff = True
        staff.save()
        staff.user_permissions.set(Permission.objects.filter(content_type__app_label="incidents"))
        client.force_login(staff)
        assert client.get(reverse("reports:export", args=["mentions"])).status_code == 403
        assert "Download CSV" not in client.get(reverse("reports:week")).content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_pages_offer_the_raw_csv_as_a_separate_knowing_choice(client, world):
    ondine, volta, analyst, incident = world
    client.force_login(analyst)
    week = client.get(reverse("reports:week"), {"week": "2026-W45"}).content.decode()
    assert "raw=1\">Raw CSV (pandas, BI tools; not for spreadsheets)</a>" in week
    brand = client.get(reverse("reports:brand", args=["ondine-mobile"])).content.decode()
    assert 'name="raw" value="1"' in brand and "never open it in a spreadsheet" in brand
    assert 'name="raw" value="1" checked' not in brand
