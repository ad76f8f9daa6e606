"""Writes through the API check and word exactly what the pages' forms do (the forms and services are the same
code), read times as the pages do, and are audited with the token that made them."""
from __future__ import annotations

import datetime as dt

import pytest

from incidents.forms import CommunicationForm, IncidentForm
from incidents.models import AuditEntry, Brand, Incident, OffPlatformCommunication

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def comms_api(world, api_as):
    return api_as(world.users_a["comms"])


@pytest.mark.parametrize("body,form_data", [
    ({"brand": "ondine", "title": "Future", "started_at": "2099-01-01T09:00:00Z"},
     {"title": "Future", "started_at": "2099-01-01T10:00"}),
    ({"brand": "ondine", "title": "Backwards", "started_at": "2026-03-02T09:00:00Z",
      "ended_at": "2026-03-02T08:00:00Z"},
     {"title": "Backwards", "started_at": "2026-03-02T10:00", "ended_at": "2026-03-02T09:00"}),
    ({"brand": "ondine", "title": "", "started_at": "not a time", "severity": "apocalyptic"},
     {"title": "", "started_at": "not a time", "severity": "apocalyptic"}),
])
def test_it_refuses_an_incident_with_the_forms_own_messages(world, comms_api, body, form_data):
    response = comms_api.post("/api/v1/incidents/", body)
    assert response.status_code == 400
    form = IncidentForm({"brand": str(world.brand_a.pk), "severity": "major", "status": "investigating",
                         **form_data}, brands=Brand.objects.filter(pk=world.brand_a.pk))
    assert not form.is_valid()
    assert response.json()["errors"] == {name: list(errors) for name, errors in form.errors.items()}
    for field in form.errors:
        assert field in response.json()["message"]
    assert Incident.objects.count() == 2


def test_it_reads_times_with_an_offset_as_instants_and_without_one_on_the_brands_clocks(world, comms_api):
    with_offset = comms_api.post("/api/v1/incidents/", {"brand": "ondine", "title": "A",
                                                        "started_at": "2026-03-02T10:00:00+01:00"}).json()
    wall_clock = comms_api.post("/api/v1/incidents/", {"brand": "ondine", "title": "B",
                                                       "started_at": "2026-07-02T10:00:00"}).json()
    assert with_offset["started_at"] == "2026-03-02T09:00:00Z"
    assert wall_clock["started_at"] == "2026-07-02T08:00:00Z"  # Europe/Paris in summer is UTC+2
    assert with_offset["overlapping_incidents"] == [world.incident_a.pk]
    assert with_offset["figures"]["ongoing"] is True


def test_a_partial_update_keeps_the_other_fields_and_their_instants(world, comms_api):
    a = world.incident_a
    before = Incident.objects.get(pk=a.pk)
    response = comms_api.patch(f"/api/v1/incidents/{a.pk}/", {"title": "Data outage, Paris"})
    assert response.status_code == 200
    after = Incident.objects.get(pk=a.pk)
    assert (after.title, after.started_at, after.ended_at, after.severity) == (
        "Data outage, Paris", before.started_at, before.ended_at, before.severity)
    change = AuditEntry.objects.get(action="incident.edit")
    assert change.details["changes"] == {"title": {"from": before.title, "to": "Data outage, Paris"}}


def test_resolving_on_the_timeline_ends_the_window_at_that_time(world, comms_api):
    a = world.incident_a
    response = comms_api.post(f"/api/v1/incidents/{a.pk}/timeline/",
                              {"status": "resolved", "text": "Fixed", "at": "2026-03-02T12:30:00+01:00"})
    assert response.status_code == 201, response.content
    assert response.json()["at"] == "2026-03-02T11:30:00Z"
    incident = Incident.objects.get(pk=a.pk)
    assert (incident.status, incident.ended_at) == ("resolved", dt.datetime(2026, 3, 2, 11, 30, tzinfo=UTC))
    timeline = comms_api.get(f"/api/v1/incidents/{a.pk}/timeline/").json()
    assert [(e["kind"], e["status"], e["text"]) for e in timeline] == [("status", "resolved", "Fixed")]


def test_it_refuses_a_timeline_entry_in_the_future_or_empty(world, comms_api):
    a = world.incident_a.pk
    future = comms_api.post(f"/api/v1/incidents/{a}/timeline/", {"text": "later", "at": "2099-01-01T00:00:00Z"})
    assert future.status_code == 400
    assert future.json()["errors"] == {"at": ["This time is in the future: enter when it really happened."]}
    empty = comms_api.post(f"/api/v1/incidents/{a}/timeline/", {})
    assert empty.status_code == 400 and empty.json()["message"] == "Write a note or choose a new status."


