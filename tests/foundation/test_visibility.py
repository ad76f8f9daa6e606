"""Everything is behind login, and a user sees only the brands of their teams."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from incidents.models import Incident, Team
from incidents.roles import brands_visible_to

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def two_teams(make_brand, make_user):
    team_a, _ = Team.objects.get_or_create(name="Team A")
    team_b, _ = Team.objects.get_or_create(name="Team B")
    ondine = make_brand(name="Ondine Mobile", team=team_a)
    brisant = make_brand(name="Brisant Telecom", team=team_b)
    secret = Incident.objects.create(brand=brisant, title="Brisant private outage", started_at=T0)
    analyst = make_user(username="ana", role="analyst", teams=["Team A"])
    return ondine, brisant, secret, analyst


@pytest.mark.django_db
def test_pages_ask_for_a_login(client):
    response = client.get(reverse("incidents:home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_an_analyst_of_team_a_does_not_see_brand_b_or_its_incident(client, two_teams):
    ondine, brisant, secret, analyst = two_teams
    assert list(brands_visible_to(analyst)) == [ondine]
    client.force_login(analyst)
    page = client.get(reverse("incidents:home")).content.decode()
    assert "Ondine Mobile" in page and "Brisant" not in page


@pytest.mark.django_db
def test_a_staff_member_of_team_a_gets_404_on_brand_b_admin_pages(client, two_teams):
    ondine, brisant, secret, analyst = two_teams
    analyst.is_staff = True
    analyst.save()
    client.force_login(analyst)
    assert client.get(reverse("admin:incidents_incident_change", args=[secret.pk])).status_code in (302, 404)
    listing = client.get(reverse("admin:incidents_incident_changelist"))
    assert listing.status_code == 200 and "Brisant private outage" not in listing.content.decode()


@pytest.mark.django_db
def test_a_non_staff_user_cannot_open_the_admin(client, two_teams):
    *_, analyst = two_teams
    client.force_login(analyst)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_create_user_refuses_an_unknown_role_or_team(make_user):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="invalid choice: 'intern'"):
        call_command("create_user", "bob", "--role", "intern", "--password-stdin")
    import io
    import sys

    sys_stdin, sys.stdin = sys.stdin, io.StringIO("a-long-enough-passphrase-42\n")
    try:
        with pytest.raises(CommandError, match="Unknown team 'Nowhere'"):
            call_command("create_user", "bob", "--role", "comms", "--team", "Nowhere", "--password-stdin")
    finally:
        sys.stdin = sys_stdin
