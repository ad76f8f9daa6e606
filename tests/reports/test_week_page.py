"""The weekly summary page: one row per brand, figures from response_stats, changes, trend, league table."""
from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse

from incidents import reports
from incidents.models import Incident
from incidents.templatetags.report_format import duration, percent
from socialfeed.models import Mention
from socialfeed.selectors import response_stats

from .conftest import at

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WEEK = "2026-W45"  # Mon 2 Nov – Sun 8 Nov 2026, Paris is on CET (UTC+1) all week


def _cell(html: str, brand_slug: str, figure: str) -> str:
    row = re.search(rf'<tr data-brand="{brand_slug}">(.*?)</tr>', html, re.S).group(1)
    cell = re.search(rf'<td data-figure="{figure}">(.*?)(<span class="delta">|</td>)', row, re.S).group(1)
    return cell.strip()


@pytest.fixture
def two_brands(make_brand, make_user, conversation):
    ondine = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900", team=None)
    volta = make_brand(name="Volta Energie", handle="volta_energie", user_id="901")
    manager = make_user(username="maud", role="manager", teams=["Telecom"])
    from incidents.models import Team

    Team.objects.get(name="Telecom").brands.add(ondine, volta)
    # Ondine, this week: answered after 2 min, 30 min, 2 h 10 min 7 s, one never answered.
    for pid, when, after in ((1, "2026-11-02 09:00:00", 120), (2, "2026-11-03 10:00:00", 1800),
                             (3, "2026-11-04 11:00:00", 7807), (4, "2026-11-05 12:00:00", None)):
        conversation(handle="ondine_mobile", user_id="900", when=at(when), reply_after_s=after, pid=pid)
    # Ondine, week before: one mention answered after 10 min.
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-10-28 09:00:00"), reply_after_s=600, pid=5)
    # Volta: nothing this week at all.
    return ondine, volta, manager


def test_it_agrees_with_response_stats_to_the_second(client, two_brands):
    ondine, volta, manager = two_brands
    client.force_login(manager)
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    start, end = reports.week_bounds(week=WEEK, zone=PARIS)
    as_of = end  # a past week's figures are as of its end, on the page as in the digest
    stats = {s.brand_slug: s for s in response_stats(brands=[ondine], start=start, end=end, as_of=as_of)}["ondine-mobile"]
    assert stats.mentions == 4
    assert _cell(html, "ondine-mobile", "mentions") == "4"
    assert _cell(html, "ondine-mobile", "reply_rate") == percent(stats.reply_rate) == "75.0 %"
    assert _cell(html, "ondine-mobile", "answered_within_target") == percent(stats.answered_within_target) == "50.0 %"
    assert _cell(html, "ondine-mobile", "median_frt_s") == duration(stats.median_frt_s) == "30 min 00 s"
    assert _cell(html, "ondine-mobile", "p90_frt_s") == duration(stats.p90_frt_s)
    assert _cell(html, "ondine-mobile", "km_median_s") == duration(stats.km_median_s)


def test_it_shows_a_dash_for_an_empty_week_never_zero_percent(client, two_brands):
    ondine, volta, manager = two_brands
    client.force_login(manager)
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    assert _cell(html, "volta-energie", "mentions") == "0"
    for figure in ("reply_rate", "answered_within_target", "median_frt_s", "p90_frt_s", "km_median_s", "net_sentiment"):
        assert _cell(html, "volta-energie", figure) == "—"
    row = re.search(r'<tr data-brand="volta-energie">(.*?)</tr>', html, re.S).group(1)
    assert "0 %" not in row and "0.0 %" not in row


def test_it_shows_the_change_against_the_previous_week_and_an_eight_week_trend(client, two_brands):
    ondine, volta, manager = two_brands
    client.force_login(manager)
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    row = re.search(r'<tr data-brand="ondine-mobile">(.*?)</tr>', html, re.S).group(1)
    # Reply rate 100 % the week before, 75 % now: −25 points; 1 mention then, 4 now.
    assert "-25.0 pt" in row
    assert '<span class="delta">+3</span>' in row
    trend = reports.weekly_summary(brands=[ondine], week=WEEK, zone=PARIS)[0].trend
    assert [w.week for w in trend] == [reports.week_shift(WEEK, -i) for i in range(7, -1, -1)]
    assert '<svg class="sparkline"' in row
    # CSP forbids 'unsafe-inline': the page carries no inline script or style attribute.
    assert "style=" not in html and "<script>" not in html


def test_it_sorts_the_league_table_by_any_column(client, two_brands):
    ondine, volta, manager = two_brands
    client.force_login(manager)
    url = reverse("reports:week")
    by_mentions = client.get(url, {"week": WEEK, "sort": "-mentions"}).content.decode()
    assert by_mentions.index('data-brand="ondine-mobile"') < by_mentions.index('data-brand="volta-energie"')
    by_mentions_up = client.get(url, {"week": WEEK, "sort": "mentions"}).content.decode()
    assert by_mentions_up.index('data-brand="volta-energie"') < by_mentions_up.index('data-brand="ondine-mobile"')
    # A brand without a reply rate goes last whichever the direction.
    for sort in ("reply_rate", "-reply_rate"):
        html = client.get(url, {"week": WEEK, "sort": sort}).content.decode()
        assert html.index('data-brand="ondine-mobile"') < html.index('data-brand="volta-energie"')
    assert 'aria-sort="descending"' in by_mentions


