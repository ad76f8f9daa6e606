"""What a token may do is what its user may do: only comms write, and only analysts and administrators list
mentions and official posts in bulk (the exports' rule)."""
from __future__ import annotations

import pytest

from incidents.models import AuditEntry, Incident, IncidentEvent, OffPlatformCommunication

pytestmark = pytest.mark.django_db


def _writes(world):
    a = world.incident_a.pk
    return [
        ("post", "/api/v1/incidents/", {"brand": "ondine", "title": "Second outage",
                                        "started_at": "2026-03-02T10:00:00Z"}),
        ("patch", f"/api/v1/incidents/{a}/", {"title": "Renamed", "status": "resolved"}),
        ("post", f"/api/v1/incidents/{a}/timeline/", {"text": "Engineers on site", "status": "identified"}),
        ("post", f"/api/v1/incidents/{a}/communications/", {"channel": "sms", "sent_at": "2026-03-02T10:00:00Z",
                                                            "text": "Nous sommes désolés pour la panne."}),
    ]


def _state(world):
    incident = Incident.objects.get(pk=world.incident_a.pk)
    return (Incident.objects.count(), incident.title, incident.status, IncidentEvent.objects.count(),
            OffPlatformCommunication.objects.count())


@pytest.mark.parametrize("role", ["manager", "analyst"])
def test_a_token_of_someone_who_is_not_comms_cannot_write(world, api_as, role):
    api = api_as(world.users_a[role])
    before = _state(world)
    for method, path, body in _writes(world):
        response = getattr(api, method)(path, body)
        assert response.status_code == 403, (role, method, path, response.content)
        assert response.json()["message"] == "Only the comms team can change incidents."
    assert _state(world) == before
    assert not AuditEntry.objects.filter(action__in=["api.write", "incident.open", "incident.edit"]).exists()


def test_a_comms_token_writes_each_change_once(world, api_as):
    api = api_as(world.users_a["comms"])
    codes = [getattr(api, method)(path, body).status_code for method, path, body in _writes(world)]
    assert codes == [201, 200, 201, 201]
    assert Incident.objects.filter(title="Second outage").count() == 1
    assert Incident.objects.get(pk=world.incident_a.pk).title == "Renamed"


# The exports rule (incidents.roles.can_export): analysts and administrators; a staff comms member does not export.
@pytest.mark.parametrize("role,allowed", [("analyst", True), ("staff", False), ("comms", False),
                                          ("manager", False)])
def test_bulk_lists_follow_the_exports_rule(world, api_as, role, allowed):
    api = api_as(world.users_a[role])
    for path in ("/api/v1/mentions/", "/api/v1/official-posts/"):
        response = api.get(path)
        if allowed:
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            assert "as for CSV exports" in response.json()["message"]
    # The figures themselves are for everyone who sees the brand.
    for path in ("/api/v1/incidents/", f"/api/v1/incidents/{world.incident_a.pk}/unanswered/",
                 "/api/v1/brand-weeks/", "/api/v1/league/"):
        assert api.get(path).status_code == 200
