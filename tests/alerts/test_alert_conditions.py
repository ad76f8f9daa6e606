"""METRICS.md §8 alert conditions: each raised once per occurrence, cleared when it no longer holds, and raised
again (a new alert) when it holds again. Evaluated at chosen times, as beat evaluates at the clock's."""
from __future__ import annotations

import datetime as dt

import pytest

from incidents.alerts import alert_summary, alert_url, alerts_evaluate
from incidents.models import Alert, BrandTargets, Incident
from socialfeed.models import Mention
from socialfeed.rollups import rollups_rebuild
from tests.board.conftest import mention, official

from .conftest import START, minutes

pytestmark = pytest.mark.django_db


def _kinds(outcome) -> list[str]:
    return sorted(a.kind for a in outcome.raised)


def test_it_raises_not_acknowledged_once_after_the_target_and_clears_it_on_an_apology(brand, incident):
    assert alerts_evaluate(now=minutes(29)).raised == []  # 29 min: inside the 30-minute acknowledgement target
    first = alerts_evaluate(now=minutes(31))
    assert _kinds(first) == ["not_acknowledged"]
    assert alerts_evaluate(now=minutes(32)).raised == []  # the next beat: same occurrence, nothing new
    assert Alert.objects.filter(kind="not_acknowledged").count() == 1
    alert = first.raised[0]
    assert alert.incident == incident and alert.details["elapsed_s"] == 31 * 60
    assert alert_summary(alert) == ("Ondine Mobile has not acknowledged “Mobile data outage” after 31 min "
                                    "(target 30 min).")
    assert alert_url(alert).endswith(f"/incidents/{incident.pk}/")

    official(brand, minutes(40), kind="reply", category="apology", text="Sorry, we are on it")
    cleared = alerts_evaluate(now=minutes(41))
    assert [a.pk for a in cleared.cleared] == [alert.pk]
    alert.refresh_from_db()
    assert alert.cleared_at == minutes(41)
    assert alerts_evaluate(now=minutes(42)).cleared == []


def test_it_uses_the_brand_own_acknowledgement_target(brand, incident):
    BrandTargets.objects.create(brand=brand, acknowledgement_target_min=90)
    assert "not_acknowledged" not in _kinds(alerts_evaluate(now=minutes(89)))
    assert "not_acknowledged" in _kinds(alerts_evaluate(now=minutes(91)))


def test_it_raises_update_overdue_again_as_a_second_alert_after_it_cleared(brand, incident):
    official(brand, minutes(5), category="status_update", text="Mobile data is down, we are on it")
    assert "update_overdue" not in _kinds(alerts_evaluate(now=minutes(64)))  # 59 min since the update
    raised = alerts_evaluate(now=minutes(66))  # 61 min: over the 1-hour update cadence (METRICS.md §8)
    assert _kinds(raised) == ["update_overdue"]
    assert raised.raised[0].details["since_s"] == 61 * 60
    # A promotion is no update: it does not clear it (METRICS.md §5 counts outage-related broadcasts).
    official(brand, minutes(70), category="promotional", text="50% off this weekend!")
    assert alerts_evaluate(now=minutes(71)).cleared == []
    official(brand, minutes(80), category="status_update", text="The fix is rolling out")
    assert [a.kind for a in alerts_evaluate(now=minutes(81)).cleared] == ["update_overdue"]
    again = alerts_evaluate(now=minutes(141))  # silent again for 61 min: a new occurrence
    assert _kinds(again) == ["update_overdue"]
    first, second = Alert.objects.filter(kind="update_overdue").order_by("raised_at")
    assert (first.raised_at, first.cleared_at, second.raised_at, second.cleared_at) == (
        minutes(66), minutes(81), minutes(141), None)


def test_it_counts_since_last_update_from_the_start_when_there_is_none(brand, incident):
    BrandTargets.objects.create(brand=brand, update_cadence_min=20, acknowledgement_target_min=600)
    assert _kinds(alerts_evaluate(now=minutes(21))) == ["update_overdue"]


