"""Database constraints refuse what cannot be true, with a message a comms person understands."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from incidents.models import Brand, Incident, OfficialAccount

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_an_incident_that_ends_before_it_starts_is_refused(make_brand):
    brand = make_brand()
    incident = Incident(brand=brand, title="SMS down", started_at=T0, ended_at=T0 - timedelta(hours=1))
    with pytest.raises(ValidationError) as error:
        incident.full_clean()
    assert "The end must come after the start." in str(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        incident.save()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_handle_is_official_for_one_brand_only_per_platform_whatever_its_case(make_brand):
    make_brand(name="Ondine Mobile", handle="OndineMobile")
    other = Brand.objects.create(name="Copycat", slug="copycat")
    duplicate = OfficialAccount(brand=other, platform="x", handle="ondinemobile")
    with pytest.raises(ValidationError, match="already an official account"):
        duplicate.full_clean()
    OfficialAccount.objects.create(brand=other, platform="bluesky", handle="ondinemobile")  # other platform: fine


@pytest.mark.django_db
def test_brand_slugs_are_unique_and_time_zones_must_exist():
    Brand.objects.create(name="Ondine", slug="ondine")
    with pytest.raises(ValidationError) as error:
        Brand(name="Ondine again", slug="ondine", time_zone="Europe/Atlantis").full_clean()
    assert "slug" in error.value.message_dict
    assert "Europe/Atlantis is not a known time zone" in str(error.value.message_dict["time_zone"])
