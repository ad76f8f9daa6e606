"""The login lock-out is keyed on user name and client address, the address as Hotline's trusted reverse proxies
report it (TRUSTED_PROXY_COUNT): nobody can lock someone else out, nor escape their own lock-out by writing an
X-Forwarded-For header, whether Hotline is reached directly or through a proxy."""
from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-42"
ATTACKER, VICTIM, PROXY = "203.0.113.9", "198.51.100.4", "10.0.0.2"


def _login(client, *, password: str, remote: str, forwarded: str | None = None) -> bool:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    client.logout()
    client.post(reverse("login"), {"username": "camille", "password": password}, **extra)
    return "_auth_user_id" in client.session


@pytest.fixture
def camille(make_user, settings):
    return make_user(username="camille", role="comms", password=PASSWORD)


def test_direct_an_attacker_cannot_lock_the_victims_address_by_writing_x_forwarded_for(client, camille, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert not _login(client, password="guess", remote=ATTACKER, forwarded=VICTIM)
    # Locked under the address the connection really came from, whatever the header claimed...
    assert not _login(client, password=PASSWORD, remote=ATTACKER, forwarded="192.0.2.77")
    # ...and the victim, at the address the attacker wrote in the header, is not locked out.
    assert _login(client, password=PASSWORD, remote=VICTIM)


def test_proxied_each_client_is_locked_under_the_address_the_proxy_reports(client, camille, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # The proxy appends the address it received the request from; the attacker's own entry comes first.
        assert not _login(client, password="guess", remote=PROXY, forwarded=f"{VICTIM}, {ATTACKER}")
    assert not _login(client, password=PASSWORD, remote=PROXY, forwarded=ATTACKER)
    assert not _login(client, password=PASSWORD, remote=PROXY, forwarded=f"{VICTIM}, {ATTACKER}")
    # Every request comes from the proxy's address; the victim is told apart by what the proxy reports.
    assert _login(client, password=PASSWORD, remote=PROXY, forwarded=VICTIM)


def test_proxied_two_proxies_and_a_request_that_bypassed_them(client, camille, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert not _login(client, password="guess", remote=PROXY, forwarded=f"{VICTIM}, {ATTACKER}, 10.0.0.1")
    assert not _login(client, password=PASSWORD, remote=PROXY, forwarded=f"{ATTACKER}, 10.0.0.1")
    assert _login(client, password=PASSWORD, remote=PROXY, forwarded=f"{VICTIM}, 10.0.0.1")
    # Fewer entries than proxies: the request did not come through them, it is keyed on its own address.
    assert _login(client, password=PASSWORD, remote=VICTIM, forwarded=ATTACKER)


def test_the_client_address_reads_only_what_trusted_proxies_wrote(rf, settings):
    from config.client_address import client_address

    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{VICTIM}, {ATTACKER}")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == PROXY
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == ATTACKER
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == VICTIM
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_address(request) == PROXY
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-address")) == PROXY
