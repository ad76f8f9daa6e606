"""Two teams, two brands. Team B's brand carries strings found nowhere else, so a page that shows any of them to
team A has leaked brand B's data."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

B_NAME = "Quarzel Broadband"
B_INCIDENT_TITLE = "Quarzel vault outage"
B_POST_TEXT = "@quarzel_help QRZ-7731 the router blinks red again"
B_SECRETS = (B_NAME, B_INCIDENT_TITLE, "QRZ-7731")


@dataclass
class World:
    brand_a: object
    brand_b: object
    incident_a: object
    incident_b: object
    source_b: object
    post_b: object
    mention_b: object
    users_a: dict  # role -> user of team A
    user_b: object


def _post(pid: str, when: datetime, text: str, *, author: str, author_id: str, reply_to: str = "",
          reply_to_author: str = ""):
    from socialfeed.normalised import NormalisedPost

    return NormalisedPost(platform="x", platform_id=pid, author_id=author_id, author_handle=author, created_at=when,
                          text=text, lang="en", in_reply_to_id=reply_to, in_reply_to_author_id=reply_to_author,
                          conversation_id=reply_to or pid, url=f"https://x.com/{author}/status/{pid}")


@pytest.fixture
def world(make_brand, make_user) -> World:
    from django.contrib.auth.models import Permission

    from incidents.models import AuditEntry, DigestSubscription, Incident, IncidentEvent, Team
    from socialfeed.models import Mention, Post, Source
    from socialfeed.services import posts_ingest

    team_a, _ = Team.objects.get_or_create(name="Team A")
    team_b, _ = Team.objects.get_or_create(name="Team B")
    brand_a = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", user_id="100", team=team_a)
    brand_b = make_brand(name=B_NAME, slug="quarzel", handle="quarzel_help", user_id="200", team=team_b)
    posts_ingest(posts=[
        _post("900", T0 + timedelta(minutes=5), B_POST_TEXT, author="vexed", author_id="901"),
        _post("902", T0 + timedelta(minutes=9), "@vexed QRZ-7731 sorry, an engineer is on the way",
              author="quarzel_help", author_id="200", reply_to="900", reply_to_author="901"),
        _post("800", T0 + timedelta(minutes=6), "@ondine_mobile no data since 9", author="calm", author_id="801"),
    ])
    incident_a = Incident.objects.create(brand=brand_a, title="Ondine data outage", started_at=T0)
    incident_b = Incident.objects.create(brand=brand_b, title=B_INCIDENT_TITLE, started_at=T0)
    IncidentEvent.objects.create(incident=incident_b, kind=IncidentEvent.Kind.NOTE, text="QRZ-7731 note")
    from incidents.models import OffPlatformCommunication

    OffPlatformCommunication.objects.create(brand=brand_b, incident=incident_b, channel="sms", category="apology",
                                            sent_at=T0 + timedelta(hours=1), text="QRZ-7731 SMS apology")
    source_b = Source.objects.create(name=f"{B_NAME} status", platform="feed", kind="status_feed", brand=brand_b,
                                     query="https://status.quarzel.example/feed.atom", last_error="QRZ-7731 down")
    users_a = {role: make_user(username=f"a-{role}", role=role, teams=["Team A"])
               for role in ("analyst", "comms", "manager")}
    staff = make_user(username="a-staff", role="comms", teams=["Team A"])
    staff.is_staff = True
    staff.save()
    # A team administrator: every permission Hotline's own models have, so only brand scoping stands between
    # them and brand B's rows in the admin.
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["incidents", "socialfeed"]))
    users_a["staff"] = staff
    user_b = make_user(username="b-analyst", role="analyst", teams=["Team B"])
    DigestSubscription.objects.create(user=user_b, brand=brand_b, time_zone="UTC")
    AuditEntry.objects.create(user=user_b, action="export", target="mentions", details={"brand": "quarzel"})
    return World(brand_a=brand_a, brand_b=brand_b, incident_a=incident_a, incident_b=incident_b, source_b=source_b,
                 post_b=Post.objects.get(platform_id="900"), mention_b=Mention.objects.get(brand=brand_b),
                 users_a=users_a, user_b=user_b)