def test_it_shows_only_the_brands_of_the_viewers_teams(client, make_brand, make_user, conversation):
    mine = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900")
    other = make_brand(name="Volta Energie", handle="volta_energie", user_id="901")
    user = make_user(username="maud", role="manager", teams=["Telecom"])
    from incidents.models import Team

    Team.objects.get(name="Telecom").brands.add(mine)
    del other
    client.force_login(user)
    html = client.get(reverse("reports:week"), {"week": WEEK}).content.decode()
    assert 'data-brand="ondine-mobile"' in html
    assert "Volta" not in html
    assert client.get(reverse("reports:brand", args=["volta-energie"])).status_code == 404


def test_it_lists_the_incidents_of_the_week_with_their_time_to_acknowledge(client, two_brands, tweet, ingest):
    ondine, volta, manager = two_brands
    Incident.objects.create(brand=ondine, title="Fibre outage in Lyon", started_at=at("2026-11-04 10:00:00"),
                            ended_at=at("2026-11-04 14:00:00"))
    # The brand apologises 25 min in, then stays silent until the end.
    ingest(tweet("ack1", at("2026-11-04 10:25:00"), "We are sorry: our network is down in Lyon, we are on it.",
                 author="ondine_mobile", author_id="900"))
    client.force_login(manager)
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    row = re.search(r'<tr data-brand="ondine-mobile">(.*?)</tr>', html, re.S).group(1)
    assert "Fibre outage in Lyon" in row
    from incidents.figures import incident_figures

    figures = incident_figures(incident=Incident.objects.get())
    assert f"TTA {duration(figures['tta_s'])}" in row
    assert f"longest silence {duration(figures['longest_silence_s'])}" in row


def test_it_counts_the_week_of_the_dst_change_in_the_brand_time_zone(client, make_brand, make_user, conversation):
    """Paris leaves summer time on Sunday 25 October 2026 at 03:00: week 2026-W43 lasts 169 hours."""
    brand = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900")
    user = make_user(username="maud", role="manager", teams=["Telecom"])
    from incidents.models import Team

    Team.objects.get(name="Telecom").brands.add(brand)
    start, end = reports.week_bounds(week="2026-W43", zone=PARIS)
    assert start == at("2026-10-18 22:00:00")  # Mon 19 Oct 00:00 CEST
    assert end == at("2026-10-25 23:00:00")  # Mon 26 Oct 00:00 CET
    assert end - start == timedelta(hours=169)
    inside = [("a", "2026-10-18 22:30:00"), ("b", "2026-10-25 22:30:00")]  # Mon 00:30 CEST, Sun 23:30 CET
    outside = [("c", "2026-10-18 21:30:00"), ("d", "2026-10-25 23:30:00")]  # Sun 23:30 CEST, Mon 00:30 CET
    for pid, when in inside + outside:
        conversation(handle="ondine_mobile", user_id="900", when=at(when), reply_after_s=60, pid=pid)
    week = reports.brand_weeks(brands=[brand], week="2026-W43", zone=PARIS)[0]
    assert week.mentions == 2
    client.force_login(user)
    html = client.get(reverse("reports:week"), {"week": "2026-W43", "tz": "Europe/Paris"}).content.decode()
    assert _cell(html, "ondine-mobile", "mentions") == "2"
    # The two just outside fall in the neighbouring weeks, so nothing is lost or counted twice.
    assert reports.brand_weeks(brands=[brand], week="2026-W42", zone=PARIS)[0].mentions == 1
    assert reports.brand_weeks(brands=[brand], week="2026-W44", zone=PARIS)[0].mentions == 1
    assert Mention.objects.count() == 4


def test_it_offers_the_weeks_table_as_csv_to_analysts_for_the_same_week(client, make_brand, make_user, conversation):
    paris = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900")
    tokyo = make_brand(name="Sakura Net", handle="sakura_net", user_id="902", time_zone="Asia/Tokyo")
    analyst = make_user(username="ana", role="analyst", teams=["Telecom"])
    from incidents.models import Team

    Team.objects.get(name="Telecom").brands.add(paris, tokyo)
    client.force_login(analyst)
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    link = re.search(r'href="(/reports/export/brand-weeks\.csv\?[^"]+)"', html).group(1).replace("&amp;", "&")
    body = b"".join(client.get(link).streaming_content).decode()
    weeks = {(line.split(",")[0], line.split(",")[1]) for line in body.splitlines()[1:]}
    assert weeks == {("ondine-mobile", WEEK), ("sakura-net", WEEK)}


def test_it_says_which_tone_tier_read_the_weeks_mentions(client, two_brands):
    from socialfeed.models import Mention, Post

    ondine, _volta, manager = two_brands
    client.force_login(manager)
    start, end = reports.week_bounds(week=WEEK, zone=PARIS)
    week_posts = Mention.objects.filter(brand=ondine, created_at__gte=start, created_at__lt=end).values("post_id")
    Post.objects.filter(pk__in=week_posts[:1]).update(tone_analyser="hotline-e5/1.test+3.test")
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    assert "read by the accurate tone tier for 1 of 4 mentions" in html
    brand_page = client.get(reverse("reports:brand", kwargs={"slug": ondine.slug}),
                            {"from": WEEK, "to": WEEK}).content.decode()
    assert "read by the accurate tone tier for 1 of 4 mentions" in brand_page
