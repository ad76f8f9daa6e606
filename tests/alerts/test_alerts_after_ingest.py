"""Alerts are checked after each ingest batch, not only by beat; and two evaluations at once (two beats, two
workers) raise one alert and one delivery per channel."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import Alert, AlertChannel, AlertDelivery, Incident
from socialfeed.normalised import NormalisedPost
from socialfeed.services import posts_ingest


@pytest.fixture
def eager_tasks(monkeypatch):
    """Tasks run in-process, as on the embedded default, even where a broker is configured."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def _complaint(n: int, when: dt.datetime) -> NormalisedPost:
    return NormalisedPost(platform="x", platform_id=f"spike-{n}", author_id=f"c{n}", author_handle=f"c{n}",
                          created_at=when, text="@ondine_mobile no network at all, is it down? not working",
                          lang="en", conversation_id=f"spike-{n}")


@pytest.mark.django_db
def test_a_batch_that_acknowledges_an_incident_clears_its_alert_at_once(eager_tasks, local_hooks, receivers, channel,
                                                                       brand, django_capture_on_commit_callbacks):
    now = timezone.now()
    Incident.objects.create(brand=brand, title="Mobile data outage", started_at=now - dt.timedelta(minutes=40))
    receiver = receivers()
    channel("webhook", receiver.url(), secret="a-long-shared-secret-for-tests")
    apology = NormalisedPost(platform="x", platform_id="a1", author_id="100", author_handle="ondine_mobile",
                             created_at=now - dt.timedelta(minutes=1), lang="en",
                             text="We are sorry: mobile data is down, our engineers are working on it")
    complaint = _complaint(1, now - dt.timedelta(minutes=39))
    with django_capture_on_commit_callbacks(execute=True):
        posts_ingest(posts=[complaint])  # a customer: the incident is 40 min old and still not acknowledged
    assert [a.kind for a in Alert.objects.filter(cleared_at__isnull=True)] == ["not_acknowledged"]
    with django_capture_on_commit_callbacks(execute=True):
        posts_ingest(posts=[apology])  # the brand's apology: no beat needed to clear it
    assert not Alert.objects.filter(kind="not_acknowledged", cleared_at__isnull=True).exists()
    assert [(r.json()["alert"], r.json()["state"]) for r in receiver.requests] == [
        ("not_acknowledged", "raised"), ("not_acknowledged", "cleared")]


@pytest.mark.django_db
def test_a_bulk_load_of_history_checks_nothing(eager_tasks, brand, django_capture_on_commit_callbacks):
    Incident.objects.create(brand=brand, title="Mobile data outage", started_at=timezone.now() - dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        posts_ingest(posts=[_complaint(1, timezone.now() - dt.timedelta(hours=1))], announce=False)
    assert not Alert.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_evaluations_at_once_raise_one_alert_and_one_delivery_per_channel(eager_tasks, brand, team):
    from incidents.tasks import alerts_check

    Incident.objects.create(brand=brand, title="Mobile data outage", started_at=timezone.now() - dt.timedelta(hours=2))
    for n in range(3):  # e-mail goes to Django's in-memory outbox in tests
        AlertChannel.objects.create(team=team, kind="email", target=f"oncall{n}@ondine.example")
    barrier = threading.Barrier(4)
    errors = []

    def beat():
        try:
            barrier.wait(timeout=10)
            result = alerts_check.apply()
            if not result.successful():
                errors.append(result.result)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # not acknowledged + update overdue (2 h without an update): two alerts, each once, each to three channels.
    assert sorted(Alert.objects.values_list("kind", flat=True)) == ["not_acknowledged", "update_overdue"]
    assert AlertDelivery.objects.count() == 6
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"sent"}
    from django.core import mail

    assert len(mail.outbox) == 6


@pytest.mark.django_db
def test_a_burst_of_batches_with_a_broker_queues_one_delayed_check_per_brand(monkeypatch, settings):
    """With a broker, a poller storing several batches a second queues one check per brand, a little later."""
    from django.core.cache import cache

    from config.celery import app
    from incidents.alerts import AFTER_INGEST_DELAY_S, alerts_check_after_ingest
    from incidents.tasks import alerts_check

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    queued = []
    # Where the message would leave for the broker: what is queued, not how the broker carries it, is under test.
    monkeypatch.setattr(alerts_check, "apply_async", lambda **options: queued.append(options))
    cache.delete_many([f"hotline:alerts:after-ingest:{n}" for n in (7, 8)])
    alerts_check_after_ingest(brand_ids=[7])
    alerts_check_after_ingest(brand_ids=[7])
    alerts_check_after_ingest(brand_ids=[7, 8])
    assert [q["kwargs"]["brand_ids"] for q in queued] == [[7], [8]]
    assert {q["countdown"] for q in queued} == {AFTER_INGEST_DELAY_S + 1}  # runs after the pending mark expires
    cache.delete_many([f"hotline:alerts:after-ingest:{n}" for n in (7, 8)])
