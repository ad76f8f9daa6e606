""""Send me this digest now" on the digests page: last week's digest at once, through a real SMTP server, without
taking the place of Monday's; and a preview of it in the browser."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import DigestDelivery, Team
from incidents.reports import last_complete_week
from tests.receivers import SmtpInbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(settings):
    server = SmtpInbox().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def manager(make_brand, make_user):
    brand = make_brand(name="Ondine Mobile", handle="ondine_mobile")
    make_brand(name="Volta Energie", handle="volta_energie")  # another team's
    user = make_user(username="maud", role="manager", teams=["Telecom"])
    Team.objects.get(name="Telecom").brands.add(brand)
    user.email = "maud@example.org"
    user.save()
    return user, brand


def test_a_manager_gets_last_week_digest_at_once(client, inbox, manager):
    user, brand = manager
    client.force_login(user)
    page = client.get(reverse("reports:digests")).content.decode()
    assert "Send me this digest now" in page
    response = client.post(reverse("reports:digest_send_now"), {"brand": brand.pk}, follow=True)
    week = last_complete_week(zone=brand.zone)
    assert f"The digest of Ondine Mobile for {week} is on its way to maud@example.org." in response.content.decode()
    [(recipients, message)] = inbox.messages
    assert recipients == ["maud@example.org"]
    assert message["Subject"] == f"Hotline weekly digest — Ondine Mobile, {week}"
    assert not DigestDelivery.objects.exists()  # Monday's digest still goes out


def test_it_refuses_a_brand_the_user_does_not_see_and_a_user_without_address(client, inbox, manager, make_brand):
    user, brand = manager
    from incidents.models import Brand

    volta = Brand.objects.get(slug="volta-energie")
    client.force_login(user)
    response = client.post(reverse("reports:digest_send_now"), {"brand": volta.pk}, follow=True)
    assert "Choose one of your brands." in response.content.decode() and inbox.messages == []
    assert client.post(reverse("reports:digest_send_now"), {"brand": "x"}).status_code == 302
    user.email = ""
    user.save()
    response = client.post(reverse("reports:digest_send_now"), {"brand": brand.pk}, follow=True)
    assert "Your account has no e-mail address" in response.content.decode() and inbox.messages == []


def test_the_preview_shows_the_html_digest(client, manager):
    user, brand = manager
    client.force_login(user)
    html = client.get(reverse("reports:digest_preview", args=[brand.slug])).content.decode()
    assert f"Hotline weekly digest — Ondine Mobile, {last_complete_week(zone=brand.zone, now=timezone.now())}" in html
    assert "Answered within target (1 h)" in html
    assert client.get(reverse("reports:digest_preview", args=["volta-energie"])).status_code == 404
