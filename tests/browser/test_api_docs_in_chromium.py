"""The API docs page in Debian's Chromium: Swagger UI (vendored, under the strict Content-Security-Policy) lists
every operation, and "Try it out" on the signed-in session writes a note on the incident's timeline (the CSRF
token goes with it) and reads the incident's figures back."""
from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.browser.test_board_in_chromium import CHROMIUM, CHROMIUM_ARGS, PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,  # the live server's threads get their own connections on PostgreSQL only (see the board test)
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium "
                                                     "(apt-get install -y chromium); no browser is downloaded"),
]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def incident(make_brand, make_user):
    from incidents.models import Incident, Team

    team = Team.objects.create(name="Ondine comms")
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", team=team)
    make_user(username="camille", role="comms", teams=["Ondine comms"])
    return Incident.objects.create(brand=brand, title="Network outage",
                                   started_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=45))


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser.new_page(locale="en-GB", viewport={"width": 1280, "height": 1600})
        browser.close()


def _try(page, operation: str, *, fill: dict[str, str], body: str | None = None) -> str:
    block = f"#operations-{operation}"
    page.click(f"{block} .opblock-summary")
    page.click(f"{block} .try-out__btn")
    for placeholder, value in fill.items():
        page.fill(f"{block} input[placeholder='{placeholder}']", value)
    if body is not None:
        page.fill(f"{block} textarea.body-param__text", body)
    page.click(f"{block} .execute")
    page.wait_for_selector(f"{block} .live-responses-table .response .response-col_status", timeout=20000)
    return page.inner_text(f"{block} .live-responses-table .response")


def test_it_lists_every_operation_and_tries_them_on_the_session(live_server, incident, page):
    from incidents.models import AuditEntry, IncidentEvent

    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("request", lambda request: problems.append(f"outside request: {request.url}")
            if not request.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/login/?next=/api/v1/docs/")
    page.fill("#id_username", "camille")
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector(".opblock", timeout=20000)
    assert page.locator(".opblock").count() == 16

    answer = _try(page, "incidents-incidents_timeline_create", fill={"id": str(incident.pk)},
                  body='{"text": "Engineers on site", "status": "identified"}')
    assert answer.startswith("201")
    event = IncidentEvent.objects.get(incident=incident)
    assert (event.text, event.status, event.author.username) == ("Engineers on site", "identified", "camille")
    assert AuditEntry.objects.get(action="api.write").details["via"] == "session"

    answer = _try(page, "incidents-incidents_retrieve", fill={"id": str(incident.pk)})
    assert answer.startswith("200") and '"longest_silence_s"' in answer and '"status": "identified"' in answer
    assert problems == []