def test_a_communication_is_recorded_as_the_boards_form_records_it(world, comms_api):
    a = world.incident_a.pk
    response = comms_api.post(f"/api/v1/incidents/{a}/communications/", {
        "channel": "sms", "sent_at": "2026-03-02T11:00:00", "text": "Nous sommes désolés pour la panne."})
    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["category"], body["sent_at"]) == ("sms", "apology", "2026-03-02T10:00:00Z")
    assert body["outage_related"] is True
    # Acknowledged by that SMS (METRICS.md §5: an off-platform communication is a broadcast).
    figures = comms_api.get(f"/api/v1/incidents/{a}/").json()["figures"]
    assert (figures["tta_s"], figures["acknowledged_via"]) == (3600.0, "SMS")
    bad = {"channel": "pigeon", "sent_at": "2026-03-02T11:00:00", "text": "x", "url": "javascript:alert(1)"}
    refused = comms_api.post(f"/api/v1/incidents/{a}/communications/", bad)
    form = CommunicationForm({k: v for k, v in bad.items()}, prefix="")
    assert not form.is_valid()
    assert refused.status_code == 400
    assert refused.json()["errors"] == {name: list(errors) for name, errors in form.errors.items()}
    assert OffPlatformCommunication.objects.filter(brand=world.brand_a).count() == 1


@pytest.mark.parametrize("raw,content_type,status,field", [
    ('{"text": "hello", "colour": "red"}', "application/json", 400, "colour"),
    ('{"text": 12}', "application/json", 400, "text"),
    ('{"text": "unterminated', "application/json", 400, ""),
    ("text=hello", "application/x-www-form-urlencoded", 415, ""),
    ('{"sent_at": "0001-01-01T00:00:00Z", "channel": "sms", "text": "x"}', "application/json", 400, "sent_at"),
])
def test_it_refuses_malformed_bodies_with_json_naming_the_field(world, comms_api, raw, content_type, status, field):
    path = f"/api/v1/incidents/{world.incident_a.pk}/"
    path += "communications/" if "sent_at" in raw else "timeline/"
    response = comms_api.client.post(path, raw, content_type=content_type, HTTP_AUTHORIZATION=comms_api.auth)
    assert response.status_code == status
    body = response.json()
    assert body["message"]
    if field:
        assert field in body["errors"] and body["message"].startswith(field)


def test_every_write_is_audited_with_the_token_that_made_it(world, comms_api):
    from incidents.models import ApiToken

    comms_api.post("/api/v1/incidents/", {"brand": "ondine", "title": "Audited", "started_at": "2026-03-02T10:00Z"})
    comms_api.post(f"/api/v1/incidents/{world.incident_a.pk}/timeline/", {"text": "Audited note"})
    token = ApiToken.objects.get(user=world.users_a["comms"])
    writes = AuditEntry.objects.filter(action="api.write").order_by("at")
    assert [(w.details["method"], w.details["status"], w.details["token_name"]) for w in writes] == [
        ("POST", 201, "tests"), ("POST", 201, "tests")]
    assert all(w.details["token"] == token.pk and w.user == world.users_a["comms"] for w in writes)
    # and the service's own entry says what changed, as for a change made on the pages
    opened = AuditEntry.objects.get(action="incident.open")
    assert opened.details["title"] == "Audited" and opened.details["via"] == "api"
    assert AuditEntry.objects.filter(action="incident.note", details__text="Audited note").exists()


def test_the_first_page_of_a_bulk_list_is_audited_as_an_export(world, api_as):
    from incidents.api.pagination import Position, cursor_encode

    api = api_as(world.users_a["analyst"])
    assert api.get("/api/v1/mentions/", {"limit": 1, "platform": "x"}).status_code == 200
    later_page = cursor_encode(Position(at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC), pk=1))
    assert api.get("/api/v1/mentions/", {"limit": 1, "platform": "x", "cursor": later_page}).status_code == 200
    entries = AuditEntry.objects.filter(action="export", target="api:mentions")
    assert entries.count() == 1  # one list, one entry, however many pages a script reads
    assert entries.get().details["platform"] == "x" and entries.get().user == world.users_a["analyst"]


def test_a_form_or_multipart_body_is_a_415_not_an_empty_one(world, comms_api, client):
    path = f"/api/v1/incidents/{world.incident_a.pk}/timeline/"
    multipart = comms_api.client.post(path, {"text": "hello"}, HTTP_AUTHORIZATION=comms_api.auth)
    assert multipart.status_code == 415
    assert multipart.json()["message"] == "Send the body as JSON (Content-Type: application/json)."
    assert not world.incident_a.events.exists()
