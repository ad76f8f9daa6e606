"""Personal API tokens: made on the API tokens page or with manage.py api_token, shown once, stored only as a
digest, sent as "Token" or "Bearer", refused with 401 once revoked."""
from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from incidents.models import ApiToken, AuditEntry

from .conftest import TokenClient

pytestmark = pytest.mark.django_db


def _created_token(page: str) -> str:
    start = page.index('id="new-token" type="text" readonly value="') + len('id="new-token" type="text" readonly value="')
    return page[start:page.index('"', start)]


def test_it_shows_a_new_token_once_and_keeps_only_its_digest(client, world):
    user = world.users_a["analyst"]
    client.force_login(user)
    response = client.post(reverse("incidents:api_tokens"), {"action": "create", "name": "Grafana"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    raw = _created_token(response.content.decode())
    assert raw.startswith("hl_") and len(raw) > 40
    stored = ApiToken.objects.get(user=user)
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(list(ApiToken.objects.values_list()))  # no column holds the token itself
    again = client.get(reverse("incidents:api_tokens")).content.decode()
    assert raw not in again and "Grafana" in again and stored.prefix in again
    assert TokenClient(raw).get("/api/v1/brands/").status_code == 200
    assert AuditEntry.objects.filter(action="api_token.create", user=user).exists()


def test_it_accepts_token_and_bearer_and_refuses_anything_else_with_401(world, token_for):
    raw = token_for(world.users_a["manager"])
    assert TokenClient(raw, "Token").get("/api/v1/brands/").status_code == 200
    assert TokenClient(raw, "Bearer").get("/api/v1/brands/").status_code == 200
    assert TokenClient(raw, "bearer").get("/api/v1/brands/").status_code == 200
    for bad in (TokenClient(raw[:-1] + ("A" if raw[-1] != "A" else "B")), TokenClient("hl_nothing"),
                TokenClient(raw + " extra")):
        response = bad.get("/api/v1/brands/")
        assert response.status_code == 401
        assert response.json()["message"]
    anonymous = TokenClient("")
    anonymous.auth = ""
    response = anonymous.client.get("/api/v1/brands/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Token")
    assert response.json() == {"message": "Authentication credentials were not provided.", "errors": {}}


def test_it_refuses_a_revoked_token_with_401_from_the_page(client, world, token_for):
    user = world.users_a["comms"]
    raw = token_for(user, name="Slack bot")
    api = TokenClient(raw)
    assert api.get("/api/v1/incidents/").status_code == 200
    client.force_login(user)
    token = ApiToken.objects.get(user=user)
    response = client.post(reverse("incidents:api_tokens"), {"action": "revoke", "token": str(token.pk)}, follow=True)
    assert "revoked" in response.content.decode()
    refused = api.get("/api/v1/incidents/")
    assert refused.status_code == 401
    assert refused.json()["message"] == "This token is unknown or has been revoked."
    assert api.post("/api/v1/incidents/", {}).status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoke", user=user).exists()


def test_it_lets_nobody_revoke_someone_elses_token(client, world, token_for):
    raw = token_for(world.user_b)
    client.force_login(world.users_a["staff"])
    token = ApiToken.objects.get(user=world.user_b)
    client.post(reverse("incidents:api_tokens"), {"action": "revoke", "token": str(token.pk)})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert TokenClient(raw).get("/api/v1/brands/").status_code == 200


def test_it_refuses_the_token_of_a_deactivated_user(world, token_for):
    user = world.users_a["analyst"]
    raw = token_for(user)
    user.is_active = False
    user.save()
    assert TokenClient(raw).get("/api/v1/brands/").status_code == 401


def test_it_refuses_a_token_without_a_name_on_the_page(client, world):
    client.force_login(world.users_a["analyst"])
    response = client.post(reverse("incidents:api_tokens"), {"action": "create", "name": "   "})
    assert response.status_code == 400
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_command_creates_a_working_token_and_revokes_it(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", "create", "--user", "a-analyst", "--name", "Power BI", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert "shown once" in err.getvalue()
    api = TokenClient(raw)
    assert api.get("/api/v1/brand-weeks/").status_code == 200
    listing = io.StringIO()
    call_command("api_token", "list", "--user", "a-analyst", stdout=listing)
    assert "Power BI" in listing.getvalue() and raw not in listing.getvalue()
    call_command("api_token", "revoke", "--user", "a-analyst", "--name", "Power BI", stdout=io.StringIO())
    assert api.get("/api/v1/brand-weeks/").status_code == 401
    with pytest.raises(CommandError, match="--user: there is no user 'nobody'"):
        call_command("api_token", "create", "--user", "nobody")
    with pytest.raises(CommandError, match="no active token"):
        call_command("api_token", "revoke", "--user", "a-analyst")


def test_the_tokens_page_reads_in_french(client, world):
    client.force_login(world.users_a["manager"])
    page = client.get(reverse("incidents:api_tokens"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Jetons d’API" in page and "Créer le jeton" in page and "Vous n’avez pas encore de jeton." in page
    assert "Create token" not in page
