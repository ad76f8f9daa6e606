"""Walk every URL of the project as each kind of team A user, aimed at team B's brand, incident, source and posts.

The URL list comes from the resolver itself, so a page added later is walked too; a path parameter the walk does
not know how to aim at brand B fails the test until it is taught. Each answer must be a refusal (403/404/405/400)
or a page, CSV or JSON that contains none of brand B's distinctive strings; POSTs must leave brand B untouched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from incidents.models import Incident, Team
from tests.security.conftest import B_INCIDENT_TITLE, B_SECRETS, T0

pytestmark = pytest.mark.django_db

REFUSALS = {400, 403, 404, 405, 415}  # 415: the API refuses the walk's form posts (it takes JSON only)
# Logging out would end the walk's session; logging in is not brand data. Both are still walked with GET.
NO_POST = {"logout", "admin:logout"}
WEEK_QUERY = "brand=quarzel&week=2026-W10&from=2026-03-01&to=2026-03-09&platform=x"


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name, or the pattern text when unnamed
    pattern: str  # the full pattern, for messages
    parts: tuple  # (pattern object, ...) from the root down


def _routes(resolver: URLResolver, parents: tuple = (), namespace: str = "") -> list[Route]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}:{entry.namespace}".strip(":") if entry.namespace else namespace
            found += _routes(entry, parents + (entry.pattern,), ns)
        elif isinstance(entry, URLPattern):
            parts = parents + (entry.pattern,)
            text = "".join(str(p) for p in parts)
            name = f"{namespace}:{entry.name}".strip(":") if entry.name else text
            found.append(Route(name=name, pattern=text, parts=parts))
    return found


_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*(?:\([^()]*\)[^()]*)*)\)")


def _params(route: Route) -> list[str]:
    names = []
    for part in route.parts:
        text = str(part)
        pattern = _REGEX_PARAM if "(?P" in text else _ROUTE_PARAM
        names += [m["name"] for m in pattern.finditer(text)]
    return names


def _fill(route: Route, values: dict[str, str]) -> str:
    path = ""
    for part in route.parts:
        text = str(part)
        if "(?P" in text or text.startswith("^"):
            text = _REGEX_PARAM.sub(lambda m: values[m["name"]], text).lstrip("^").rstrip("$")
            text = text.replace("\\", "")
        else:
            text = _ROUTE_PARAM.sub(lambda m: values[m["name"]], text)
        path += text
    return "/" + path


def _admin_model(route: Route) -> str:
    # Admin model URLs live under admin/<app>/<model>/.
    match = re.match(r"admin/(\w+)/(\w+)/", route.pattern)
    assert match, f"unexpected admin URL {route.name} ({route.pattern})"
    return f"{match[1]}.{match[2]}"


def _b_objects(world) -> dict[str, object]:
    """Brand B's row of every model the admin shows; a new admin model must be added here."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group

    from incidents.models import (
        Alert,
        AlertChannel,
        AuditEntry,
        DigestSubscription,
        OffPlatformCommunication,
        TrackingTerm,
    )
    from socialfeed.models import RejectedPost

    term = TrackingTerm.objects.create(brand=world.brand_b, term="quarzel-qrz7731")
    channel_b = AlertChannel.objects.create(team=Team.objects.get(name="Team B"), kind="email",
                                            target="alerts-QRZ-7731@quarzel.example")
    alert_b = Alert.objects.create(brand=world.brand_b, incident=world.incident_b, kind="update_overdue",
                                   scope=f"incident:{world.incident_b.pk}", raised_at=T0,
                                   details={"incident_title": B_INCIDENT_TITLE, "since_s": 7200, "cadence_s": 3600})
    login_trail = {"username": world.user_b.username, "ip_address": "10.0.0.2", "user_agent": "x",
                   "http_accept": "x", "path_info": "/login/"}
    return {
        "axes.accessattempt": AccessAttempt.objects.create(**login_trail, get_data="", post_data="",
                                                           failures_since_start=1),
        "axes.accesslog": AccessLog.objects.create(**login_trail),
        "axes.accessfailurelog": AccessFailureLog.objects.create(**login_trail, locked_out=False),
        "incidents.brand": world.brand_b, "incidents.incident": world.incident_b,
        "incidents.officialaccount": world.brand_b.official_accounts.get(), "incidents.trackingterm": term,
        "incidents.team": Team.objects.get(name="Team B"),
        "incidents.alertchannel": channel_b, "incidents.alert": alert_b,
        "incidents.digestsubscription": DigestSubscription.objects.get(brand=world.brand_b),
        "incidents.auditentry": AuditEntry.objects.get(user=world.user_b),
        "incidents.offplatformcommunication": OffPlatformCommunication.objects.get(brand=world.brand_b),
        "socialfeed.source": world.source_b, "socialfeed.post": world.post_b, "socialfeed.mention": world.mention_b,
        "socialfeed.rejectedpost": RejectedPost.objects.create(source=world.source_b, platform="feed",
                                                               platform_id="qrz-7731", reason="QRZ-7731 bad date"),
        "auth.user": world.user_b, "auth.group": Group.objects.get(name="analyst"),
    }


