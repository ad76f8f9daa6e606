"""Declaring and editing an incident: the window is typed in the brand's time zone and stored in UTC."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from incidents.models import Incident

pytestmark = pytest.mark.django_db


def _form(chosen, **overrides):
    data = {"brand": chosen.pk, "title": "Fibre down in Lyon", "started_at": "2025-03-04T11:00",
            "ended_at": "2025-03-04T13:00", "severity": "major", "status": "investigating"}
    data.update(overrides)
    return data


def test_it_stores_the_window_in_utc(comms_client, brand):
    response = comms_client.post(reverse("incidents:new"), _form(brand))
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert incident.started_at == dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC)  # 11:00 in Paris
    assert incident.ended_at == dt.datetime(2025, 3, 4, 12, 0, tzinfo=dt.UTC)


def test_it_refuses_an_end_before_the_start(comms_client, brand):
    response = comms_client.post(reverse("incidents:new"), _form(brand, ended_at="2025-03-04T10:00"))
    assert "The end must come after the start." in response.content.decode()
    assert not Incident.objects.exists()


def test_it_refuses_a_window_in_the_future(comms_client, brand):
    response = comms_client.post(reverse("incidents:new"), _form(brand, started_at="2099-01-01T10:00", ended_at=""))
    assert "The outage cannot start in the future." in response.content.decode()


def test_it_refuses_an_unknown_brand(comms_client, brand, make_brand):
    stranger = make_brand(name="Volta Energie", slug="volta")  # exists, but not in this user's teams
    for value in (stranger.pk, 987654):
        response = comms_client.post(reverse("incidents:new"), _form(brand, brand=value))
        assert "Unknown brand: choose one of your team" in response.content.decode()
    assert not Incident.objects.exists()


def test_it_shows_the_window_in_the_brands_zone_when_editing(comms_client, outage):
    body = comms_client.get(reverse("incidents:edit", kwargs={"pk": outage.pk})).content.decode()
    assert 'value="2025-03-04T11:00"' in body


def test_it_lets_only_comms_declare_incidents(client, make_user, brand):
    client.force_login(make_user(username="ana", role="analyst", teams=["Ondine comms"]))
    assert client.get(reverse("incidents:new")).status_code == 403


def test_it_warns_when_a_new_incident_overlaps_another_of_the_same_brand(comms_client, outage, brand):
    # The outage runs 11:00–13:00 Paris time; this one 12:00–14:00.
    response = comms_client.post(reverse("incidents:new"), _form(brand, started_at="2025-03-04T12:00",
                                                                 ended_at="2025-03-04T14:00"), follow=True)
    body = response.content.decode()
    assert Incident.objects.count() == 2  # accepted: two outages can run at once
    assert "overlaps “Mobile data outage”" in body and "count in both" in body
    assert "Overlaps with:" in body  # and the board keeps saying so


def test_it_says_nothing_when_the_windows_only_touch(comms_client, outage, brand):
    response = comms_client.post(reverse("incidents:new"), _form(brand, started_at="2025-03-04T13:00",
                                                                 ended_at="2025-03-04T14:00"), follow=True)
    assert "overlaps" not in response.content.decode()


def test_the_admin_warns_of_an_overlap_too(client, outage, brand):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "hotline-test-pass"))
    response = client.post(reverse("admin:incidents_incident_add"), {
        "brand": brand.pk, "title": "Second outage", "started_at_0": "2025-03-04", "started_at_1": "11:00:00",
        "severity": "major", "status": "investigating", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"},
        follow=True)
    assert Incident.objects.count() == 2
    assert "overlaps “Mobile data outage”" in response.content.decode()
