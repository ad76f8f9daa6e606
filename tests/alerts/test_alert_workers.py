"""Alerts with real Celery: two workers and two beats on Redis and PostgreSQL, real receivers.

A complaint spike is replayed through ingestion (the demo replay source, polled by a worker, stored by
``posts_ingest``); the check that ingestion queues and the beats' checks every 2 s all evaluate it, and still each
channel gets the alert exactly once: e-mail through aiosmtpd, Slack and a signed webhook through local HTTP servers,
the webhook answering 500 twice before 200. Workers and beats are subprocesses on the Redis that REDIS_URL names,
under the run's own key prefix and queue (``run_keys``: nothing is flushed, exactly the run's keys are deleted),
and the pytest test database; every wait is bounded; all are stopped at teardown.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from incidents.alert_channels import alert_channel_add
from incidents.models import Alert, AlertDelivery, Brand, OfficialAccount, Team
from socialfeed.models import Mention, Source
from tests.celery_worker import database_url, wait_for
from tests.receivers import HttpReceiver, SmtpInbox

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parent.parent.parent
WAIT_LIMIT = 60
SECRET = "a-long-shared-secret-for-tests"
BEAT_EVERY = 2  # seconds between the beats' alert checks (ALERTS_CHECK_SECONDS)
# The worker sends e-mail through the test's SMTP server: test settings keep mail in memory otherwise.
SMTP_SETUP = """\
from django.conf import settings
settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(os.environ["HOTLINE_TEST_SMTP_PORT"])
settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
"""


def _env(smtp_port: int) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url(),
            "DB_CONN_MAX_AGE": "0", "ALERT_WEBHOOK_ALLOW_PRIVATE": "true",
            "ALERT_RETRY_BASE_SECONDS": "1", "ALERTS_CHECK_SECONDS": str(BEAT_EVERY),
            "SITE_URL": "https://hotline.example", "HOTLINE_TEST_SMTP_PORT": str(smtp_port)}


class BeatProcess:
    def __init__(self, *, name: str, env: dict[str, str], tmp_path: Path, main: str) -> None:
        self.log = tmp_path / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", main, "-A", "config", "beat", "--loglevel=INFO",
                 "-s", str(tmp_path / f"{name}-schedule"), "--pidfile", str(tmp_path / f"{name}.pid")],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)

    def sent_checks(self) -> int:
        return self.log.read_text(errors="replace").count("Sending due task check-alerts")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def broker(run_keys):
    """A producer on REDIS_URL under the run's key prefix and queue (run_keys deletes exactly its keys after)."""
    return run_keys.broker("hotline-alerts-test")


@pytest.fixture
def receivers():
    inbox = SmtpInbox().start()
    slack = HttpReceiver().start()
    hook = HttpReceiver(script=[500, 500]).start()
    yield inbox, slack, hook
    hook.stop()
    slack.stop()
    inbox.stop()


@pytest.fixture
def celery_processes(tmp_path, broker, receivers, run_keys):
    inbox = receivers[0]
    env = _env(inbox.port)
    started: list = []

    def _start():
        workers = [run_keys.worker(name=f"alerts-{n}", env=env, log=tmp_path / f"alerts-{n}.log",
                                   wait_limit=WAIT_LIMIT, setup=SMTP_SETUP) for n in "ab"]
        started.extend(workers)
        for worker in workers:
            worker.wait_ready()
        beats = [BeatProcess(name=f"beat-{n}", env=run_keys.env(env), tmp_path=tmp_path, main=run_keys.main())
                 for n in "ab"]
        started.extend(beats)
        return workers, beats

    yield _start
    for process in reversed(started):
        process.stop()


def test_a_replayed_spike_reaches_each_channel_exactly_once_with_two_workers_and_two_beats(
        broker, receivers, celery_processes, settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = True  # the receivers listen on 127.0.0.1 (the workers are told too)
    inbox, slack, hook = receivers
    team = Team.objects.create(name="Ondine comms")
    brand = Brand.objects.create(name="Ondine Mobile", slug="ondine-mobile", time_zone="Europe/Paris",
                                 languages=["fr", "en"])
    OfficialAccount.objects.create(brand=brand, platform="x", handle="OndineMobile", platform_user_id="700000001")
    team.brands.add(brand)
    for kind, target, secret in (("email", "oncall@ondine.example", ""), ("slack", slack.url("/services/T/B/X"), ""),
                                 ("webhook", hook.url(), SECRET)):
        alert_channel_add(team=team, kind=kind, target=target, secret=secret)
    # The demo outage's live part, replayed from 70 minutes ago: a burst of complaints and no incident open.
    anchor = (timezone.now() - dt.timedelta(minutes=70)).replace(second=0, microsecond=0)
    source = Source.objects.create(name="Replayed outage", platform="x", kind=Source.Kind.REPLAY, brand=brand,
                                   query=f"seed=2026;anchor={anchor.isoformat()}", cursor=anchor.isoformat(),
                                   interval_seconds=5)

    workers, beats = celery_processes()
    broker.send_task("socialfeed.tasks.poll_source", args=[source.pk])  # ingestion, in a worker

    wait_for(lambda: len(inbox.messages) >= 1 and slack.accepted() and hook.accepted(),
             what="the spike alert on all three channels", limit=WAIT_LIMIT)
    assert Mention.objects.filter(brand=brand, complaint=True).count() >= 20
    # More beats and more polls of the replay come and go: nothing more is sent.
    checks_before = sum(b.sent_checks() for b in beats)
    wait_for(lambda: all(b.sent_checks() >= 3 for b in beats) and sum(b.sent_checks() for b in beats)
             >= checks_before + 4, what="both beats to run their alert checks a few more times", limit=WAIT_LIMIT)
    time.sleep(BEAT_EVERY)  # the last checks queued have run

    assert [a.kind for a in Alert.objects.all()] == ["spike"]
    alert = Alert.objects.get()
    assert len(inbox.messages) == 1 and len(slack.accepted()) == 1 and len(hook.accepted()) == 1
    assert [r.status for r in hook.requests] == [500, 500, 200]  # retried with backoff, delivered once
    assert len({r.headers["X-Hotline-Delivery"] for r in hook.requests}) == 1
    delivered = hook.accepted()[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), delivered.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivered.headers["X-Hotline-Signature"], expected)
    body = delivered.json()
    assert (body["alert"], body["state"], body["brand"], body["incident"]) == ("spike", "raised", "ondine-mobile",
                                                                               None)
    assert body["url"] == "https://hotline.example/incidents/suggested/ondine-mobile/"
    assert "<https://hotline.example/incidents/suggested/ondine-mobile/|" in slack.accepted()[0].json()["text"]
    _recipients, message = inbox.messages[0]
    assert "Complaints about Ondine Mobile are spiking" in message.get_body(preferencelist=("plain",)).get_content()
    assert sorted(AlertDelivery.objects.filter(alert=alert).values_list("status", "attempts")) == [
        ("sent", 1), ("sent", 1), ("sent", 3)]
    log = "".join(w.text() for w in workers)
    assert log.count("incidents.tasks.alerts_check") >= 4  # checked by ingestion and by both beats
