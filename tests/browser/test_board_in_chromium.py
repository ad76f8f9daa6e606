"""The live board in Debian's Chromium: charts draw, a post ingested mid-test reaches the queue and the counts
within one refresh, and the console stays clean."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "hotline-test-pass"

pytestmark = [
    pytest.mark.browser,
    # The board fetches five endpoints at once. With the in-memory SQLite test database, Django's live server
    # hands every request thread the same single connection, and concurrent queries on it can hang the run;
    # on PostgreSQL (CI's first pass) each thread has its own connection, as in production.
    pytest.mark.postgres,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium "
                                                     "(apt-get install -y chromium); no browser is downloaded"),
]

# Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are plain blocking ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _ingest(posts):
    """Ingest as the pollers do, then make sure the rollups hold the new mentions (idempotent)."""
    from socialfeed.models import Mention
    from socialfeed.rollups import rollups_refresh
    from socialfeed.services import posts_ingest

    posts_ingest(posts=posts)
    ids = [p.platform_id for p in posts]
    rollups_refresh(brand_ids_minutes=set(
        Mention.objects.filter(post__platform_id__in=ids).values_list("brand_id", "created_at")))


def _post(pid, *, minutes_ago, author="42", handle="customer", text, reply_to="", official=False):
    from socialfeed.normalised import NormalisedPost

    return NormalisedPost(platform="x", platform_id=pid, author_id="99" if official else author,
                          author_handle="ondine_mobile" if official else handle,
                          created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago), text=text,
                          in_reply_to_id=reply_to, conversation_id=reply_to or pid, lang="en",
                          url=f"https://x.example/{handle}/status/{pid}")


@pytest.fixture
def board_url(live_server, make_brand, make_user):
    from incidents.models import Incident, Team

    team = Team.objects.create(name="Ondine comms")
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", user_id="99", team=team)
    make_user(username="camille", role="comms", teams=["Ondine comms"])
    _ingest([
        _post("1", minutes_ago=40, text="@ondine_mobile no signal since this morning, outage?"),
        _post("2", minutes_ago=35, author="43", handle="sam", text="@ondine_mobile is the network down?"),
        _post("3", minutes_ago=30, official=True, reply_to="2", text="Sorry, we have an outage, our teams are on it"),
        _post("4", minutes_ago=25, official=True, text="We are aware of a network outage in Lyon. Next update at 11:00"),
        _post("5", minutes_ago=10, author="44", handle="lou", text="@ondine_mobile thanks for the quick answer!"),
    ])
    incident = Incident.objects.create(brand=brand, title="Network outage",
                                       started_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=45))
    return f"{live_server.url}/incidents/{incident.pk}/"


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(locale="en-GB")
        yield page
        browser.close()


DRAWN = """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
  const chart = Chart.getChart(c);
  const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0; for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) { ink++; } }
  return {name: c.dataset.chart, labels: chart ? chart.data.labels.length : 0, ink: ink,
          points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter(v => v !== null).length, 0) : 0};
})"""


def test_it_draws_the_board_and_shows_a_new_post_within_one_refresh(board_url, live_server, page):
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(f"{live_server.url}/login/?next={board_url.removeprefix(live_server.url)}")
    page.fill("#id_username", "camille")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(board_url)

    page.wait_for_function("() => document.getElementById('board').dataset.refreshedAt", timeout=20000)
    charts = page.evaluate(DRAWN)
    assert [c["name"] for c in charts] == ["volume", "frt", "tone", "official"]
    for chart in charts:
        assert chart["labels"] > 0 and chart["points"] > 0 and chart["ink"] > 0, chart

    mentions_before = page.inner_text('[data-tile="mentions"] .tile-value')
    _ingest([_post("6", minutes_ago=0, author="45", handle="noa", text="@ondine_mobile still nothing, fix it!")])
    page.wait_for_selector("#queue-body >> text=still nothing, fix it!", timeout=20000)
    page.wait_for_function(
        "(before) => document.querySelector('[data-tile=\"mentions\"] .tile-value').textContent !== before",
        arg=mentions_before, timeout=20000)
    assert int(page.inner_text('[data-tile="mentions"] .tile-value')) == int(mentions_before) + 1
    assert "updated" in page.inner_text("#updated-ago")
    assert page.is_hidden("#stale-warning")
    assert problems == []


def test_a_comms_user_records_an_sms_from_the_keyboard_and_the_board_counts_it(board_url, live_server, page):
    from incidents.models import OffPlatformCommunication

    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server.url}/login/?next={board_url.removeprefix(live_server.url)}")
    page.fill("#id_username", "camille")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(board_url)
    page.wait_for_function("() => document.getElementById('board').dataset.refreshedAt", timeout=20000)
    assert page.inner_text('[data-tile="since_last_update"] .tile-value').endswith("min")

    # The form beside the timeline, filled and sent from the keyboard; its time defaults to now.
    page.select_option("#id_communication-channel", "sms")
    page.focus("#id_communication-text")
    page.keyboard.type("Ondine Mobile : nos équipes rétablissent la messagerie, toutes nos excuses.")
    page.focus("#id_communication-url")
    page.keyboard.press("Enter")
    page.wait_for_selector(".timeline-communication >> text=toutes nos excuses", timeout=20000)
    assert OffPlatformCommunication.objects.get().channel == "sms"
    assert "Europe/Paris" in page.inner_text(".timeline-communication")
    # The SMS is the latest outage-related broadcast: since last update starts again, the chart rings it.
    page.wait_for_function(
        "() => document.querySelector('[data-tile=\"since_last_update\"] .tile-hint').textContent.includes('SMS')",
        timeout=20000)
    # The tiles come with the page, the charts a moment later from their own endpoints: wait for the chart.
    page.wait_for_function("() => Chart.getChart(document.getElementById('chart-official'))", timeout=20000)
    legend = page.evaluate("() => Chart.getChart(document.getElementById('chart-official'))"
                           ".legend.legendItems.map(item => item.text)")
    assert "SMS (off-platform)" in legend and "Video (off-platform)" not in legend
    assert problems == []