def _paths(route: Route, world, b_objects: dict) -> list[str]:
    """Every concrete path of this route aimed at brand B (several when a parameter has several values)."""
    from incidents import exports
    from incidents.views import _CHARTS

    names = _params(route)
    if not names:
        return [_fill(route, {})]
    choices: dict[str, list[str]] = {}
    for name in names:
        if name == "pk":
            choices[name] = [str(world.incident_b.pk)]
        elif name in ("slug", "brand_slug"):
            choices[name] = [world.brand_b.slug]
        elif name == "team_id":
            choices[name] = [str(Team.objects.get(name="Team B").pk)]
        elif name == "channel_id":
            choices[name] = [str(b_objects["incidents.alertchannel"].pk)]
        elif name == "chart":
            choices[name] = list(_CHARTS)
        elif name == "kind":
            choices[name] = list(exports.KINDS)
        elif name == "object_id" and route.name == "admin:view_on_site":
            choices[name] = ["?"]  # filled together with content_type_id below
        elif name in ("object_id", "id"):
            choices[name] = [str(b_objects[_admin_model(route)].pk)]
        elif name == "content_type_id":
            choices[name] = ["?"]
        elif name == "app_label":
            choices[name] = ["incidents", "socialfeed", "auth"]
        elif name == "url":  # the admin's catch-all
            choices[name] = [f"incidents/incident/{world.incident_b.pk}/"]
        else:
            pytest.fail(f"the walk does not know how to aim {name!r} of {route.name} ({route.pattern}) at brand B")
    if route.name == "admin:view_on_site":
        return [_fill(route, {"content_type_id": str(ContentType.objects.get_for_model(obj).pk),
                              "object_id": str(obj.pk)}) for obj in b_objects.values()]
    paths = [{}]
    for name, values in choices.items():
        paths = [{**p, name: v} for p in paths for v in values]
    return [_fill(route, p) for p in paths]


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _check(response, *, user: str, method: str, path: str) -> None:
    where = f"{method} {path} as {user}"
    assert response.status_code == 200 or response.status_code in REFUSALS, \
        f"{where} answered {response.status_code}"
    # Signed in, nothing is stored by the browser or a proxy, refusals included.
    assert "no-store" in response.get("Cache-Control", ""), f"{where} can be cached: {response.get('Cache-Control')}"
    body = _body(response)
    for secret in B_SECRETS:
        assert secret not in body, f"{where} ({response.status_code}) shows brand B's {secret!r}"


def test_it_shows_team_a_nothing_of_brand_b_on_any_url(client, world):
    from incidents.models import IncidentEvent

    b_objects = _b_objects(world)
    routes = _routes(get_resolver())
    assert len(routes) > 30, "the walk lost the admin's URLs"
    walked: dict[str, int] = {}
    events_before = IncidentEvent.objects.filter(incident=world.incident_b).count()
    post_data = {"brand": str(world.brand_b.pk), "title": "hijacked", "text": "hijacked note", "status": "resolved",
                 "started_at": "2026-03-02T09:00", "severity": "major", "time_zone": "UTC",
                 "language": "en", "next": "/", "channel": "sms", "sent_at": "2026-03-02T11:00",
                 "category": "promotional", "incident": str(world.incident_b.pk),
                 "communication-channel": "sms", "communication-sent_at": "2026-03-02T11:00",
                 "communication-text": "hijacked SMS", "communication-category": "promotional"}
    for role, user in world.users_a.items():
        client.force_login(user)
        for route in routes:
            for path in _paths(route, world, b_objects):
                # A path that no longer resolves to its own route would walk something else unnoticed.
                assert resolve(path.split("?")[0]).route is not None
                walked[route.name] = walked.get(route.name, 0) + 1
                # The admin sends anyone but staff to its login page: one GET proves it, and keeps the walk short.
                thorough = user.is_staff or not route.pattern.startswith("admin/")
                for query in ("", WEEK_QUERY + f"&incident={world.incident_b.pk}&source={world.source_b.pk}"):
                    url = f"{path}?{query}" if query else path
                    _check(client.get(url, follow=True), user=role, method="GET", path=url)
                    if not thorough:
                        break
                if thorough and route.name not in NO_POST:
                    _check(client.post(path, post_data, follow=True), user=role, method="POST", path=path)
        client.logout()
    assert set(walked) == {r.name for r in routes}
    incident_b = Incident.objects.get(pk=world.incident_b.pk)
    assert (incident_b.title, incident_b.status, incident_b.started_at) == (B_INCIDENT_TITLE, "open", T0) or \
        incident_b.title == B_INCIDENT_TITLE and incident_b.started_at == T0
    assert IncidentEvent.objects.filter(incident=world.incident_b).count() == events_before
    assert not Incident.objects.filter(brand=world.brand_b).exclude(pk=world.incident_b.pk).exists()
    from incidents.models import AlertChannel, BrandTargets, OffPlatformCommunication, OpeningHours

    assert list(OffPlatformCommunication.objects.filter(brand=world.brand_b).values_list("text", "category")) == [
        ("QRZ-7731 SMS apology", "apology")]
    # Team B's alert channel and brand B's targets are untouched by team A's POSTs.
    assert AlertChannel.objects.filter(team__name="Team B").count() == 1
    assert not BrandTargets.objects.filter(brand=world.brand_b).exists()
    assert not OpeningHours.objects.filter(brand=world.brand_b).exists()
