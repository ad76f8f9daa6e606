"""The figures a new user found wrong on the weekly page, the digest and the downloads, each checked the way they
noticed it."""
from __future__ import annotations

import csv
import io
import re
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse

from incidents import digest, reports
from incidents.models import DigestSubscription, Incident, Team
from incidents.services import communication_record

from .conftest import at

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WEEK = "2026-W48"  # Monday 23 November – Monday 30 November 2026, Paris on CET (UTC+1)


@pytest.fixture
def manager(make_brand, make_user):
    brand = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900")
    user = make_user(username="maud", role="analyst", teams=["Telecom"])
    user.email = "maud@example.org"
    user.save()
    Team.objects.get(name="Telecom").brands.add(brand)
    return user, brand


def _cell(html: str, slug: str, figure: str) -> str:
    row = re.search(rf'<tr data-brand="{slug}">(.*?)</tr>', html, re.S).group(1)
    return re.search(rf'<td data-figure="{figure}">(.*?)(<span class="delta">|</td>)', row, re.S).group(1).strip()


def _digest(user, brand, *, now) -> str:
    """The digest's text as the subscriber receives it (the caller points EMAIL_BACKEND at locmem)."""
    DigestSubscription.objects.get_or_create(user=user, brand=brand, defaults={"time_zone": "Europe/Paris"})
    assert digest.digests_send_due(now=now).sent == 1
    return mail.outbox[-1].body


def test_the_week_bounds_are_printed_in_the_chosen_zone_on_the_page_and_in_the_digest(client, manager, settings):
    user, brand = manager
    client.force_login(user)
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    assert "Mon 23 Nov 2026 00:00 – Mon 30 Nov 2026 00:00" in html and "Sun 22 Nov" not in html
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    text = _digest(user, brand, now=at("2026-11-30 07:05:00"))  # Monday 08:05 in Paris
    assert "Mon 23 Nov 2026 00:00 – Mon 30 Nov 2026 00:00 (Europe/Paris)" in text


def test_a_median_silence_counted_that_is_not_reached_says_so_instead_of_a_dash(client, manager, conversation):
    user, brand = manager
    # Three mentions, one answered after 10 min: fewer than half answered.
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-24 09:00:00"), reply_after_s=600, pid=1)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-25 09:00:00"), reply_after_s=None, pid=2)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-26 09:00:00"), reply_after_s=None, pid=3)
    client.force_login(user)
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    # As of the week's end (Mon 30 Nov 00:00 Paris = Sun 29 Nov 23:00 UTC) the longest wait observed is the
    # 25 Nov mention's: 25 Nov 09:00 UTC → 29 Nov 23:00 UTC = 4 d 14 h.
    assert _cell(html, "ondine-mobile", "km_median_s") == "not reached (over 4 d 14 h 00 min)"
    body = b"".join(client.get(reverse("reports:export", args=["brand-weeks"]), {
        "brand": brand.slug, "from": "2026-11-23", "to": "2026-11-29"}).streaming_content).decode()
    [row] = list(csv.DictReader(io.StringIO(body)))
    assert row["km_median_s"] == "" and float(row["km_median_not_reached_over_s"]) == (4 * 24 + 14) * 3600
    assert row["as_of_utc"] == "2026-11-29T23:00:00+00:00"


def test_the_digest_and_the_page_give_the_same_longest_silence_for_the_same_week(client, manager, tweet, ingest,
                                                                                 settings):
    user, brand = manager
    # An outage that was still going on when the week ended and is still going on now.
    Incident.objects.create(brand=brand, title="Messaging outage", started_at=at("2026-11-28 13:00:00"))
    ingest(tweet("u1", at("2026-11-28 14:00:00"), "We are investigating a messaging outage.", author="ondine_mobile",
                 author_id="900"))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    text = _digest(user, brand, now=at("2026-11-30 07:05:00"))
    client.force_login(user)
    html = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    # Both as of the week's end, Sun 29 Nov 23:00 UTC: the silence runs from 14:00 on the 28th, 33 h.
    assert "longest silence 1 d 09 h 00 min" in text
    assert "longest silence 1 d 09 h 00 min" in html
    assert "Figures as of the end of the week" in html and "Figures as of the end of the week" in text


def test_a_week_so_far_says_it_is_one(client, manager):
    user, brand = manager
    client.force_login(user)
    current = reports.week_containing(moment=reports.timezone.now(), zone=PARIS)
    html = client.get(reverse("reports:week"), {"week": current, "tz": "Europe/Paris"}).content.decode()
    assert "Week so far: figures as of" in html and "compared with the whole week before" in html
    past = client.get(reverse("reports:week"), {"week": WEEK, "tz": "Europe/Paris"}).content.decode()
    assert "Week so far" not in past


@pytest.fixture
def long_incident(manager, conversation):
    """An incident whose window is wider than the brand page's default range: 9 mentions inside it, 2 outside."""
    user, brand = manager
    incident = Incident.objects.create(brand=brand, title="Long outage", started_at=at("2026-09-01 08:00:00"),
                                       ended_at=at("2026-11-25 08:00:00"))
    for pid, day in enumerate(["2026-09-02", "2026-09-20", "2026-10-01", "2026-10-10", "2026-10-20",
                               "2026-11-01", "2026-11-10", "2026-11-20", "2026-11-24"], start=1):
        conversation(handle="ondine_mobile", user_id="900", when=at(f"{day} 09:00:00"), reply_after_s=300, pid=pid)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-08-30 09:00:00"), reply_after_s=300, pid=90)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-26 09:00:00"), reply_after_s=None, pid=91)
    return user, brand, incident


