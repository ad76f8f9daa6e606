"""The weekly digest goes out through a real SMTP server, every Monday 08:00 local, exactly once per week."""
from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse

from incidents import digest
from incidents.models import DigestDelivery, DigestSubscription, Team
from incidents.tasks import send_due_digests

from .conftest import at

# Monday 9 November 2026, 07:05 UTC = 08:05 in Paris (CET): Paris subscribers are due for week 2026-W45.
MONDAY_0805_PARIS = at("2026-11-09 07:05:00")


class _Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's handler protocol
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(settings):
    """A real SMTP server on loopback; Django's SMTP backend points at it."""
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    settings.SITE_URL = "https://hotline.example"
    yield handler
    controller.stop()


@pytest.fixture
def subscriber(make_brand, make_user, conversation):
    brand = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900")
    user = make_user(username="maud", role="manager", teams=["Telecom"])
    user.email = "maud@example.org"
    user.save()
    Team.objects.get(name="Telecom").brands.add(brand)
    DigestSubscription.objects.create(user=user, brand=brand, time_zone="Europe/Paris")
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-03 09:00:00"), reply_after_s=1500, pid=1)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-04 09:00:00"), reply_after_s=None, pid=2)
    return user, brand


def test_it_sends_the_digest_once_even_when_beat_fires_twice(inbox, subscriber):
    send_due_digests.apply(kwargs={"now": MONDAY_0805_PARIS.isoformat()}).get()
    send_due_digests.apply(kwargs={"now": (MONDAY_0805_PARIS + timedelta(seconds=3)).isoformat()}).get()
    send_due_digests.apply(kwargs={"now": (MONDAY_0805_PARIS + timedelta(hours=1)).isoformat()}).get()
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["maud@example.org"]
    assert message["Subject"] == "Hotline weekly digest — Ondine Mobile, 2026-W45"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Mentions: 2" in text and "Reply rate: 50.0 %" in text and "Median FRT: 25 min 00 s" in text
    assert "https://hotline.example/reports/?week=2026-W45&tz=Europe%2FParis&brand=ondine-mobile" in text
    assert "50.0 %" in html and 'href="https://hotline.example/reports/?week=2026-W45' in html
    delivery = DigestDelivery.objects.get()
    assert (delivery.week, delivery.status, delivery.attempts) == ("2026-W45", "sent", 1)


def test_it_waits_for_monday_eight_in_the_subscribers_time_zone(inbox, subscriber):
    user, brand = subscriber
    assert digest.digests_send_due(now=at("2026-11-09 06:05:00")).sent == 0  # 07:05 in Paris
    assert digest.digests_send_due(now=at("2026-11-10 07:05:00")).sent == 0  # Tuesday
    DigestSubscription.objects.filter(user=user).update(time_zone="America/New_York")
    assert digest.digests_send_due(now=MONDAY_0805_PARIS).sent == 0  # 02:05 in New York
    assert digest.digests_send_due(now=at("2026-11-09 13:05:00")).sent == 1  # 08:05 in New York
    assert len(inbox.messages) == 1


def test_it_retries_a_delivery_a_dead_worker_left_behind(inbox, subscriber):
    user, brand = subscriber
    # A worker claimed the digest at 08:05 and died before the message left.
    DigestDelivery.objects.create(user=user, brand=brand, week="2026-W45", claimed_at=MONDAY_0805_PARIS)
    assert digest.digests_send_due(now=MONDAY_0805_PARIS + timedelta(minutes=5)).sent == 0  # maybe still sending
    assert inbox.messages == []
    outcome = digest.digests_send_due(now=MONDAY_0805_PARIS + digest.STALE_AFTER + timedelta(minutes=1))
    assert outcome.sent == 1 and len(inbox.messages) == 1
    delivery = DigestDelivery.objects.get()
    assert delivery.status == "sent" and delivery.attempts == 2


def test_it_retries_next_hour_when_the_smtp_server_is_unreachable(settings, inbox, subscriber):
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _free_port()  # nobody listens there
    assert digest.digests_send_due(now=MONDAY_0805_PARIS).failed == 1
    assert DigestDelivery.objects.get().status == "failed"
    settings.EMAIL_PORT = port
    assert digest.digests_send_due(now=MONDAY_0805_PARIS + timedelta(hours=1)).sent == 1
    assert len(inbox.messages) == 1


def test_it_sends_nothing_about_a_brand_the_subscriber_no_longer_sees(inbox, subscriber):
    user, brand = subscriber
    Team.objects.get(name="Telecom").members.remove(user)
    assert digest.digests_send_due(now=MONDAY_0805_PARIS).sent == 0
    assert inbox.messages == []


def test_it_lets_a_user_subscribe_per_brand_from_their_profile(client, make_brand, make_user):
    ondine = make_brand(name="Ondine Mobile", handle="ondine_mobile")
    volta = make_brand(name="Volta Energie", handle="volta_energie")
    user = make_user(username="maud", role="manager", teams=["Telecom"])
    Team.objects.get(name="Telecom").brands.add(ondine)
    client.force_login(user)
    page = client.get(reverse("reports:digests")).content.decode()
    assert "Ondine Mobile" in page and "Volta" not in page
    # Another team's brand is refused with the value named, and nothing is saved (not half of the form).
    refused = client.post(reverse("reports:digests"), {"brand": [ondine.pk, volta.pk], "time_zone": "Europe/Paris"},
                          follow=True)
    assert f"&#x27;{volta.pk}&#x27; is not one of your brands: nothing was changed." in refused.content.decode()
    assert not DigestSubscription.objects.exists()
    client.post(reverse("reports:digests"), {"brand": [ondine.pk], "time_zone": "Europe/Paris"})
    assert list(DigestSubscription.objects.values_list("brand__slug", "time_zone")) == [
        ("ondine-mobile", "Europe/Paris")]
    client.post(reverse("reports:digests"), {"time_zone": "Europe/Paris"})
    assert not DigestSubscription.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_sends_once_when_two_workers_run_at_the_same_moment(inbox, subscriber):
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    outcomes = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(digest.digests_send_due(now=MONDAY_0805_PARIS))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o.sent for o in outcomes) == [0, 1]
    assert len(inbox.messages) == 1
