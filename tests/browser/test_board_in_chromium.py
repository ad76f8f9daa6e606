"""The live board in Debian's Chromium: charts draw, a post ingested mid-test reaches the queue and the counts
within one refresh, and the console stays clean; on the demo's 44-hour outage every chart shares one time axis
with the window marked, the queue pages and takes "handled", no page scrolls sideways at 390 px, and the board
prints on one page.

``HOTLINE_SCREENSHOTS=docs`` also saves the board at 1440 and 390 px there (the README shows them)."""
from __future__ import annotations

import datetime as dt
import os
import re
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


def _login(page, base, username, password=PASSWORD, then="/"):
    page.goto(f"{base}/login/?next={then}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{then}")


DRAWN = """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
  const chart = Chart.getChart(c);
  const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0; for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) { ink++; } }
  return {name: c.dataset.chart, labels: chart ? Math.max(...chart.data.datasets.map(d => d.data.length)) : 0, ink: ink,
          points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter(v => v.y !== null && v.y !== 0).length, 0) : 0};
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
    assert [c["name"] for c in charts] == ["volume", "frt", "within", "tone", "official"]
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


@pytest.fixture
def demo(live_server):
    """The demo scenario (incidents/demo.py) loaded as ``make demo`` loads it: a 44-hour outage still going on."""
    from django.utils import timezone

    from incidents.demo import ONDINE, demo_load
    from incidents.models import Incident
    from incidents.services import incident_add_note
    from socialfeed.models import Mention

    demo_load(now=timezone.now())
    incident = Incident.objects.filter(brand__slug=ONDINE["slug"], ended_at__isnull=True).get()
    # One long unbroken word in a note once widened the board to 37,919 px.
    incident_add_note(incident=incident, author=None, text="a" * 3000)
    Mention.objects.filter(brand=incident.brand).count()
    return live_server.url, incident


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


CHARTS = """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
  const chart = Chart.getChart(c);
  const notes = chart.options.plugins.annotation.annotations;
  return {name: c.dataset.chart, min: chart.scales.x.min, max: chart.scales.x.max,
          buckets: Math.max(...chart.data.datasets.map(d => d.data.length)),
          window: notes.window ? [notes.window.xMin, notes.window.xMax] : null,
          statuses: Object.keys(notes).filter(k => k.startsWith('status')).length,
          broadcasts: Object.keys(notes).filter(k => k.startsWith('comm')).length,
          drawnWindow: (chart.$context && true) && !!chart.getDatasetMeta(0)};
})"""

NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _watch(page):
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def test_the_long_outage_board_shares_one_axis_marks_the_window_and_works_its_queue(demo, browser):
    base, incident = demo
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    problems = _watch(page)
    answers = []
    page.on("response", lambda r: answers.append((r.url, r.status)) if "/charts/" in r.url else None)
    _login(page, base, "comms", "hotline-demo", then=f"/incidents/{incident.pk}/")
    page.wait_for_function("() => document.getElementById('board').dataset.refreshedAt", timeout=30000)

    charts = page.evaluate(CHARTS)
    assert [c["name"] for c in charts] == ["volume", "frt", "within", "tone", "official"]
    window_ms = [int(incident.started_at.timestamp() * 1000)]
    for chart in charts:
        assert (chart["min"], chart["max"]) == (charts[0]["min"], charts[0]["max"]), chart  # one shared axis
        assert chart["min"] < window_ms[0]  # the whole window, with some of "before"
        assert chart["window"][0] == window_ms[0] and chart["window"][1] > window_ms[0], chart  # window annotated
        assert chart["statuses"] == 3 and chart["broadcasts"] >= 5, chart  # status changes and updates, each chart
        assert 100 < chart["buckets"] <= 300, chart  # 15-minute buckets for 44 hours, never more than 300

    # The queue: "N of M", pages, and a post marked handled leaves the list for the handled count.
    counts = page.inner_text("#queue-n-of-m")
    shown, unanswered = (int(n) for n in re.match(r"^(\d+) of (\d+) unanswered$", counts).groups())
    assert shown == unanswered > 25
    assert page.inner_text('[data-tile="unanswered"] .tile-value') == str(unanswered)
    first_page = page.eval_on_selector_all("#queue-body tr[data-mention]", "rows => rows.map(r => r.dataset.mention)")
    assert len(first_page) == 25
    page.click("#queue-next")
    page.wait_for_function("(first) => document.querySelector('#queue-body tr[data-mention]').dataset.mention "
                           "!== first", arg=first_page[0])
    second_page = page.eval_on_selector_all("#queue-body tr[data-mention]", "rows => rows.map(r => r.dataset.mention)")
    assert second_page and not set(second_page) & set(first_page)
    assert "after=" in page.url and page.is_visible("#queue-prev")
    page.click("#queue-first")
    page.wait_for_function("(first) => document.querySelector('#queue-body tr[data-mention]').dataset.mention "
                           "=== first", arg=first_page[0])

    target = first_page[0]
    page.check(f'#queue-body tr[data-mention="{target}"] input[name=mention]')
    page.select_option("#qa-reason", "spam")
    page.click('#queue-actions button[value="handle"]')
    page.wait_for_selector(f'#queue-body tr[data-mention="{target}"]', state="detached", timeout=20000)
    assert page.inner_text("#queue-handled-count") == "1 handled without a reply"
    assert page.inner_text("#queue-n-of-m") == f"{unanswered - 1} of {unanswered} unanswered"
    assert page.inner_text('[data-tile="unanswered"] .tile-value') == str(unanswered)  # METRICS.md §3 unchanged
    page.select_option("#q-state", "handled")
    page.click("#queue-filters button[type=submit]")
    page.wait_for_selector(f'#queue-body tr[data-mention="{target}"]', timeout=20000)
    assert "handled (spam) by comms" in page.inner_text(f'#queue-body tr[data-mention="{target}"]')

    # Clicking a bucket lists its posts.
    canvas = page.locator("#chart-volume")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.5})
    page.wait_for_selector("#bucket-posts:not([hidden]) #bucket-mentions li", timeout=20000)

    # Refreshes send only what changed: nothing new arrived, so no chart comes back in full.
    answers.clear()
    page.evaluate("() => { document.getElementById('board').dataset.refreshedAt = ''; }")
    page.wait_for_function("() => document.getElementById('board').dataset.refreshedAt", timeout=20000)
    assert answers and all(status in (200, 304) for _url, status in answers)
    assert sum(status == 304 for _url, status in answers) >= 3, answers

    if os.environ.get("HOTLINE_SCREENSHOTS"):
        page.goto(f"{base}/incidents/{incident.pk}/")
        page.wait_for_function("() => document.getElementById('board').dataset.refreshedAt", timeout=30000)
        page.screenshot(path=str(Path(os.environ["HOTLINE_SCREENSHOTS"]) / "board-1440.jpg"), full_page=True, type="jpeg", quality=80,
                        clip={"x": 0, "y": 0, "width": 1440, "height": 2300})  # tiles, charts, the queue's top
    assert problems == []


def test_no_page_scrolls_sideways_at_390_px_and_the_board_prints_on_one_page(demo, browser):
    from django.urls import reverse

    base, incident = demo
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-GB", device_scale_factor=1)
    problems = _watch(page)
    _login(page, base, "comms", "hotline-demo", then=f"/incidents/{incident.pk}/")
    page.wait_for_function("() => document.getElementById('board').dataset.refreshedAt", timeout=30000)
    assert page.evaluate(NO_SIDEWAYS), page.evaluate("document.documentElement.scrollWidth")
    # The queue collapses to cards; the charts fit the width.
    assert page.eval_on_selector("#queue-body tr[data-mention]", "r => getComputedStyle(r).display") == "block"
    for width in page.eval_on_selector_all("canvas[data-chart]", "cs => cs.map(c => c.getBoundingClientRect().right)"):
        assert width <= 390
    if os.environ.get("HOTLINE_SCREENSHOTS"):
        # The top of the board (tiles and charts); the queue's cards go on below.
        page.screenshot(path=str(Path(os.environ["HOTLINE_SCREENSHOTS"]) / "board-390.jpg"), full_page=True, type="jpeg", quality=80,
                        clip={"x": 0, "y": 0, "width": 390, "height": 2400})

    brand = incident.brand
    pages = [reverse("incidents:home"), reverse("incidents:new"), reverse("incidents:edit", args=[incident.pk]),
             reverse("reports:week"), reverse("reports:brand", args=[brand.slug]), reverse("reports:digests"),
             reverse("socialfeed:sources"), reverse("incidents:brand_settings", args=[brand.slug]),
             reverse("incidents:alert_log", args=[brand.slug]), reverse("incidents:teams"),
             "/incidents/999999/", f"/incidents/{incident.pk}/?order=newest"]
    for path in pages:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(NO_SIDEWAYS), (path, page.evaluate("document.documentElement.scrollWidth"))
        if path == "/incidents/999999/":
            problems.remove("Failed to load resource: the server responded with a status of 404 (Not Found)")
    anonymous = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    anonymous.goto(f"{base}/login/")
    assert anonymous.evaluate(NO_SIDEWAYS)

    # A one-page snapshot for executives.
    desk = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    _login(desk, base, "comms", "hotline-demo", then=f"/incidents/{incident.pk}/")
    desk.wait_for_function("() => document.getElementById('board').dataset.refreshedAt", timeout=30000)
    desk.emulate_media(media="print")
    desk.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    pdf = desk.pdf(format="A4", landscape=True, print_background=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1
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
    # The SMS is the latest outage-related broadcast: since last update starts again, every chart marks it.
    page.wait_for_function(
        "() => document.querySelector('[data-tile=\"since_last_update\"] .tile-hint').textContent.includes('SMS')",
        timeout=20000)
    page.wait_for_function(
        "() => window.Chart && Array.from(document.querySelectorAll('canvas[data-chart]')).every(c => Chart.getChart(c)"
        " && Object.values(Chart.getChart(c).options.plugins.annotation.annotations)"
        ".some(a => a.type === 'label' && a.content === 'SMS'))",
        timeout=20000)
    assert problems == []
