"""A token of team A, whatever its role, sees nothing of team B through the API: every route aimed at team B's
brand or incident answers 404 (a filter naming them: 400 "not among your brands", as for one that does not
exist), no answer holds any of brand B's distinctive strings, and no write reaches brand B.

The routes come from the resolver, so a route added later is walked too; a path parameter the walk cannot aim
at team B fails the test until it is taught."""
from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, get_resolver

from incidents.models import AuditEntry, Incident, IncidentEvent, OffPlatformCommunication
from tests.security.conftest import B_INCIDENT_TITLE, B_SECRETS

pytestmark = pytest.mark.django_db

BULK = {"api:mentions", "api:official_posts"}


def _api_routes() -> list[tuple[str, str]]:
    api = next(r for r in get_resolver().url_patterns if getattr(r, "namespace", None) == "api")
    return [(f"api:{p.name}", str(p.pattern)) for p in api.url_patterns if isinstance(p, URLPattern)]


def _aimed_at_b(pattern: str, world) -> str:
    def value(match):
        name = match["name"]
        if name == "pk":
            return str(world.incident_b.pk)
        if name == "slug":
            return world.brand_b.slug
        pytest.fail(f"the walk does not know how to aim {name!r} of /api/v1/{pattern} at team B")

    path = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, pattern)
    return "/api/v1/" + path.replace("^.*$", "anything-else/")


def _no_secret(response, where: str) -> None:
    body = response.content.decode("utf-8", "replace")
    for secret in B_SECRETS:
        assert secret not in body, f"{where} ({response.status_code}) shows team B's {secret!r}"


def test_it_answers_404_for_team_b_objects_on_every_route(world, api_as):
    routes = _api_routes()
    assert len(routes) >= 15
    object_routes = [(name, p) for name, p in routes if "<" in p]
    assert {name for name, _p in object_routes} >= {"api:brand", "api:incident", "api:incident_timeline",
                                                     "api:incident_communications", "api:incident_unanswered"}
    for role in ("analyst", "comms", "manager", "staff"):
        api = api_as(world.users_a[role])
        for _name, pattern in routes:
            path = _aimed_at_b(pattern, world)
            response = api.get(path)
            _no_secret(response, f"GET {path} as {role}")
            if "<" in pattern:
                assert response.status_code == 404, f"GET {path} as {role}: {response.status_code}"
                assert response.json()["message"], "a 404 still says why"
            else:
                assert response.status_code in (200, 302, 403, 404), f"GET {path} as {role}: {response.status_code}"


def test_it_never_lists_team_b_in_team_a_lists(world, api_as, make_user):
    admin_of_nothing = world.users_a["analyst"]
    api = api_as(admin_of_nothing)
    for path in ("/api/v1/brands/", "/api/v1/incidents/", "/api/v1/mentions/", "/api/v1/official-posts/",
                 "/api/v1/brand-weeks/?from=2026-W09&to=2026-W11", "/api/v1/league/?week=2026-W10",
                 "/api/v1/league/?week=2026-W10&tz=UTC"):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content[:300])
        _no_secret(response, f"GET {path}")
    assert [b["slug"] for b in api.get("/api/v1/brands/").json()] == ["ondine"]
    assert [i["id"] for i in api.get("/api/v1/incidents/").json()["results"]] == [world.incident_a.pk]
    # Team B can see its own: the filter, not the data, is what keeps team A out.
    b_api = api_as(world.user_b)
    assert b_api.get(f"/api/v1/incidents/{world.incident_b.pk}/").json()["title"] == B_INCIDENT_TITLE


@pytest.mark.parametrize("query", ["brand=quarzel", "incident={b}", "brand=ondine&incident={b}"])
def test_it_refuses_filters_naming_team_b_as_it_refuses_unknown_ones(world, api_as, query):
    api = api_as(world.users_a["analyst"])
    for path in ("/api/v1/mentions/", "/api/v1/official-posts/", "/api/v1/incidents/", "/api/v1/brand-weeks/"):
        if "incident" in query and path in ("/api/v1/incidents/", "/api/v1/brand-weeks/"):
            continue
        response = api.get(f"{path}?{query.format(b=world.incident_b.pk)}")
        _no_secret(response, f"GET {path}?{query}")
        assert response.status_code == 400, (path, query, response.content)
        unknown = api.get(f"{path}?{query.replace('quarzel', 'nonexistent').format(b=999999)}")
        assert unknown.status_code == 400
        # The same wording for another team's brand and a brand that does not exist: nothing is disclosed.
        assert response.json()["message"].replace("quarzel", "X").replace(str(world.incident_b.pk), "N") == \
            unknown.json()["message"].replace("nonexistent", "X").replace("999999", "N")


def test_it_lets_no_write_reach_team_b(world, api_as):
    api = api_as(world.users_a["comms"])
    b = world.incident_b.pk
    events, messages = IncidentEvent.objects.count(), OffPlatformCommunication.objects.count()
    answers = [
        api.patch(f"/api/v1/incidents/{b}/", {"title": "hijacked", "status": "resolved"}),
        api.post(f"/api/v1/incidents/{b}/timeline/", {"text": "hijacked", "status": "resolved"}),
        api.post(f"/api/v1/incidents/{b}/communications/", {"channel": "sms", "sent_at": "2026-03-02T10:00:00Z",
                                                            "text": "hijacked"}),
        api.post("/api/v1/incidents/", {"brand": "quarzel", "title": "hijacked", "started_at": "2026-03-02T09:00Z"}),
    ]
    assert [r.status_code for r in answers] == [404, 404, 404, 400]
    assert answers[3].json()["errors"]["brand"] == ["Unknown brand: choose one of your team's brands."]
    incident_b = Incident.objects.get(pk=b)
    assert (incident_b.title, incident_b.status, incident_b.ended_at) == (B_INCIDENT_TITLE, "investigating", None)
    assert (IncidentEvent.objects.count(), OffPlatformCommunication.objects.count()) == (events, messages)
    assert not Incident.objects.filter(title="hijacked").exists()
    assert not AuditEntry.objects.filter(action="api.write").exists()
