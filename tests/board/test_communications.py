"""Off-platform communications (METRICS.md §1) recorded from the board and the admin: stored with the time they
were really sent, read in the brand's zone, and counted as broadcasts in the §5 figures."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.figures import incident_figures
from incidents.models import AuditEntry, Incident, OffPlatformCommunication

from .conftest import START

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent(brand):
    """An ongoing incident of Ondine Mobile (Europe/Paris) that started three hours ago, with no official word."""
    return Incident.objects.create(brand=brand, title="SMS outage",
                                   started_at=timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=3))


def _form(incident, sent_at, **overrides):
    from zoneinfo import ZoneInfo

    data = {"channel": "sms", "sent_at": sent_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M"),
            "text": "Ondine Mobile : toutes nos excuses pour la panne de messagerie.", "url": "", "category": ""}
    data.update(overrides)
    return {f"communication-{name}": value for name, value in data.items()}


def test_it_records_an_sms_typed_in_the_brands_zone_and_counts_it_as_the_acknowledgement(comms_client, silent):
    sent = silent.started_at + dt.timedelta(hours=1, minutes=40)
    response = comms_client.post(reverse("incidents:communication", kwargs={"pk": silent.pk}), _form(silent, sent),
                                 follow=True)
    communication = OffPlatformCommunication.objects.get()
    assert communication.sent_at == sent  # typed as Paris wall-clock time, stored in UTC
    assert communication.category == "apology"  # read by the category rules, as for official posts
    assert communication.brand == silent.brand and communication.recorded_by.username == "camille"
    body = response.content.decode()
    assert "SMS recorded as apology." in body
    assert "toutes nos excuses pour la panne" in body and "Europe/Paris" in body
    figures = incident_figures(incident=silent)
    assert figures["tta_s"] == 100 * 60 and figures["acknowledged_via"] == "SMS"
    assert figures["first_update_s"] == 100 * 60
    assert AuditEntry.objects.filter(action="incident.communication", user__username="camille").exists()


def test_it_keeps_the_category_the_comms_team_chooses(comms_client, silent):
    comms_client.post(reverse("incidents:communication", kwargs={"pk": silent.pk}),
                      _form(silent, silent.started_at + dt.timedelta(hours=1), channel="video", category="status_update",
                            text="Our CEO explains the outage", url="https://video.ondine.example/ceo"))
    communication = OffPlatformCommunication.objects.get()
    assert (communication.channel, communication.category, communication.url) == (
        "video", "status_update", "https://video.ondine.example/ceo")


@pytest.mark.parametrize("overrides, message", [
    ({"url": "javascript:alert(1)"}, "Link:"),
    ({"url": "ftp://files.ondine.example/apology.txt"}, "A link must start with http:// or https://."),
    ({"channel": "pigeon"}, "Channel:"),
    ({"text": "   "}, "Text or summary:"),
])
def test_it_refuses_a_bad_link_channel_or_text_and_stores_nothing(comms_client, silent, overrides, message):
    response = comms_client.post(reverse("incidents:communication", kwargs={"pk": silent.pk}),
                                 _form(silent, silent.started_at, **overrides), follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    assert not OffPlatformCommunication.objects.exists()


def test_it_refuses_a_communication_sent_in_the_future(comms_client, silent):
    response = comms_client.post(reverse("incidents:communication", kwargs={"pk": silent.pk}),
                                 _form(silent, timezone.now() + dt.timedelta(hours=2)), follow=True)
    assert "This time is in the future" in response.content.decode()
    assert not OffPlatformCommunication.objects.exists()


def test_readers_cannot_record_communications(client, make_user, silent):
    client.force_login(make_user(username="max", role="manager", teams=["Ondine comms"]))
    response = client.post(reverse("incidents:communication", kwargs={"pk": silent.pk}),
                           _form(silent, silent.started_at))
    assert response.status_code == 403 and not OffPlatformCommunication.objects.exists()


def test_a_communication_counts_for_every_incident_of_its_brand_whose_window_holds_it(comms_client, outage, brand):
    from incidents.services import communication_record

    other = Incident.objects.create(brand=brand, title="Second outage", started_at=START - dt.timedelta(hours=1),
                                    ended_at=START + dt.timedelta(hours=3))
    communication_record(incident=other, channel="email", sent_at=START + dt.timedelta(minutes=2),
                         text="Nous sommes désolés : une panne touche la messagerie.")
    # Recorded on the other incident, it is still a broadcast of the brand inside this window (METRICS.md §1).
    figures = incident_figures(incident=outage, now=START + dt.timedelta(days=1))
    assert figures["tta_s"] == 120 and figures["first_update_s"] == 120
    assert figures["acknowledged_via"] == "e-mail"


def test_a_promotional_sms_inside_the_window_is_off_message(outage):
    from incidents.services import communication_record

    communication_record(incident=outage, channel="sms", sent_at=START + dt.timedelta(minutes=50),
                         text="Jeu concours : gagnez un smartphone, répondez GAGNE au 3232 !")
    figures = incident_figures(incident=outage, now=START + dt.timedelta(days=1))
    assert figures["off_message_count"] == 2  # the 10:05 promotion and this SMS


def test_the_admin_records_a_communication_with_the_rules_category_and_who_recorded_it(client, silent):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "hotline-test-pass")
    client.force_login(admin)
    sent = silent.started_at + dt.timedelta(minutes=30)
    response = client.post(reverse("admin:incidents_offplatformcommunication_add"), {
        "brand": silent.brand.pk, "incident": silent.pk, "channel": "press", "sent_at_0": sent.strftime("%Y-%m-%d"),
        "sent_at_1": sent.strftime("%H:%M:%S"), "text": "Communiqué : une panne perturbe la messagerie, nos équipes "
        "sont mobilisées.", "url": "https://www.ondine.example/presse", "category": ""})
    assert response.status_code == 302
    communication = OffPlatformCommunication.objects.get()
    assert communication.category == "status_update" and communication.recorded_by == admin


def test_the_admin_refuses_a_link_that_is_not_a_web_link(client, silent):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "hotline-test-pass"))
    response = client.post(reverse("admin:incidents_offplatformcommunication_add"), {
        "brand": silent.brand.pk, "channel": "blog", "sent_at_0": "2025-03-04", "sent_at_1": "10:00:00",
        "text": "Blog post", "url": "ftp://files.ondine.example/post", "category": ""})
    assert response.status_code == 200 and "must start with http:// or https://" in response.content.decode()
    assert not OffPlatformCommunication.objects.exists()
