"""The incidents list: ongoing first, filters, and the complaint-spike banner (METRICS.md §7)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from socialfeed.rollups import rollups_rebuild

from .conftest import mention

pytestmark = pytest.mark.django_db


def test_it_lists_ongoing_incidents_first_with_their_figures(comms_client, outage, brand):
    Incident.objects.create(brand=brand, title="Fibre cut", started_at=timezone.now() - dt.timedelta(hours=1))
    body = comms_client.get(reverse("incidents:home")).content.decode()
    assert body.index("Fibre cut") < body.index("Mobile data outage")
    assert "67 %" in body and "12 min" in body  # reply rate and time to acknowledge of the past one


def test_it_filters_by_status_and_date(comms_client, outage):
    assert "Mobile data outage" not in comms_client.get(reverse("incidents:home"), {"status": "monitoring"}).content.decode()
    assert "Mobile data outage" in comms_client.get(reverse("incidents:home"), {"date": "2025-03-04"}).content.decode()
    assert "Mobile data outage" not in comms_client.get(reverse("incidents:home"), {"date": "2025-03-06"}).content.decode()


def test_it_suggests_an_incident_when_complaints_spike_and_opens_it_in_one_click(comms_client, brand):
    now = timezone.now()
    for day in range(1, 8):  # a normal week: one complaint an hour or so
        mention(brand, now - dt.timedelta(days=day, minutes=7), complaint=True)
    spike_start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=min(now.minute, 20))
    for i in range(30):
        mention(brand, spike_start + dt.timedelta(seconds=20 * i), complaint=True, label="negative")
    rollups_rebuild(brand_id=brand.id)
    body = comms_client.get(reverse("incidents:home")).content.decode()
    assert "Complaints about Ondine Mobile are spiking" in body
    response = comms_client.post(reverse("incidents:suggestion_confirm", kwargs={"brand_slug": brand.slug}))
    incident = Incident.objects.get()
    assert response.status_code == 302 and incident.ended_at is None
    assert incident.started_at == spike_start
    assert "are spiking" not in comms_client.get(reverse("incidents:home")).content.decode()  # now covered
