"""On a real import of the TWCS sample, the weekly page, the brand page, the digest and the brand-weeks export
give the same figures as response_stats for the same week, to the second."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from incidents import digest, export_cells, reports
from incidents.models import Brand, DigestSubscription
from incidents.templatetags.report_format import duration, km_median, percent
from socialfeed.models import Mention
from socialfeed.selectors import response_stats

FIGURES = ("reply_rate", "answered_within_target", "median_frt_s", "p90_frt_s", "km_median_s")


def _shown(stats, figure):
    if figure == "km_median_s":
        return km_median(stats)  # METRICS.md §4: "not reached (over …)" when fewer than half are answered
    value = getattr(stats, figure)
    return percent(value) if figure in ("reply_rate", "answered_within_target") else duration(value)


@pytest.fixture
def twcs(db, data_slices):
    try:
        call_command("import_posts", str(data_slices / "twcs" / "twcs_random_sample_divya-gh.csv"),
                     "--format", "twcs", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError:
        pass  # a few malformed rows are reported and skipped; the valid rows are stored
    return get_user_model().objects.create_superuser("twcs-admin", "admin@example.org", "hotline-test-pass")


@pytest.fixture
def busiest(twcs):
    """The brand and ISO week (brand time zone) with the most answered mentions in the sample."""
    weeks = Counter()
    for brand_id, created in Mention.objects.filter(answered=True).values_list("brand_id", "created_at"):
        brand = Brand.objects.get(pk=brand_id)
        weeks[(brand_id, reports.week_containing(moment=created, zone=brand.zone))] += 1
    assert weeks, "the TWCS import produced no answered mention"
    (brand_id, week), _count = weeks.most_common(1)[0]
    return twcs, Brand.objects.get(pk=brand_id), week


def test_it_agrees_with_response_stats_on_the_twcs_import(client, busiest, settings):
    admin, brand, week = busiest
    start, end = reports.week_bounds(week=week, zone=brand.zone)
    # One as-of rule for every surface: a past week's figures are as of its end.
    stats = response_stats(brands=[brand], start=start, end=end, as_of=reports.week_as_of(end=end))[0]
    assert stats.mentions > 0 and stats.answered > 0
    client.force_login(admin)

    page = client.get(reverse("reports:week"), {"week": week, "tz": brand.time_zone}).content.decode()
    row = re.search(rf'<tr data-brand="{brand.slug}">(.*?)</tr>', page, re.S).group(1)
    assert re.search(rf'data-figure="mentions">{stats.mentions}<', row)
    history = client.get(reverse("reports:brand", args=[brand.slug]), {"from": week, "to": week}).content.decode()
    week_row = re.search(rf'<tr data-week="{week}">(.*?)</tr>', history, re.S).group(1)
    for figure in FIGURES:
        shown = _shown(stats, figure)
        assert f'data-figure="{figure}">{shown}<' in row, figure
        assert f'data-figure="{figure}">{shown}<' in week_row, figure

    body = b"".join(client.get(reverse("reports:export", args=["brand-weeks"]), {
        "brand": brand.slug, "from": start.isoformat(), "to": end.isoformat()}).streaming_content).decode()
    [exported] = [r for r in csv.DictReader(io.StringIO(body)) if r["week"] == week]
    assert int(exported["mentions"]) == stats.mentions
    for name in FIGURES:
        value = export_cells.figure(name, getattr(stats, name))
        assert exported[name] == ("" if value is None else str(value)), name

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    admin.email = "admin@example.org"
    admin.save()
    DigestSubscription.objects.create(user=admin, brand=brand, time_zone=brand.time_zone)
    monday = reports.week_bounds(week=reports.week_shift(week, 1), zone=brand.zone)[0]
    monday_0805 = monday.astimezone(brand.zone).replace(hour=8, minute=5).astimezone(monday.tzinfo)
    assert digest.digests_send_due(now=monday_0805).sent == 1
    text = mail.outbox[0].body
    assert f"Mentions: {stats.mentions} " in text
    assert f"Median FRT: {duration(stats.median_frt_s)} " in text
    assert f"Reply rate: {percent(stats.reply_rate)} " in text
    assert f"Median, silence counted: {km_median(stats)} " in text
