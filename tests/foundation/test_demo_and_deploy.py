"""The demo scenario is rerunnable, and the docker-compose stack is described once for web, worker and beat."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from incidents.demo import demo_load
from incidents.models import Brand, Incident
from socialfeed.models import Mention, Post

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_the_demo_loads_twice_without_duplicating_anything():
    first = demo_load(now=NOW)
    counts = (Brand.objects.count(), Incident.objects.count(), Post.objects.count(), Mention.objects.count())
    second = demo_load(now=NOW)
    assert second["stored"] == 0 and first["stored"] > 1000
    assert (Brand.objects.count(), Incident.objects.count(), Post.objects.count(), Mention.objects.count()) == counts
    # The story holds: one operator answers most customers, the other almost none.
    ondine = Mention.objects.filter(brand__slug="ondine-mobile")
    brisant = Mention.objects.filter(brand__slug="brisant-telecom")
    assert ondine.filter(answered=True).count() / ondine.count() > 0.6
    assert brisant.filter(answered=True).count() / brisant.count() < 0.2


@pytest.mark.django_db
def test_the_demo_board_shows_brisants_sms_apology_and_ondines_video(client):
    from datetime import timedelta

    from django.urls import reverse

    from incidents.demo import outage_start
    from incidents.figures import incident_figures
    from incidents.models import OffPlatformCommunication

    result = demo_load(now=NOW)
    start = outage_start(result["anchor"])
    brisant = Incident.objects.get(brand__slug="brisant-telecom")
    figures = incident_figures(incident=brisant, now=result["anchor"])
    # Silent for 40 hours whatever it promoted (in French too), then an apology by SMS.
    assert figures["tta_s"] == 40 * 3600 and figures["acknowledged_via"] == "SMS"
    assert figures["off_message_count"] == 6 and figures["longest_silence_s"] == 40 * 3600
    ondine = Incident.objects.get(brand__slug="ondine-mobile", ended_at__isnull=True)
    video = OffPlatformCommunication.objects.get(brand__slug="ondine-mobile", channel="video")
    assert video.sent_at == start + timedelta(hours=30) and video.incident == ondine and video.category == "apology"
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="comms"))
    board = client.get(reverse("incidents:board", kwargs={"pk": ondine.pk})).content.decode()
    assert "Vidéo de notre directrice générale" in board and "https://www.ondine-mobile.example/video/" in board
    from incidents.board import board_marks

    marks = board_marks(incident=brisant, now=result["anchor"])  # the board as it looks at the demo's "now"
    [sms] = [m for m in marks["communications"] if m["off_platform"] and m["channel"] == "SMS"]
    assert sms["text"].startswith("Brisant Télécom vous présente ses excuses")
    demo_load(now=NOW)  # rerunnable: nothing recorded twice
    assert OffPlatformCommunication.objects.count() == 3


def test_docker_compose_shares_one_hotline_service_for_web_worker_and_beat():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "tone-worker", "beat"}
    hotline = compose["x-hotline"]
    for name in ("web", "worker", "tone-worker", "beat"):
        assert services[name]["image"] == hotline["image"] and services[name]["environment"] == hotline["environment"]
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:3] == ["celery", "-A", "config"]
    assert services["tone-worker"]["command"][3:6] == ["worker", "-Q", "tone"]
    for name in ("postgres", "redis", "web", "worker", "tone-worker"):
        assert "healthcheck" in services[name]
    assert (REPO / ".env.example").is_file()


@pytest.mark.django_db
def test_the_login_page_lists_the_demo_logins_only_while_the_demo_serves(client, monkeypatch, settings):
    from incidents import demo

    demo.demo_users_create()  # what demo_load does for the logins (the posts are not needed here)
    monkeypatch.setattr(demo, "_serving_demo", False)
    assert "Demo logins" not in client.get("/login/").content.decode()  # loaded, but not served as the demo
    demo.demo_serving_starts()
    page = client.get("/login/").content.decode()
    assert "Demo logins" in page and "<code>hotline-demo</code>" in page
    for username, role in (("demo", "administrator"), ("comms", "comms"), ("manager", "manager"),
                           ("analyst", "analyst")):
        assert f"<td><code>{username}</code></td><td>{role}:" in page
    settings.PRODUCTION = True
    assert "Demo logins" not in client.get("/login/").content.decode()
    assert "hotline-demo" not in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_demo_is_the_only_administrator_of_the_demo():
    from django.contrib.auth import get_user_model

    from incidents.demo import demo_users_create
    from incidents.roles import can_export, can_manage_incidents, role_of

    demo_users_create()
    users = {u.username: u for u in get_user_model().objects.all()}
    assert {name for name, u in users.items() if u.is_superuser or u.is_staff} == {"demo"}
    assert {name: role_of(u) for name, u in users.items()} == {
        "demo": "admin", "comms": "comms", "manager": "manager", "analyst": "analyst"}
    assert {n for n, u in users.items() if can_export(u)} == {"demo", "analyst"}
    assert {n for n, u in users.items() if can_manage_incidents(u)} == {"demo", "comms"}


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["load_demo", "run_demo"])
def test_the_demo_refuses_to_run_under_production_settings(settings, monkeypatch, command):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from incidents import demo

    monkeypatch.setattr(demo, "_serving_demo", False)
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never runs under production settings"):
        call_command(command)
    with pytest.raises(demo.DemoRefused):
        demo_load(now=NOW)
    with pytest.raises(demo.DemoRefused):
        demo.demo_users_create()
    assert not get_user_model().objects.exists() and demo.demo_logins() == []


@pytest.mark.django_db
def test_the_demo_runs_the_beat_schedule_in_process_so_alerts_are_sent(monkeypatch, settings):
    import datetime as dt

    from django.core import mail
    from django.utils import timezone

    from config.celery import app
    from incidents.management.commands.run_demo import POLLED_BY_THE_POLLER, InProcessBeat
    from incidents.models import Alert, AlertDelivery

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # as on the demo's embedded default
    demo_load(now=timezone.now())
    beat = InProcessBeat(schedule=settings.CELERY_BEAT_SCHEDULE, skip=POLLED_BY_THE_POLLER)
    assert set(beat.entries) == {"send-weekly-digests", "check-alerts"}
    assert sorted(beat.run_due()) == ["check-alerts", "send-weekly-digests"]  # everything once at start
    # Brisant Télécom's SMS apology came four hours ago and nothing since; its customers wait unanswered.
    brisant = {a.kind for a in Alert.objects.filter(brand__slug="brisant-telecom")}
    assert brisant == {"update_overdue", "unanswered_breaches"}
    sent = AlertDelivery.objects.filter(status="sent").count()
    assert sent == Alert.objects.count() and len(mail.outbox) == sent  # to the demo team's comms inbox
    assert mail.outbox[0].to == ["comms@hotline.invalid"]
    assert beat.due(timezone.now()) == []  # nothing is due again at once
    beat.entries["check-alerts"]["last_run"] = timezone.now() - dt.timedelta(seconds=61)
    assert beat.due(timezone.now()) == ["check-alerts"]  # a minute later, the alerts are checked again
    assert beat.run_due() == ["check-alerts"] and len(mail.outbox) == sent  # still true: nothing new to send
