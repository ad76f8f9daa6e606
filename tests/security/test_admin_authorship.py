"""The admin, as a staff comms member of team A uses it: authorship is the signed-in user, the people they can pick
are their own teams' members, and every change they make is in the audit log."""
from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import AuditEntry, DigestSubscription, Incident, IncidentEvent

pytestmark = pytest.mark.django_db


def _incident_form(world, **changes) -> dict:
    data = {
        "brand": world.brand_a.pk, "title": "Data outage in Lyon", "started_at_0": "2026-03-02",
        "started_at_1": "09:00:00", "ended_at_0": "", "ended_at_1": "", "severity": "major",
        "status": "investigating", "affected_services": "", "affected_regions": "",
        "events-TOTAL_FORMS": "1", "events-INITIAL_FORMS": "0", "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000", "events-0-kind": "note", "events-0-status": "",
        "events-0-text": "Engineers on site", "events-0-author": "",
    }
    data.update(changes)
    return data


def test_it_makes_the_signed_in_staff_member_the_author_whatever_the_form_says(client, world):
    staff, someone_else = world.users_a["staff"], world.user_b
    client.force_login(staff)
    response = client.post(reverse("admin:incidents_incident_add"), _incident_form(
        world, created_by=someone_else.pk, **{"events-0-author": someone_else.pk}))
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.get(title="Data outage in Lyon")
    assert incident.created_by == staff
    assert list(incident.events.values_list("author__username", flat=True)) == [staff.username]
    form = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert 'name="created_by"' not in form and 'name="events-0-author"' not in form


def test_it_offers_a_staff_member_only_the_people_of_their_own_teams(client, world):
    staff = world.users_a["staff"]
    client.force_login(staff)
    form = client.get(reverse("admin:incidents_digestsubscription_add")).context["adminform"].form
    offered = set(form.fields["user"].queryset.values_list("username", flat=True))
    assert offered == {"a-analyst", "a-comms", "a-manager", "a-staff"}
    response = client.post(reverse("admin:incidents_digestsubscription_add"), {
        "user": world.user_b.pk, "brand": world.brand_a.pk, "time_zone": "UTC"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not DigestSubscription.objects.filter(brand=world.brand_a).exists()


def test_it_writes_every_admin_addition_change_and_deletion_to_the_audit_log(client, world):
    staff = world.users_a["staff"]
    client.force_login(staff)
    client.post(reverse("admin:incidents_incident_add"), _incident_form(world))
    incident = Incident.objects.get(title="Data outage in Lyon")
    added = AuditEntry.objects.get(action="admin.add")
    assert (added.user, added.target) == (staff, f"incidents.incident:{incident.pk}")

    event = incident.events.get()
    changed = _incident_form(world, title="Data outage in Lyon and Grenoble", **{
        "events-INITIAL_FORMS": "1", "events-0-id": event.pk, "events-0-incident": incident.pk})
    assert client.post(reverse("admin:incidents_incident_change", args=[incident.pk]), changed).status_code == 302
    change = AuditEntry.objects.get(action="admin.change")
    assert change.user == staff and change.target == f"incidents.incident:{incident.pk}"
    assert change.details["changes"] == {"title": {"from": "Data outage in Lyon",
                                                   "to": "Data outage in Lyon and Grenoble"}}

    term = world.brand_a.tracking_terms.create(term="Ondine")
    response = client.post(reverse("admin:incidents_trackingterm_delete", args=[term.pk]), {"post": "yes"})
    assert response.status_code == 302
    deleted = AuditEntry.objects.get(action="admin.delete")
    assert deleted.user == staff and deleted.target == f"incidents.trackingterm:{term.pk}"
    assert IncidentEvent.objects.filter(incident=incident).count() == 1
