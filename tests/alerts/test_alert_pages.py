"""The team's settings page (alert channels), a brand's alert log and the spike link: what a comms team sees."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from incidents.alerts import alerts_evaluate, delivery_attempt
from incidents.models import AlertChannel, AlertDelivery, AuditEntry
from socialfeed.rollups import rollups_rebuild
from tests.board.conftest import mention, official

from .conftest import START, minutes

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_comms_user_adds_and_removes_channels_on_the_team_page(client, comms, team, settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(comms)
    url = reverse("incidents:team_settings", args=[team.pk])
    assert client.get(reverse("incidents:teams")).url == url  # one team: straight to it
    response = client.post(url, {"kind": "webhook", "target": "https://hooks.ondine.example/hotline",
                                 "secret": "", "language": "fr"}, follow=True)
    channel = AlertChannel.objects.get()
    assert channel.language == "fr" and len(channel.secret) >= 32
    assert any(channel.secret in m for m in _messages(response))  # shown once, to copy into the receiver
    page = client.get(url).content.decode()
    assert channel.secret not in page and f"…{channel.secret[-4:]}" in page
    assert AuditEntry.objects.filter(action="alert_channel.add", user=comms).exists()
    client.post(reverse("incidents:channel_remove", args=[team.pk, channel.pk]))
    assert not AlertChannel.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "webhook", "target": "javascript:alert(1)"}, "E-mail address or URL: javascript:alert(1) is not a web"),
    ({"kind": "slack", "target": "http://192.168.1.10/hook"}, "E-mail address or URL: 192.168.1.10 is a loopback or "
                                                               "private address"),
    ({"kind": "email", "target": "https://hooks.example/x"}, "E-mail address or URL: https://hooks.example/x is not an "
                                                             "e-mail address."),
    ({"kind": "pigeon", "target": "a@b.example"}, "Kind: Select a valid choice."),
    ({"kind": "webhook", "target": "https://hooks.example/x", "secret": "tiny"},
     "Signing secret (webhooks): A signing secret needs at least 16 characters."),
])
def test_the_team_page_refuses_a_bad_channel_naming_the_field(client, comms, team, settings, data, message):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(comms)
    response = client.post(reverse("incidents:team_settings", args=[team.pk]), {"language": "en", **data})
    assert response.status_code == 200
    assert any(m.startswith(message) for m in _messages(response)), _messages(response)
    assert not AlertChannel.objects.exists()


def test_a_manager_cannot_change_channels_and_another_team_cannot_see_them(client, make_user, comms, team):
    channel = AlertChannel.objects.create(team=team, kind="email", target="oncall@ondine.example")
    client.force_login(make_user(username="maud", role="manager", teams=["Ondine comms"]))
    url = reverse("incidents:team_settings", args=[team.pk])
    assert "oncall@ondine.example" in client.get(url).content.decode()
    assert client.post(url, {"kind": "email", "target": "x@y.example", "language": "en"}).status_code == 403
    assert client.post(reverse("incidents:channel_remove", args=[team.pk, channel.pk])).status_code == 403
    client.force_login(make_user(username="otto", role="comms", teams=["Other team"]))
    assert client.get(url).status_code == 404
    assert client.post(reverse("incidents:channel_remove", args=[team.pk, channel.pk])).status_code == 404
    assert AlertChannel.objects.count() == 1


def test_the_alert_log_shows_raised_cleared_and_where_each_went(client, comms, team, brand, incident):
    ok = AlertChannel.objects.create(team=team, kind="email", target="oncall@ondine.example")
    alerts_evaluate(now=minutes(31))
    for delivery in AlertDelivery.objects.all():
        delivery_attempt(delivery_id=delivery.pk, now=minutes(31))
    official(brand, minutes(40), category="apology", text="Sorry, we are on it")
    alerts_evaluate(now=minutes(41))
    client.force_login(comms)
    html = client.get(reverse("incidents:alert_log", args=["ondine"])).content.decode()
    assert "not acknowledged" in html and "Ondine Mobile has not acknowledged “Mobile data outage” after 31 min" in html
    assert "raised → e-mail oncall@ondine.example: ✓ sent" in html
    assert "cleared → e-mail oncall@ondine.example: waiting to be sent" in html
    # Times in the brand's zone: 10:31 UTC is 11:31 in Paris.
    assert ">2025-03-04 11:31<" in html and ">2025-03-04 11:41<" in html and "Europe/Paris" in html
    assert ok.display_target in html and "✓ working" in html


def test_the_alert_log_is_empty_with_a_hint_and_hidden_from_other_teams(client, comms, make_user, brand):
    client.force_login(comms)
    html = client.get(reverse("incidents:alert_log", args=["ondine"])).content.decode()
    assert "No alert yet." in html and "No alert channel yet" in html
    client.force_login(make_user(username="otto", role="comms", teams=["Other team"]))
    assert client.get(reverse("incidents:alert_log", args=["ondine"])).status_code == 404


def test_a_spike_alert_link_opens_the_suggested_incident(client, comms, brand):
    from django.utils import timezone

    from incidents.models import Incident

    now = timezone.now()
    for i in range(30):
        mention(brand, now - dt.timedelta(minutes=40) + dt.timedelta(seconds=60 * i), complaint=True,
                label="negative")
    rollups_rebuild(brand_id=brand.id)
    [spike] = alerts_evaluate(now=now).raised
    client.force_login(comms)
    page = client.get(reverse("incidents:suggestion", args=["ondine"])).content.decode()
    assert "Complaints about Ondine Mobile are spiking" in page and "Open this incident" in page
    client.post(reverse("incidents:suggestion_confirm", args=["ondine"]))
    assert Incident.objects.filter(brand=brand, ended_at__isnull=True).exists()
    page = client.get(reverse("incidents:suggestion", args=["ondine"])).content.decode()
    assert "There is no spike to open an incident for any more" in page
    assert spike.kind == "spike" and START < now


def test_the_navigation_leads_to_the_alert_settings(client, comms):
    client.force_login(comms)
    assert f'href="{reverse("incidents:teams")}"' in client.get(reverse("incidents:home")).content.decode()


def test_the_admin_refuses_a_private_webhook_and_signs_every_webhook_it_adds(client, team, settings):
    from django.contrib.auth import get_user_model

    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-only"))
    url = reverse("admin:incidents_alertchannel_add")
    data = {"team": team.pk, "kind": "webhook", "target": "http://127.0.0.1:9/hook", "secret": "", "language": "en"}
    refused = client.post(url, data)
    assert refused.status_code == 200 and "127.0.0.1 is a loopback or private address" in refused.content.decode()
    assert not AlertChannel.objects.exists()
    response = client.post(url, {**data, "target": "https://hooks.ondine.example/hotline"}, follow=True)
    channel = AlertChannel.objects.get()
    assert len(channel.secret) >= 32 and channel.secret in response.content.decode()  # shown once
    change = reverse("admin:incidents_alertchannel_change", args=[channel.pk])
    assert channel.secret not in client.get(change).content.decode()  # never in the form again
    client.post(change, {**data, "target": "https://hooks.ondine.example/hotline-v2"})
    kept = AlertChannel.objects.get()
    assert kept.target.endswith("hotline-v2") and kept.secret == channel.secret  # empty field: secret kept
