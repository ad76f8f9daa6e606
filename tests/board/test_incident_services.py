"""Opening, editing and annotating an incident goes through incidents.services, which audits who changed what."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents.models import AuditEntry, Incident, IncidentEvent
from incidents.services import incident_add_note, incident_open, incident_update

from .conftest import END, START

pytestmark = pytest.mark.django_db


def test_it_opens_an_incident_and_audits_who_opened_it(brand, comms):
    incident = incident_open(brand=brand, title="SMS down", started_at=START, severity="major",
                             status="investigating", affected_regions="Lyon", author=comms)
    entry = AuditEntry.objects.get(action="incident.open")
    assert incident.created_by == comms and incident.ended_at is None and incident.affected_regions == "Lyon"
    assert entry.user == comms and entry.target == f"incident:{incident.pk}"
    assert entry.details["started_at"] == "2025-03-04T10:00:00+00:00"


def test_it_refuses_to_open_an_incident_that_ends_before_it_starts(brand, comms):
    with pytest.raises(ValidationError):
        incident_open(brand=brand, title="SMS down", started_at=END, ended_at=START, severity="major",
                      status="investigating", author=comms)
    assert not Incident.objects.exists() and not AuditEntry.objects.exists()


def test_it_audits_each_changed_field_with_its_old_and_new_value(outage, comms):
    incident_update(incident=outage, author=comms, title="Mobile data outage", severity="critical",
                    ended_at=END + dt.timedelta(minutes=30))
    entry = AuditEntry.objects.get(action="incident.edit")
    assert entry.details["changes"] == {
        "severity": {"from": "major", "to": "critical"},
        "ended_at": {"from": "2025-03-04T12:00:00+00:00", "to": "2025-03-04T12:30:00+00:00"},
    }
    outage.refresh_from_db()
    assert outage.severity == "critical"


def test_it_puts_a_status_change_made_while_editing_on_the_timeline(outage, comms):
    incident_update(incident=outage, author=comms, status="resolved")
    assert list(outage.events.values_list("kind", "status")) == [("status", "resolved")]


def test_it_writes_nothing_when_nothing_changed(outage, comms):
    incident_update(incident=outage, author=comms, title=outage.title)
    assert not AuditEntry.objects.exists()


def test_it_refuses_fields_comms_cannot_edit(outage, comms):
    with pytest.raises(ValueError):
        incident_update(incident=outage, author=comms, created_by=None)


def test_it_adds_a_note_and_audits_it(outage, comms):
    event = incident_add_note(incident=outage, author=comms, text="  Engineers on site in Lyon  ")
    assert event.text == "Engineers on site in Lyon" and event.kind == IncidentEvent.Kind.NOTE
    assert AuditEntry.objects.get(action="incident.note").details["event"] == event.pk


def test_the_pages_go_through_the_services(comms_client, outage, brand):
    comms_client.post(reverse("incidents:event", kwargs={"pk": outage.pk}), {"text": "On it", "status": ""})
    comms_client.post(reverse("incidents:edit", kwargs={"pk": outage.pk}), {
        "brand": brand.pk, "title": "Mobile data outage in Lyon", "started_at": "2025-03-04T11:00",
        "ended_at": "2025-03-04T13:00", "severity": "major", "status": "investigating",
        "affected_regions": "Lyon"})
    comms_client.post(reverse("incidents:new"), {
        "brand": brand.pk, "title": "SMS down", "started_at": "2025-03-04T15:00", "severity": "minor",
        "status": "investigating"})
    actions = sorted(AuditEntry.objects.values_list("action", "user__username"))
    assert actions == [("incident.edit", "camille"), ("incident.note", "camille"), ("incident.open", "camille")]
    assert AuditEntry.objects.get(action="incident.edit").details["changes"]["title"]["to"] == \
        "Mobile data outage in Lyon"
