"""A brand of one team with an ongoing or coming outage, its alert channels, and real receivers for them.

Times are fixed (NOW); evaluations pass ``now`` explicitly, as beat passes the clock. Posts are written the way
tests/board writes them (tests.board.conftest.mention / official) and rollups rebuilt as ingestion keeps them.
"""
from __future__ import annotations

import datetime as dt

import pytest

from tests.receivers import HttpReceiver, SmtpInbox

UTC = dt.UTC
START = dt.datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def minutes(n: float) -> dt.datetime:
    """START + n minutes."""
    return START + dt.timedelta(minutes=n)


@pytest.fixture
def comms(make_user):
    user = make_user(username="camille", role="comms", teams=["Ondine comms"])
    user.email = "camille@ondine.example"
    user.save()
    return user


@pytest.fixture
def team(comms):
    from incidents.models import Team

    return Team.objects.get(name="Ondine comms")


@pytest.fixture
def brand(make_brand, team):
    return make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", team=team)


@pytest.fixture
def incident(brand):
    """An outage of Ondine Mobile that started at START and goes on."""
    from incidents.models import Incident

    return Incident.objects.create(brand=brand, title="Mobile data outage", started_at=START)


@pytest.fixture
def receivers():
    """receivers(script=[500, 500], default=200, delay=0) starts an HTTP receiver; all stop after the test."""
    started: list[HttpReceiver] = []

    def _start(**kwargs) -> HttpReceiver:
        receiver = HttpReceiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield _start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def local_hooks(settings):
    """The receivers run on 127.0.0.1: a closed network, so Hotline is told private addresses are fine."""
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = True
    settings.SITE_URL = "https://hotline.example"
    return settings


@pytest.fixture
def inbox(settings):
    """A real SMTP server on loopback; Django's SMTP backend points at it."""
    server = SmtpInbox().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def channel(team):
    """channel(kind, target, secret="") adds an alert channel to the team, as the team page would."""
    from incidents.alert_channels import alert_channel_add

    def _add(kind: str, target: str, secret: str = "", language: str = "en"):
        return alert_channel_add(team=team, kind=kind, target=target, secret=secret, language=language)

    return _add
