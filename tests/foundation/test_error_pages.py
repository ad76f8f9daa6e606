"""Error pages (403, 404, lock-out, expired form) are Hotline pages: the site's layout and navigation, in the
reader's language, saying why; and ``make demo`` never shows Django's debug page."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from incidents.models import Incident, Team

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_brand, make_user):
    from datetime import UTC, datetime

    team, _ = Team.objects.get_or_create(name="Ondine comms")
    brand = make_brand(name="Ondine Mobile", team=team)
    incident = Incident.objects.create(brand=brand, title="Messaging outage", started_at=datetime(2026, 3, 2, tzinfo=UTC))
    return make_user(username="max", role="manager", teams=["Ondine comms"]), incident


def _in_layout(body: str) -> None:
    assert 'class="site-header"' in body and 'id="main"' in body  # the site's header and navigation
    assert "Traceback" not in body and "Django tried these URL patterns" not in body


def test_an_unknown_incident_is_a_hotline_404_in_both_languages(client, manager):
    user, _incident = manager
    client.force_login(user)
    english = client.get("/incidents/999999/")
    assert english.status_code == 404
    body = english.content.decode()
    _in_layout(body)
    assert "Nothing here" in body and "belongs to a team you are not in" in body
    assert reverse("reports:week") in body  # the navigation is there to go on from
    french = client.get("/incidents/999999/", headers={"accept-language": "fr"}).content.decode()
    _in_layout(french)
    assert "Rien ici" in french and "Nothing here" not in french


def test_a_refused_action_says_why_in_the_readers_language(client, manager):
    user, incident = manager
    client.force_login(user)
    url = reverse("incidents:event", kwargs={"pk": incident.pk})
    refused = client.post(url, {"text": "hello"})
    body = refused.content.decode()
    assert refused.status_code == 403
    _in_layout(body)
    assert "Only the comms team can change incidents." in body  # the view's own message
    french = client.post(url, {"text": "hello"}, headers={"accept-language": "fr"}).content.decode()
    assert "Seule l’équipe communication peut modifier les incidents." in french


def test_a_lock_out_says_how_long_it_lasts(client, make_user, settings):
    make_user(username="camille", role="comms", password="the-right-password-42")
    login = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "camille", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    locked = client.post(login, {"username": "camille", "password": "the-right-password-42"}, REMOTE_ADDR="10.0.0.9",
                         headers={"accept-language": "fr"})
    body = locked.content.decode()
    assert locked.status_code == 429
    _in_layout(body)
    assert "pendant 1 h" in body and f"{settings.AXES_FAILURE_LIMIT} échecs" in body


def test_an_expired_form_says_nothing_was_changed(manager):
    from django.test import Client

    user, incident = manager
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(reverse("incidents:event", kwargs={"pk": incident.pk}), {"text": "hello"})
    body = response.content.decode()
    assert response.status_code == 403
    _in_layout(body)
    assert "Nothing was changed" in body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="make demo runs on POSIX")
def test_make_demo_serves_hotline_error_pages_not_the_debug_page(tmp_path):
    """Runs the demo's server command exactly as the Makefile writes it (on a scratch SQLite database)."""
    recipe = (REPO / "Makefile").read_text()
    line = next(raw.strip() for raw in recipe.splitlines() if "manage.py run_demo" in raw)
    env_part = line.split("$(PY)")[0].split()
    assert "DEBUG=false" in env_part, "make demo must run with DEBUG=false"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(dict(item.split("=", 1) for item in env_part))
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True, timeout=300)
    port = _free_port()
    server = subprocess.Popen([python, "manage.py", "run_demo", f"127.0.0.1:{port}"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/incidents/999999/no-such-page/", timeout=10)
        body = missing.value.read().decode()
        assert missing.value.code == 404
        _in_layout(body)
        assert "Nothing here" in body
        # And the page's stylesheet is served without collectstatic.
        css = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/hotline.css", timeout=10).read()
        assert re.search(rb"\.site-header", css)
    finally:
        server.terminate()
        server.wait(timeout=20)
