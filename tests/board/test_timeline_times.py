"""Timeline entries with their real time (back-dated, never in the future, shown in the brand's zone), and the
outage window following the status (METRICS.md §5: resolved ends it, reopening makes it ongoing again)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from incidents.services import incident_set_status, incident_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def ongoing(brand):
    started = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=6)
    return Incident.objects.create(brand=brand, title="Messaging outage", started_at=started)


def _paris(moment: dt.datetime) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")


def _event_url(incident) -> str:
    return reverse("incidents:event", kwargs={"pk": incident.pk})


def test_it_back_dates_a_note_typed_in_the_brands_zone_and_shows_it_with_the_zone(comms_client, ongoing):
    when = ongoing.started_at + dt.timedelta(minutes=45)
    comms_client.post(_event_url(ongoing), {"text": "Call centre flooded", "status": "", "at": _paris(when)})
    event = IncidentEvent.objects.get()
    assert event.at == when and event.kind == "note"
    body = comms_client.get(reverse("incidents:board", kwargs={"pk": ongoing.pk})).content.decode()
    local = when.astimezone(ongoing.brand.zone).strftime("%Y-%m-%d %H:%M")
    assert f"{local}</time>" in body and "times in Europe/Paris" in body


def test_it_refuses_a_note_in_the_future(comms_client, ongoing):
    later = timezone.now() + dt.timedelta(hours=3)
    response = comms_client.post(_event_url(ongoing), {"text": "Fixed tomorrow", "status": "", "at": _paris(later)},
                                 follow=True)
    assert "This time is in the future" in response.content.decode()
    assert not IncidentEvent.objects.exists()


def test_resolving_at_a_past_time_ends_the_window_then_and_moves_the_incident_to_the_past(comms_client, ongoing):
    list_url = reverse("incidents:home")
    assert "Messaging outage" in comms_client.get(list_url).content.decode().split("Past incidents")[0]
    fixed = ongoing.started_at + dt.timedelta(hours=4, minutes=10)
    comms_client.post(_event_url(ongoing), {"text": "Routing fixed", "status": "resolved", "at": _paris(fixed)})
    ongoing.refresh_from_db()
    assert ongoing.status == "resolved" and ongoing.ended_at == fixed
    assert IncidentEvent.objects.get().at == fixed
    ongoing_part, past_part = comms_client.get(list_url).content.decode().split("Past incidents")
    assert "Messaging outage" not in ongoing_part and "Messaging outage" in past_part
    assert "4 h 10 min" in past_part  # elapsed: the window ends at the resolution


def test_reopening_makes_the_incident_ongoing_again(comms_client, ongoing):
    incident_set_status(incident=ongoing, status="resolved", at=ongoing.started_at + dt.timedelta(hours=2))
    assert ongoing.ended_at is not None
    comms_client.post(_event_url(ongoing), {"text": "It broke again", "status": "investigating", "at": ""})
    ongoing.refresh_from_db()
    assert ongoing.status == "investigating" and ongoing.ended_at is None
    assert "Messaging outage" in comms_client.get(reverse("incidents:home")).content.decode().split("Past incidents")[0]


def test_resolving_keeps_an_end_already_given(outage):
    end = outage.ended_at
    incident_set_status(incident=outage, status="resolved", at=end + dt.timedelta(hours=3))
    outage.refresh_from_db()
    assert outage.ended_at == end


def test_a_status_change_back_dated_before_a_later_one_keeps_the_current_status(ongoing):
    incident_set_status(incident=ongoing, status="monitoring", at=ongoing.started_at + dt.timedelta(hours=3))
    incident_set_status(incident=ongoing, status="identified", at=ongoing.started_at + dt.timedelta(hours=1))
    ongoing.refresh_from_db()
    assert ongoing.status == "monitoring"
    assert list(ongoing.events.values_list("status", flat=True)) == ["identified", "monitoring"]  # in time order


def test_it_cannot_resolve_before_the_outage_started(ongoing):
    with pytest.raises(ValidationError):
        incident_set_status(incident=ongoing, status="resolved", at=ongoing.started_at - dt.timedelta(minutes=5))
    ongoing.refresh_from_db()
    assert ongoing.ended_at is None and ongoing.status == "investigating" and not ongoing.events.exists()


def test_resolving_from_the_edit_form_ends_the_window_now_unless_an_end_is_typed(ongoing, comms):
    before = timezone.now()
    incident_update(incident=ongoing, author=comms, status="resolved")
    assert before <= ongoing.ended_at <= timezone.now()
    incident_update(incident=ongoing, author=comms, status="monitoring", ended_at=ongoing.ended_at)
    assert ongoing.ended_at is None  # reopened; the form only echoed the stored end
    end = ongoing.started_at + dt.timedelta(hours=2)
    incident_update(incident=ongoing, author=comms, status="resolved", ended_at=end)
    assert ongoing.ended_at == end
