"""``manage.py alert_channel add|list|remove``: channels an operator can script, refused with the field named and
nothing stored when the address is wrong, and ``manage.py alerts_check`` printing what it did."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.models import AlertChannel

from .conftest import minutes

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("alert_channel", *args, stdout=out)
    return out.getvalue()


def test_it_adds_lists_and_removes_channels(team):
    assert "Added channel" in _run("add", "--team", "Ondine comms", "--kind", "email", "--target",
                                   "oncall@ondine.example")
    printed = _run("add", "--team", "Ondine comms", "--kind", "webhook", "--target",
                   "https://hooks.ondine.example/hotline")
    webhook = AlertChannel.objects.get(kind="webhook")
    assert f"Signing secret (put it in your receiver; it is not shown in full again): {webhook.secret}" in printed
    assert len(webhook.secret) >= 32
    _run("add", "--team", "Ondine comms", "--kind", "slack", "--target",
         "https://hooks.slack.com/services/T000/B000/XXXX", "--language", "fr")
    listing = _run("list", "--team", "Ondine comms")
    assert listing.count("nothing sent yet") == 3
    assert webhook.secret not in listing and f"…{webhook.secret[-4:]}" in listing
    assert AlertChannel.objects.get(kind="slack").language == "fr"
    assert f"Removed channel {webhook.pk}" in _run("remove", str(webhook.pk))
    assert AlertChannel.objects.count() == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "webhook", "--target", "ftp://hooks.ondine.example/x"],
     "--target: ftp://hooks.ondine.example/x is not a web address: it must start with https://"),
    (["--kind", "webhook", "--target", "hooks.ondine.example/x"], "--target: hooks.ondine.example/x is not a web"),
    (["--kind", "slack", "--target", "http://127.0.0.1:8161/hook"], "--target: 127.0.0.1 is a loopback or private"),
    (["--kind", "webhook", "--target", "https://10.1.2.3/hook"], "--target: 10.1.2.3 is a loopback or private"),
    (["--kind", "webhook", "--target", "http://localhost/hook"], "--target: localhost is a loopback or private"),
    (["--kind", "webhook", "--target", "http://[::1]:8000/hook"], "--target: ::1 is a loopback or private"),
    (["--kind", "webhook", "--target", "https://169.254.169.254/latest"], "--target: 169.254.169.254 is a loopback"),
    (["--kind", "webhook", "--target", "https://hooks.ondine.example/x", "--secret", "short"],
     "--secret: A signing secret needs at least 16 characters."),
    (["--kind", "email", "--target", "not-an-address"], "--target: not-an-address is not an e-mail address."),
])
def test_it_refuses_a_bad_channel_naming_the_field_and_stores_nothing(team, settings, args, message):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(CommandError) as refused:
        _run("add", "--team", "Ondine comms", *args)
    assert str(refused.value).startswith("Nothing stored.") and message in str(refused.value)
    assert not AlertChannel.objects.exists()


def test_it_takes_a_private_address_when_the_operator_allows_them(team, settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = True
    _run("add", "--team", "Ondine comms", "--kind", "webhook", "--target", "http://10.1.2.3:8080/hotline")
    assert AlertChannel.objects.get().target == "http://10.1.2.3:8080/hotline"


def test_it_names_an_unknown_team_or_channel(team):
    with pytest.raises(CommandError, match="--team: there is no team 'Nobody'"):
        _run("add", "--team", "Nobody", "--kind", "email", "--target", "a@b.example")
    with pytest.raises(CommandError, match="ID: there is no alert channel 999"):
        _run("remove", "999")


def test_alerts_check_prints_what_it_raised_cleared_and_delivered(incident, channel, brand):
    from tests.board.conftest import official

    channel("email", "oncall@ondine.example")
    out = StringIO()
    call_command("alerts_check", "--now", minutes(31).isoformat(), stdout=out)
    printed = out.getvalue()
    assert "Raised not_acknowledged for ondine: Ondine Mobile has not acknowledged" in printed
    assert "raised alert" in printed and "→ e-mail oncall@ondine.example: sent" in printed
    assert printed.strip().endswith("1 raised, 0 cleared, 1 delivered, 0 not delivered.")
    official(brand, minutes(35), category="apology", text="Sorry, we are on it")
    out = StringIO()
    call_command("alerts_check", "--now", minutes(36).isoformat(), "--brand", "ondine", stdout=out)
    assert "Cleared not_acknowledged for ondine" in out.getvalue()
    assert out.getvalue().strip().endswith("0 raised, 1 cleared, 1 delivered, 0 not delivered.")


def test_alerts_check_names_a_bad_option(team):
    with pytest.raises(CommandError, match="--now 'yesterday' is not a date Hotline can read"):
        call_command("alerts_check", "--now", "yesterday")
    with pytest.raises(CommandError, match="--brand: unknown brand slug"):
        call_command("alerts_check", "--brand", "nope")
