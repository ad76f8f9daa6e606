"""METRICS.md §8 targets per brand: the defaults, the settings page and the admin that change them, refusals that
name the field and store nothing, and "answered within target" counted against the brand's own target everywhere
(the board's rollups re-counted when it changes)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from incidents.figures import incident_figures
from incidents.models import AuditEntry, BrandTargets, Holiday, Incident, OpeningHours
from incidents.targets import brand_targets
from socialfeed.models import MinuteRollup
from socialfeed.rollups import rollups_rebuild
from socialfeed.selectors import response_stats
from tests.board.conftest import mention, official

from .conftest import START, minutes

pytestmark = pytest.mark.django_db

GOOD = {"first_response_target_min": "20", "update_cadence_min": "45", "acknowledgement_target_min": "15",
        "spike_threshold": "4.5", "unanswered_breach_count": "25", "hours_0": "09:00–12:00, 14:00–18:00",
        "hours_5": "10:00-13:00", "holidays": "2026-12-25 Christmas\n2027-01-01 New Year"}


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_brand_that_set_nothing_has_the_metrics_defaults(brand):
    targets = brand_targets(brand)
    assert (targets.first_response_target_s, targets.update_cadence_s, targets.acknowledgement_target_s,
            targets.spike_threshold, targets.unanswered_breach_count) == (3600, 3600, 1800, 5.0, 10)
    assert targets.is_default


def test_the_settings_page_saves_targets_hours_and_holidays(client, comms, brand):
    client.force_login(comms)
    response = client.post(reverse("incidents:brand_settings", args=["ondine"]), GOOD)
    assert response.status_code == 302
    targets = brand_targets(brand)
    assert (targets.first_response_target_s, targets.update_cadence_s, targets.acknowledgement_target_s,
            targets.spike_threshold, targets.unanswered_breach_count) == (1200, 2700, 900, 4.5, 25)
    assert list(OpeningHours.objects.values_list("weekday", "opens_min", "closes_min")) == [
        (0, 540, 720), (0, 840, 1080), (5, 600, 780)]
    assert list(Holiday.objects.values_list("day", "name")) == [(dt.date(2026, 12, 25), "Christmas"),
                                                               (dt.date(2027, 1, 1), "New Year")]
    assert AuditEntry.objects.filter(action="brand.targets", user=comms).exists()
    page = client.get(reverse("incidents:brand_settings", args=["ondine"])).content.decode()
    assert 'value="09:00–12:00, 14:00–18:00"' in page and "2026-12-25 Christmas" in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("first_response_target_min", "-5", "First-response target (minutes): A target cannot be negative."),
    ("first_response_target_min", "43201", "First-response target (minutes): A target cannot be longer than "
                                           "30 days (43200 minutes)."),
    ("update_cadence_min", "0", "Update cadence (minutes): A target must be at least 1 minute."),
    ("acknowledgement_target_min", "99999999999999999999", "Acknowledgement target (minutes): A target cannot be "
                                                           "longer than 30 days"),
    ("spike_threshold", "0.5", "Spike threshold (× a normal hour): The spike threshold must be between 1 and 1000"),
    ("unanswered_breach_count", "-1", "Unanswered breaches allowed: The number of breaches allowed must be between"),
    ("first_response_target_min", "soon", "First-response target (minutes): Enter a whole number."),
    ("hours_1", "18:00–09:00", "Tuesday: 18:00–09:00 ends before it starts"),
    ("hours_0", "09:00–12:00, 11:00–14:00", "Monday: 09:00–12:00 overlaps 11:00–14:00."),
    ("hours_2", "9h30 to 5pm", "Wednesday: “9h30 to 5pm” is not a range of times such as 09:00–18:00."),
    ("hours_3", "09:00–24:30", "Thursday: “09:00–24:30” is not a range of times"),
    ("holidays", "2026-02-30 Nope", "Holidays, line 1: “2026-02-30 Nope” does not start with a date"),
])
def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_stored(client, comms, brand, field, value, message):
    client.force_login(comms)
    response = client.post(reverse("incidents:brand_settings", args=["ondine"]), {**GOOD, field: value})
    assert response.status_code == 200
    assert any(m.startswith(message) for m in _messages(response)), _messages(response)
    assert not BrandTargets.objects.exists() and not OpeningHours.objects.exists() and not Holiday.objects.exists()


def test_a_manager_reads_the_settings_but_cannot_change_them(client, make_user, brand):
    manager = make_user(username="maud", role="manager", teams=["Ondine comms"])
    client.force_login(manager)
    assert "Only the comms team can change these." in client.get(
        reverse("incidents:brand_settings", args=["ondine"])).content.decode()
    assert client.post(reverse("incidents:brand_settings", args=["ondine"]), GOOD).status_code == 403
    assert not BrandTargets.objects.exists()


def test_another_team_cannot_see_a_brand_settings(client, make_user, brand):
    client.force_login(make_user(username="otto", role="comms", teams=["Other team"]))
    assert client.get(reverse("incidents:brand_settings", args=["ondine"])).status_code == 404
    assert client.post(reverse("incidents:brand_settings", args=["ondine"]), GOOD).status_code == 404


def _rollups(brand):
    return list(MinuteRollup.objects.filter(brand=brand).order_by("minute").values_list(
        "minute", "mentions", "answered", "answered_within_target"))


def test_answered_within_target_counts_against_the_brand_target_on_the_board_and_everywhere(client, comms, brand):
    # Four mentions in the window: answered after 10, 30 and 50 min, one unanswered.
    reply = {n: official(brand, minutes(n), kind="reply", category="apology") for n in (11, 32, 53)}
    mention(brand, minutes(1), response=reply[11])
    mention(brand, minutes(2), response=reply[32])
    mention(brand, minutes(3), response=reply[53])
    mention(brand, minutes(4))
    rollups_rebuild(brand_id=brand.id)
    incident = Incident.objects.create(brand=brand, title="Data outage", started_at=START, ended_at=minutes(60))
    as_of = minutes(120)

    def board_and_stats():
        figures = incident_figures(incident=incident, now=as_of)
        [stats] = response_stats(brands=[brand], start=START, end=minutes(60), as_of=as_of)
        return figures["answered_within_target"], stats.answered_within_target, figures["first_response_target_s"]

    assert board_and_stats() == (0.75, 0.75, 3600)  # default T = 1 h: three of four
    client.force_login(comms)
    assert client.post(reverse("incidents:brand_settings", args=["ondine"]),
                       {**GOOD, "first_response_target_min": "20"}).status_code == 302
    assert board_and_stats() == (0.25, 0.25, 1200)  # T = 20 min: only the first
    retargeted = _rollups(brand)
    rollups_rebuild(brand_id=brand.id)
    assert retargeted == _rollups(brand)  # re-counting gave exactly what a full rebuild gives
    live = client.get(reverse("incidents:board_live", args=[incident.pk])).json()["full"]
    tiles = {t["key"]: t for t in live["tiles"]}
    assert tiles["answered_within_target"]["label"] == "Answered within 20 min"
    assert tiles["answered_within_target"]["value"] == "25 %"
    chart = client.get(reverse("incidents:board_chart", args=[incident.pk, "within"])).json()["full"]
    assert chart["datasets"][0]["label"] == "Answered within 20 min"
    frt = client.get(reverse("incidents:board_chart", args=[incident.pk, "frt"])).json()["full"]
    assert frt["target"]["label"] == "target 20 min"  # the FRT chart draws the brand's own target


def test_the_admin_refuses_overlapping_hours_and_recounts_rollups_when_it_changes_the_target(client, brand):
    from django.contrib.auth import get_user_model

    reply = official(brand, minutes(31), kind="reply", category="apology")
    mention(brand, minutes(1), response=reply)  # FRT 30 min
    rollups_rebuild(brand_id=brand.id)
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-only")
    client.force_login(admin)
    account = brand.official_accounts.get()
    url = reverse("admin:incidents_brand_change", args=[brand.pk])

    def post(targets: dict, hours: list[tuple[str, str, str]]):
        data = {"name": brand.name, "slug": brand.slug, "time_zone": brand.time_zone, "languages": '["fr", "en"]',
                "official_accounts-TOTAL_FORMS": "1", "official_accounts-INITIAL_FORMS": "1",
                "official_accounts-0-id": str(account.pk), "official_accounts-0-brand": str(brand.pk),
                "official_accounts-0-platform": "x", "official_accounts-0-handle": account.handle,
                "official_accounts-0-platform_user_id": "",
                "tracking_terms-TOTAL_FORMS": "0", "tracking_terms-INITIAL_FORMS": "0",
                "targets-TOTAL_FORMS": "1", "targets-INITIAL_FORMS": "0", "targets-0-brand": str(brand.pk),
                **{f"targets-0-{k}": v for k, v in targets.items()},
                "opening_hours-TOTAL_FORMS": str(len(hours)), "opening_hours-INITIAL_FORMS": "0",
                "holidays-TOTAL_FORMS": "0", "holidays-INITIAL_FORMS": "0"}
        for i, (weekday, opens, closes) in enumerate(hours):
            data.update({f"opening_hours-{i}-weekday": weekday, f"opening_hours-{i}-opens_min": opens,
                         f"opening_hours-{i}-closes_min": closes, f"opening_hours-{i}-brand": str(brand.pk)})
        return client.post(url, data)

    targets = {"first_response_target_min": "60", "update_cadence_min": "60", "acknowledgement_target_min": "30",
               "spike_threshold": "5", "unanswered_breach_count": "10"}
    refused = post(targets, [("0", "09:00", "12:00"), ("0", "11:00", "14:00")])
    assert refused.status_code == 200 and "Monday: 09:00–12:00 overlaps 11:00–14:00." in refused.content.decode()
    refused = post({**targets, "first_response_target_min": "50000"}, [])
    assert refused.status_code == 200 and "A target cannot be longer than 30 days" in refused.content.decode()
    assert not OpeningHours.objects.exists() and not BrandTargets.objects.exists()
    assert MinuteRollup.objects.get(brand=brand).answered_within_target == 1
    assert post({**targets, "first_response_target_min": "20"}, [("0", "09:00", "18:00")]).status_code == 302
    assert brand_targets(brand).first_response_target_s == 1200
    assert MinuteRollup.objects.get(brand=brand).answered_within_target == 0  # 30 min is over the new 20 min
