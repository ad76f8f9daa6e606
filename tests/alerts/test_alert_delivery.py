"""Alerts reach real receivers: a local HTTP server for Slack and webhooks, aiosmtpd for e-mail. Each state of an
alert is delivered once per channel, retried with backoff when the receiver fails, and a channel that keeps
failing shows as failing."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from incidents.alerts import backoff_seconds, delivery_attempt
from incidents.models import Alert, AlertChannel, AlertDelivery, BrandTargets
from tests.board.conftest import official

from .conftest import minutes

pytestmark = pytest.mark.django_db

SECRET = "a-long-shared-secret-for-tests"


def _check(now: dt.datetime) -> str:
    """One ``manage.py alerts_check`` at ``now``, as beat runs it; returns what it printed."""
    out = StringIO()
    call_command("alerts_check", "--now", now.isoformat(), stdout=out)
    return out.getvalue()


def test_it_signs_the_webhook_body_so_the_receiver_can_verify_it(local_hooks, receivers, channel, incident):
    receiver = receivers()
    channel("webhook", receiver.url(), secret=SECRET)
    printed = _check(minutes(31))
    assert "Raised not_acknowledged for ondine" in printed and "1 delivered" in printed
    [request] = receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Hotline-Signature"], expected)
    body = request.json()
    delivery = AlertDelivery.objects.get()
    assert request.headers["X-Hotline-Delivery"] == str(delivery.delivery_id) == body["delivery"]
    assert request.headers["Content-Type"] == "application/json"
    assert {k: body[k] for k in ("alert", "state", "brand", "incident", "at", "url")} == {
        "alert": "not_acknowledged", "state": "raised", "brand": "ondine", "incident": incident.pk,
        "at": "2025-03-04T10:31:00Z", "url": f"https://hotline.example/incidents/{incident.pk}/"}
    assert body["summary"] == ("Ondine Mobile has not acknowledged “Mobile data outage” after 31 min "
                               "(target 30 min).")
    # A receiver checking with another secret, or a body changed on the way, does not verify.
    assert request.headers["X-Hotline-Signature"] != "sha256=" + hmac.new(
        b"another-secret", request.body, hashlib.sha256).hexdigest()
    tampered = json.dumps({**body, "state": "cleared"}).encode()
    assert request.headers["X-Hotline-Signature"] != "sha256=" + hmac.new(
        SECRET.encode(), tampered, hashlib.sha256).hexdigest()


def test_it_delivers_once_to_a_receiver_that_answers_500_twice_then_200(local_hooks, receivers, channel, incident):
    receiver = receivers(script=[500, 500])
    channel("webhook", receiver.url(), secret=SECRET)
    t0 = minutes(31)
    assert "retrying" in _check(t0)
    delivery = AlertDelivery.objects.get()
    assert delivery.next_attempt_at == t0 + dt.timedelta(seconds=backoff_seconds(1)) == t0 + dt.timedelta(seconds=30)
    _check(t0 + dt.timedelta(seconds=10))  # the next beat: not due yet, nothing sent
    assert len(receiver.requests) == 1
    _check(t0 + dt.timedelta(seconds=31))  # first retry: 500 again; the wait doubles
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("retrying", 2)
    assert delivery.next_attempt_at == t0 + dt.timedelta(seconds=31 + 60)
    assert AlertChannel.objects.get().is_failing
    _check(t0 + dt.timedelta(seconds=92))  # second retry: 200
    _check(t0 + dt.timedelta(seconds=400))  # later beats send nothing more
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert len({r.headers["X-Hotline-Delivery"] for r in receiver.requests}) == 1  # a repeat the receiver can drop
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert not AlertChannel.objects.get().is_failing  # working again


def test_it_gives_up_on_a_receiver_that_refuses_and_shows_the_channel_as_failing(local_hooks, receivers, channel,
                                                                                incident, client, comms, team):
    receiver = receivers(default=404)
    channel("slack", receiver.url("/services/T000/B000/XXXX"))
    _check(minutes(31))
    _check(minutes(45))
    assert len(receiver.requests) == 1  # 404 is permanent: retrying cannot help
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "failed" and "HTTP 404" in delivery.last_error
    client.force_login(comms)
    team_page = client.get(reverse("incidents:team_settings", args=[team.pk])).content.decode()
    assert "✗ failing" in team_page and "HTTP 404" in team_page
    log = client.get(reverse("incidents:alert_log", args=["ondine"])).content.decode()
    assert "✗ failed, gave up" in log and "HTTP 404" in log
    assert "XXXX" not in log and "XXXX" not in team_page  # a Slack URL's token is never shown


def test_it_keeps_retrying_a_receiver_that_keeps_failing_then_marks_it_failed(local_hooks, receivers, channel,
                                                                            incident, settings):
    from incidents.alerts import MAX_ATTEMPTS

    settings.ALERT_RETRY_BASE_SECONDS = 1
    BrandTargets.objects.create(brand=incident.brand, update_cadence_min=43200)  # one alert only: not acknowledged
    receiver = receivers(default=503)
    channel("webhook", receiver.url(), secret=SECRET)
    moment = minutes(31)
    for _ in range(MAX_ATTEMPTS + 3):
        _check(moment)
        moment += dt.timedelta(hours=1)
    assert len(receiver.requests) == MAX_ATTEMPTS
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert AlertChannel.objects.get().consecutive_failures == MAX_ATTEMPTS


def test_it_times_out_a_receiver_that_does_not_answer_and_retries(local_hooks, receivers, channel, incident,
                                                                 settings):
    settings.ALERT_HTTP_TIMEOUT_SECONDS = 1
    receiver = receivers(delay=2.5)
    channel("webhook", receiver.url(), secret=SECRET)
    _check(minutes(31))
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "retrying" and "timed out" in delivery.last_error


def test_it_sends_e_mail_alerts_through_a_real_smtp_server(local_hooks, inbox, channel, incident):
    channel("email", "oncall@ondine.example")
    _check(minutes(31))
    [(recipients, message)] = inbox.messages
    assert recipients == ["oncall@ondine.example"]
    assert " ".join(message["Subject"].split()) == "[Hotline] Raised: Ondine Mobile — not acknowledged"
    assert message["X-Hotline-Delivery"] == str(AlertDelivery.objects.get().delivery_id)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "has not acknowledged “Mobile data outage” after 31 min" in text
    assert f"https://hotline.example/incidents/{incident.pk}/" in text


def test_it_words_an_alert_in_the_channel_language(local_hooks, receivers, channel, incident):
    receiver = receivers()
    channel("slack", receiver.url(), language="fr")
    _check(minutes(31))
    text = receiver.requests[0].json()["text"]
    assert "n’a pas reconnu" in text or "n'a pas reconnu" in text
    assert f"<https://hotline.example/incidents/{incident.pk}/|" in text


def test_it_delivers_the_clearing_and_a_second_occurrence_as_a_second_alert(local_hooks, receivers, channel,
                                                                           brand, incident, inbox):
    hook, slack = receivers(), receivers()
    channel("webhook", hook.url(), secret=SECRET)
    channel("slack", slack.url())
    channel("email", "oncall@ondine.example")
    official(brand, minutes(1), category="apology", text="Sorry: mobile data is down")  # acknowledged at once
    _check(minutes(62))  # no update for 61 min: raised
    official(brand, minutes(70), category="status_update", text="Engineers are on it")
    _check(minutes(71))  # cleared
    _check(minutes(132))  # 62 min without an update again: raised again, a new alert
    states = [(r.json()["alert"], r.json()["state"], r.json()["id"]) for r in hook.requests]
    first, second = Alert.objects.order_by("raised_at")
    assert states == [("update_overdue", "raised", first.pk), ("update_overdue", "cleared", first.pk),
                      ("update_overdue", "raised", second.pk)]
    assert len(slack.requests) == 3 and len(inbox.messages) == 3
    assert [m["Subject"].strip().split(":")[0] for _r, m in inbox.messages] == [
        "[Hotline] Raised", "[Hotline] Cleared", "[Hotline] Raised"]
    assert AlertDelivery.objects.filter(status="sent").count() == 9  # 3 states × 3 channels, each once


def test_it_never_calls_a_private_address_unless_allowed(receivers, channel, incident, settings, team):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    receiver = receivers()
    # Stored before the rule (or by hand): delivery checks the address again and refuses it.
    AlertChannel.objects.create(team=team, kind="webhook", target=receiver.url(), secret=SECRET)
    _check(minutes(31))
    assert receiver.requests == []
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "failed" and "private address 127.0.0.1" in delivery.last_error


def test_it_never_sends_one_delivery_twice(local_hooks, receivers, channel, incident):
    receiver = receivers()
    channel("webhook", receiver.url(), secret=SECRET)
    _check(minutes(31))
    delivery = AlertDelivery.objects.get()
    # A second worker given the same delivery (a duplicate task, a sweep) finds it sent and does nothing.
    assert delivery_attempt(delivery_id=delivery.pk, now=minutes(31)) is None
    assert len(receiver.requests) == 1


def test_a_delivery_a_dead_worker_left_sending_is_taken_over_later(local_hooks, receivers, channel, incident):
    from incidents.alerts import STALE_AFTER, alerts_evaluate, deliveries_due

    receiver = receivers()
    channel("webhook", receiver.url(), secret=SECRET)
    alerts_evaluate(now=minutes(31))
    delivery = AlertDelivery.objects.get()
    # A worker claimed it at 10:31 and died before sending.
    AlertDelivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=minutes(31), attempts=1)
    assert deliveries_due(now=minutes(33)) == []  # it may still be sending
    assert delivery_attempt(delivery_id=delivery.pk, now=minutes(33)) is None
    later = minutes(31) + STALE_AFTER + dt.timedelta(seconds=1)
    assert deliveries_due(now=later) == [delivery.pk]
    _check(later)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == ("sent", 2, 1)
