"""Query parameters: a bad one is a 400 naming it and saying why (dates outside 2000-2099, unknown brands and
platforms, cursors Hotline did not give, parameters a route does not take), never a 500 or an empty list; keyset
pages neither skip nor repeat a mention when new ones arrive while a script pages through."""
from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def analyst_api(world, api_as):
    return api_as(world.users_a["analyst"])


@pytest.mark.parametrize("path,query,field,says", [
    ("/api/v1/mentions/", {"from": "1999-12-31"}, "from", "outside the dates Hotline supports"),
    ("/api/v1/mentions/", {"to": "2100-01-01T00:00:00Z"}, "to", "outside the dates Hotline supports"),
    ("/api/v1/mentions/", {"from": "0001-01-01T00:00:00+14:00"}, "from", "outside the dates Hotline supports"),
    ("/api/v1/mentions/", {"from": "2026-02-30"}, "from", "is not a date Hotline can read"),
    ("/api/v1/mentions/", {"from": "2026-03-03", "to": "2026-03-02"}, "to", "must come after"),
    ("/api/v1/mentions/", {"brand": "nowhere"}, "brand", "There is no brand 'nowhere' among your brands"),
    ("/api/v1/mentions/", {"platform": "myspace"}, "platform", "not a valid choice"),
    ("/api/v1/mentions/", {"answered": "maybe"}, "answered", "Must be a valid boolean"),
    ("/api/v1/mentions/", {"cursor": "bm90IGEgY3Vyc29y"}, "cursor", "not a cursor Hotline gave"),
    ("/api/v1/mentions/", {"limit": "0"}, "limit", "greater than or equal to 1"),
    ("/api/v1/mentions/", {"incident": "99999999999999999999"}, "incident", "less than or equal to"),
    ("/api/v1/mentions/", {"form": "2026-03-01"}, "form", "This route takes no parameter “form”"),
    ("/api/v1/official-posts/", {"category": "gossip"}, "category", "not a valid choice"),
    ("/api/v1/incidents/", {"status": "panicking"}, "status", "not a valid choice"),
    ("/api/v1/incidents/", {"to": "2100-01-02"}, "to", "outside the dates Hotline supports"),
    ("/api/v1/brand-weeks/", {"from": "1999-W52"}, "from", "outside the dates Hotline supports"),
    ("/api/v1/brand-weeks/", {"from": "2026-W99"}, "from", "is not a date Hotline can read (for example 2026-W10)"),
    ("/api/v1/brand-weeks/", {"from": "2020-W01", "to": "2026-W10"}, "from", "At most 104 weeks"),
    ("/api/v1/brand-weeks/", {"from": "2026-W10", "to": "2026-W01"}, "from", "must not come after"),
    ("/api/v1/league/", {"tz": "Mars/Olympus"}, "tz", "is not one of your brands' time zones"),
    ("/api/v1/league/", {"sort": "luck"}, "sort", "not a valid choice"),
    ("/api/v1/brands/", {"format": "xml"}, "format", "This route takes no parameter"),
])
def test_it_refuses_a_bad_parameter_with_a_400_naming_it(analyst_api, path, query, field, says):
    response = analyst_api.get(path, query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"], body
    assert says in " ".join(body["errors"][field]), body
    assert body["message"].startswith(f"{field}: ")


def test_it_refuses_a_parameter_given_twice(analyst_api):
    response = analyst_api.get("/api/v1/mentions/?brand=ondine&brand=quarzel")
    assert response.status_code == 400 and response.json()["errors"] == {"brand": ["Give this parameter once."]}


def test_an_unknown_route_is_a_json_404(analyst_api):
    response = analyst_api.get("/api/v1/incidents/abc/")
    assert response.status_code == 404
    assert response.json()["message"].startswith("There is no such API route")


def _mention(brand, when, n):
    from socialfeed.models import Mention, Post

    post = Post.objects.create(platform="x", platform_id=f"kp{n}", author_id=f"u{n}", author_handle=f"c{n}",
                               created_at=when, text="@ondine_mobile still down")
    return Mention.objects.create(post=post, brand=brand, created_at=when, matched_by="handle")


def test_keyset_pages_neither_skip_nor_repeat_while_mentions_arrive(world, analyst_api):
    base = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for n in range(24):  # pairs share a second: the id breaks the tie
        _mention(world.brand_a, base + dt.timedelta(seconds=n // 2), n)
    seen, pages, query = [], 0, {"brand": "ondine", "limit": 10, "from": "2026-03-02T10:00:00Z"}
    while True:
        page = analyst_api.get("/api/v1/mentions/", query).json()
        seen += [m["id"] for m in page["results"]]
        pages += 1
        if pages == 1:  # a mention arrives while the script pages: it comes at the end, once
            _mention(world.brand_a, base + dt.timedelta(hours=1), 99)
        if not page["next_cursor"]:
            break
        assert page["next"].endswith("cursor=" + page["next_cursor"])
        query["cursor"] = page["next_cursor"]
    assert pages == 3 and len(seen) == len(set(seen)) == 25
    created = [m["created_at"] for m in analyst_api.get("/api/v1/mentions/", {"brand": "ondine", "limit": 100,
                                                                               "from": "2026-03-02T10:00Z"}).json()["results"]]
    assert created == sorted(created)


def test_the_unanswered_queue_pages_oldest_first(world, api_as):
    for n in range(5):
        _mention(world.brand_a, world.incident_a.started_at + dt.timedelta(minutes=n + 1), n)
    api = api_as(world.users_a["comms"])
    first = api.get(f"/api/v1/incidents/{world.incident_a.pk}/unanswered/", {"limit": 4}).json()
    rest = api.get(f"/api/v1/incidents/{world.incident_a.pk}/unanswered/",
                   {"limit": 4, "cursor": first["next_cursor"]}).json()
    waits = [m["waiting_s"] for m in first["results"] + rest["results"]]
    assert len(waits) == 6 and waits == sorted(waits, reverse=True) and rest["next_cursor"] is None


def test_incidents_page_newest_first(world, api_as):
    from incidents.models import Incident

    for n in range(3):
        Incident.objects.create(brand=world.brand_a, title=f"Older {n}",
                                started_at=world.incident_a.started_at - dt.timedelta(days=n + 1),
                                ended_at=world.incident_a.started_at - dt.timedelta(days=n + 1, hours=-1))
    api = api_as(world.users_a["manager"])
    first = api.get("/api/v1/incidents/", {"limit": 2}).json()
    second = api.get("/api/v1/incidents/", {"limit": 2, "cursor": first["next_cursor"]}).json()
    titles = [i["title"] for i in first["results"] + second["results"]]
    assert titles == ["Ondine data outage", "Older 0", "Older 1", "Older 2"]
    ongoing = api.get("/api/v1/incidents/", {"ongoing": "true"}).json()["results"]
    assert [i["title"] for i in ongoing] == ["Ondine data outage"]