def test_an_incident_download_covers_the_incident_whatever_the_forms_dates(client, long_incident):
    user, brand, incident = long_incident
    client.force_login(user)
    page = client.get(reverse("reports:brand", args=[brand.slug]), {"from": "2026-W46", "to": "2026-W48"})
    html = page.content.decode()
    form_from = re.search(r'id="dl-from" name="from" value="([^"]+)"', html).group(1)
    form_to = re.search(r'id="dl-to" name="to" value="([^"]+)"', html).group(1)
    # The form as a user submits it: the page's three weeks, and the incident chosen.
    body = b"".join(client.get(reverse("reports:export", args=["mentions"]), {
        "brand": brand.slug, "from": form_from, "to": form_to, "incident": incident.pk}).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 9 and {r["incident_id"] for r in rows} == {str(incident.pk)}
    # The form says how many rows will come: per incident, and for the page's range.
    assert "Long outage (2026-09-01, 9 mentions)" in html
    assert "This download holds 4 mentions" in html  # 10, 20, 24 and 26 November


def test_the_download_form_asks_how_many_rows_as_filters_change(client, long_incident):
    user, brand, incident = long_incident
    client.force_login(user)
    url = reverse("reports:export_counts")
    counts = client.get(url, {"brand": brand.slug, "incident": incident.pk, "from": "2026-11-01"}).json()
    assert counts["counts"]["mentions"] == 9 and "9 mentions" in counts["text"]
    assert client.get(url, {"brand": brand.slug, "from": "2026-11-20", "to": "2026-11-30"}).json()[
        "counts"]["mentions"] == 3
    bad = client.get(url, {"brand": brand.slug, "from": "last tuesday"})
    assert bad.status_code == 400 and "'last tuesday' is not a date Hotline can read" in bad.json()["error"]


def test_official_posts_exports_list_off_platform_communications_with_their_channel(client, manager, tweet, ingest):
    user, brand = manager
    incident = Incident.objects.create(brand=brand, title="Messaging outage", started_at=at("2026-11-24 08:00:00"),
                                       ended_at=at("2026-11-25 08:00:00"))
    ingest(tweet("b1", at("2026-11-24 09:00:00"), "So sorry: messaging is down, we are on it.",
                 author="ondine_mobile", author_id="900"))
    communication_record(incident=incident, channel="sms", sent_at=at("2026-11-24 08:30:00"),
                         text="Ondine : toutes nos excuses pour la panne de messagerie.")
    communication_record(incident=incident, channel="video", sent_at=at("2026-11-24 10:00:00"),
                         text="=CEO video", url="https://video.ondine.example/ceo")
    client.force_login(user)
    body = b"".join(client.get(reverse("reports:export", args=["official-posts"]),
                               {"brand": brand.slug, "incident": incident.pk}).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["channel"], r["official_kind"], r["created_at_utc"]) for r in rows] == [
        ("sms", "broadcast", "2026-11-24T08:30:00+00:00"),
        ("", "broadcast", "2026-11-24T09:00:00+00:00"),
        ("video", "broadcast", "2026-11-24T10:00:00+00:00"),
    ]
    sms, post, video = rows
    assert sms["category"] == "apology" and sms["outage_related"] == "true" and sms["incident_id"] == str(incident.pk)
    assert video["text"] == "'=CEO video" and video["url"] == "https://video.ondine.example/ceo"
    # METRICS.md §6: official posts are described by category; no export calls the apology "negative".
    assert post["category"] == "apology" and post["sentiment_label"] == "" and post["sentiment_score"] == ""
    counts = client.get(reverse("reports:export_counts"), {"brand": brand.slug, "incident": incident.pk}).json()
    assert counts["counts"]["official-posts"] == 3
    incidents = list(csv.DictReader(io.StringIO(b"".join(client.get(
        reverse("reports:export", args=["incidents"]), {"brand": brand.slug}).streaming_content).decode())))
    assert incidents[0]["tta_s"] == "1800" and incidents[0]["acknowledged_via"] == "SMS"


def test_the_posts_export_leaves_official_posts_sentiment_empty(client, manager, tweet, ingest):
    user, brand = manager
    ingest(tweet("b1", at("2026-11-24 09:00:00"), "So sorry, terrible outage, we apologise.", author="ondine_mobile",
                 author_id="900"),
           tweet("c1", at("2026-11-24 09:05:00"), "@ondine_mobile this is awful, nothing works", author="lea"))
    client.force_login(user)
    body = b"".join(client.get(reverse("reports:export", args=["posts"]), {"brand": brand.slug}).streaming_content)
    rows = {r["post_id"]: r for r in csv.DictReader(io.StringIO(body.decode()))}
    assert rows["b1"]["sentiment_label"] == "" and rows["b1"]["category"] == "apology"
    assert rows["c1"]["sentiment_label"] == "negative"  # customers keep theirs


def test_two_windows_of_one_brand_count_the_overlap_in_both(manager, conversation):
    from incidents.figures import incident_figures

    user, brand = manager
    first = Incident.objects.create(brand=brand, title="A", started_at=at("2026-11-24 08:00:00"),
                                    ended_at=at("2026-11-24 12:00:00"))
    second = Incident.objects.create(brand=brand, title="B", started_at=at("2026-11-24 10:00:00"),
                                     ended_at=at("2026-11-24 14:00:00"))
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-24 11:00:00"), reply_after_s=60, pid=1)
    now = at("2026-11-25 00:00:00")
    assert incident_figures(incident=first, now=now)["mentions"] == 1
    assert incident_figures(incident=second, now=now)["mentions"] == 1
