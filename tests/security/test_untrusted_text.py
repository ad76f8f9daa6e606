"""Post text and incident titles are untrusted: they show as text everywhere and never run as HTML or script.
Also the browser-side guards every page carries (Content-Security-Policy) and login throttling."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from incidents.models import AuditEntry, Incident, Team
from tests.security.conftest import T0, _post

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(2)>"
FORMULA = '=HYPERLINK("http://evil")'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
STATIC_JS = Path(settings.BASE_DIR) / "static" / "js"


@pytest.fixture
def hostile(make_brand, make_user):
    """An outage of Ondine Mobile whose title and one customer post carry a script and a formula."""
    from socialfeed.services import posts_ingest

    team, _ = Team.objects.get_or_create(name="Team A")
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", user_id="100", team=team)
    posts_ingest(posts=[_post("700", T0 + timedelta(minutes=3), f"@ondine_mobile {SCRIPT} {FORMULA}",
                              author="mallory", author_id="701")])
    incident = Incident.objects.create(brand=brand, title=f"Outage {SCRIPT}", started_at=T0,
                                       ended_at=T0 + timedelta(hours=2))
    comms = make_user(username="a-comms", role="comms", teams=["Team A"])
    return brand, incident, comms


def _shown_escaped(body: str) -> None:
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert ESCAPED in body


def test_it_shows_hostile_text_escaped_on_the_board_list_and_week_pages(client, hostile):
    brand, incident, comms = hostile
    client.force_login(comms)
    board = client.get(reverse("incidents:board", args=[incident.pk])).content.decode()
    _shown_escaped(board)
    assert board.count(ESCAPED) >= 2  # the title and the unanswered post in the queue
    _shown_escaped(client.get(reverse("incidents:home")).content.decode())
    _shown_escaped(client.get(reverse("reports:week") + "?week=2026-W10&tz=UTC").content.decode())


def test_it_serves_the_queue_as_json_that_the_board_script_only_ever_writes_as_text(client, hostile):
    brand, incident, comms = hostile
    client.force_login(comms)
    response = client.get(reverse("incidents:board_queue", args=[incident.pk]))
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"  # never sniffed into HTML
    texts = [item["text"] for item in json.loads(response.content)["full"]["rows"]]
    assert any(SCRIPT in text for text in texts)
    for script in STATIC_JS.glob("*.js"):
        if ".min." in script.name:
            continue  # vendored libraries
        source = script.read_text()
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source), script.name


def test_it_escapes_hostile_titles_in_the_html_part_of_the_digest(hostile):
    from incidents.digest import digest_message
    from incidents.reports import weekly_summary

    brand, incident, comms = hostile
    row = weekly_summary(brands=[brand], week="2026-W10", zone=brand.zone)[0]
    message = digest_message(user=comms, row=row, to="camille@example.test")
    html = message.alternatives[0][0] if isinstance(message.alternatives[0], tuple) else message.alternatives[0].content
    _shown_escaped(html)


def test_it_escapes_hostile_text_in_the_admin(client, hostile, make_user):
    from socialfeed.models import Post

    brand, incident, comms = hostile
    client.force_login(make_user(username="root", role="admin"))
    post = Post.objects.get(platform_id="700")
    for url in (reverse("admin:socialfeed_post_changelist"), reverse("admin:socialfeed_post_change", args=[post.pk]),
                reverse("admin:incidents_incident_changelist"),
                reverse("admin:incidents_incident_change", args=[incident.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "<script>alert(1)" not in body and "<img src=x" not in body, url


def test_every_page_carries_a_content_security_policy_without_unsafe_inline(client, hostile):
    brand, incident, comms = hostile
    client.force_login(comms)
    for name, args in (("incidents:home", []), ("incidents:board", [incident.pk]), ("reports:week", []),
                       ("reports:brand", [brand.slug]), ("socialfeed:sources", []), ("incidents:new", [])):
        response = client.get(reverse(name, args=args))
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        body = response.content.decode()
        # Under that policy an inline script or style attribute would silently not run: the page must need none.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), name
        assert not re.search(r"\sstyle=\"|\son[a-z]+=\"", body), name
    assert "unsafe-inline" not in client.get(reverse("login"))["Content-Security-Policy"]


def test_it_locks_an_account_out_after_the_failure_limit_through_the_login_page(client, make_user):
    make_user(username="camille", role="comms", password="the-right-password-42")
    limit = settings.AXES_FAILURE_LIMIT
    login = reverse("login")
    for _ in range(limit):
        response = client.post(login, {"username": "camille", "password": "guess"}, REMOTE_ADDR="203.0.113.9")
        assert response.status_code in (200, 403, 429)
    locked = client.post(login, {"username": "camille", "password": "the-right-password-42"},
                         REMOTE_ADDR="203.0.113.9")
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("incidents:home")).status_code == 302  # still not logged in
    # The lock is per account and address: the same person from elsewhere is not locked out by the attacker.
    other = client.post(login, {"username": "camille", "password": "the-right-password-42"},
                        REMOTE_ADDR="198.51.100.4")
    assert other.status_code == 302 and "_auth_user_id" in client.session


def test_it_audits_who_exported_and_who_changed_an_incident(client, hostile, make_user):
    brand, incident, comms = hostile
    client.force_login(comms)
    response = client.post(reverse("incidents:event", args=[incident.pk]), {"text": "", "status": "resolved"})
    assert response.status_code == 302
    change = AuditEntry.objects.filter(target=f"incident:{incident.pk}").latest("at")
    assert change.user == comms
    analyst = make_user(username="a-analyst", role="analyst", teams=["Team A"])
    client.force_login(analyst)
    b"".join(client.get(reverse("reports:export", args=["mentions"]) + "?brand=ondine").streaming_content)
    export = AuditEntry.objects.get(action="export")
    assert export.user == analyst and export.target == "mentions" and export.details["brand"] == "ondine"


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)",
                                 "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "vbscript:msgbox(1)",
                                 "java\nscript:alert(1)", "//evil.example/x", "https:///no-host", "ftp://x.example/1"])
def test_it_stores_and_links_only_http_urls(client, make_brand, make_user, url):
    from socialfeed.models import Post
    from socialfeed.normalised import NormalisedPost
    from socialfeed.services import posts_ingest

    team, _ = Team.objects.get_or_create(name="Team A")
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", user_id="100", team=team)
    incident = Incident.objects.create(brand=brand, title="Outage", started_at=T0)
    posts_ingest(posts=[
        NormalisedPost(platform="x", platform_id="801", author_id="9", author_handle="mallory",
                       created_at=T0 + timedelta(minutes=1), text="@ondine_mobile down", url=url),
        NormalisedPost(platform="x", platform_id="802", author_id="9", author_handle="mallory",
                       created_at=T0 + timedelta(minutes=2), text="@ondine_mobile still down",
                       url="https://x.com/mallory/status/802"),
    ])
    assert dict(Post.objects.values_list("platform_id", "url")) == {"801": "", "802": "https://x.com/mallory/status/802"}
    # A link stored before the rule existed is not rendered either, on the page or in the board's JSON.
    Post.objects.filter(platform_id="801").update(url=url)
    client.force_login(make_user(username="a-comms", role="comms", teams=["Team A"]))
    page = client.get(reverse("incidents:board", args=[incident.pk])).content.decode()
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert "https://x.com/mallory/status/802" in hrefs
    assert not [h for h in hrefs if not h.startswith(("/", "https://", "http://", "#", "?"))], hrefs
    queue = json.loads(client.get(reverse("incidents:board_queue", args=[incident.pk])).content)["full"]["rows"]
    assert {item["url"] for item in queue} == {"", "https://x.com/mallory/status/802"}


def test_every_page_a_signed_in_user_sees_is_marked_no_store(client, hostile):
    brand, incident, comms = hostile
    client.force_login(comms)
    for name, args in (("incidents:home", []), ("incidents:board", [incident.pk]),
                       ("incidents:board_live", [incident.pk]), ("incidents:board_chart", [incident.pk, "volume"]),
                       ("reports:week", []), ("reports:brand", [brand.slug]), ("reports:digests", []),
                       ("socialfeed:sources", []), ("incidents:new", [])):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], name