def test_it_raises_unanswered_breaches_over_the_brand_count_and_clears_when_customers_are_answered(brand, incident):
    BrandTargets.objects.create(brand=brand, unanswered_breach_count=10, acknowledgement_target_min=600,
                                update_cadence_min=600)
    waiting = [mention(brand, START + dt.timedelta(seconds=30 + 30 * i)) for i in range(12)]
    rollups_rebuild(brand_id=brand.id)  # as ingestion keeps them
    # At 11:05 only the mentions made before 10:05 have waited over the 1-hour target: 9, not over 10.
    assert alerts_evaluate(now=minutes(65)).raised == []
    raised = alerts_evaluate(now=minutes(67))  # 12 waiting over an hour
    assert _kinds(raised) == ["unanswered_breaches"]
    assert raised.raised[0].details["count"] == 12
    assert alert_summary(raised.raised[0]) == ("12 customers of Ondine Mobile have waited over 1 h without an answer "
                                               "on “Mobile data outage” (limit 10).")
    reply = official(brand, minutes(68), kind="reply", category="apology")
    for m in waiting[:2]:  # two answered: 10 left, no longer over 10
        Mention.objects.filter(pk=m.pk).update(answered=True, first_response=reply, first_response_at=reply.created_at,
                                               frt_seconds=(reply.created_at - m.created_at).total_seconds())
    rollups_rebuild(brand_id=brand.id)
    assert [a.kind for a in alerts_evaluate(now=minutes(69)).cleared] == ["unanswered_breaches"]


def test_it_raises_a_spike_only_without_an_ongoing_incident_and_clears_it_when_one_opens(brand):
    now = START + dt.timedelta(hours=2, minutes=10)
    for i in range(30):  # thirty complaints in the hour before: a quiet brand's baseline is 0, ratio 30 ≥ 5
        mention(brand, now - dt.timedelta(minutes=50) + dt.timedelta(seconds=60 * i), complaint=True,
                label="negative")
    rollups_rebuild(brand_id=brand.id)
    raised = alerts_evaluate(now=now)
    assert _kinds(raised) == ["spike"]
    spike = raised.raised[0]
    assert spike.incident is None and spike.details["threshold"] == 5.0 and spike.details["complaints"] >= 10
    assert alert_url(spike).endswith("/incidents/suggested/ondine/")  # "open this incident"
    Incident.objects.create(brand=brand, title="Complaint spike", started_at=now - dt.timedelta(minutes=50))
    assert [a.kind for a in alerts_evaluate(now=now + dt.timedelta(minutes=1)).cleared] == ["spike"]


def test_it_does_not_call_a_spike_under_the_brand_threshold(brand):
    BrandTargets.objects.create(brand=brand, spike_threshold=40)
    now = START + dt.timedelta(hours=2, minutes=10)
    for i in range(30):  # ratio 30, under the brand's 40
        mention(brand, now - dt.timedelta(minutes=50) + dt.timedelta(seconds=60 * i), complaint=True)
    rollups_rebuild(brand_id=brand.id)
    assert alerts_evaluate(now=now).raised == []


def test_it_clears_every_alert_of_an_incident_that_ends(brand, incident):
    assert _kinds(alerts_evaluate(now=minutes(65))) == ["not_acknowledged", "update_overdue"]
    incident.ended_at = minutes(66)
    incident.save()
    assert sorted(a.kind for a in alerts_evaluate(now=minutes(67)).cleared) == ["not_acknowledged",
                                                                                 "update_overdue"]
    assert not Alert.objects.filter(cleared_at__isnull=True).exists()


def test_a_second_evaluator_meeting_an_open_alert_raises_nothing(brand, incident):
    from django.db import IntegrityError, transaction

    alerts_evaluate(now=minutes(31))
    # What the partial unique constraint refuses: a second open row for the same occurrence.
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(brand=brand, incident=incident, kind="not_acknowledged",
                             scope=f"incident:{incident.pk}", raised_at=minutes(31))


def test_an_sms_recorded_by_the_team_acknowledges_and_updates_like_a_post(brand, incident):
    from incidents.services import communication_record

    assert _kinds(alerts_evaluate(now=minutes(65))) == ["not_acknowledged", "update_overdue"]
    # METRICS.md §1/§5: an off-platform communication is a broadcast; an apology by SMS acknowledges the outage.
    communication_record(incident=incident, channel="sms", sent_at=minutes(66), category="apology",
                         text="Ondine Mobile : panne de données mobiles en cours, toutes nos excuses.")
    assert sorted(a.kind for a in alerts_evaluate(now=minutes(67)).cleared) == ["not_acknowledged",
                                                                                 "update_overdue"]
