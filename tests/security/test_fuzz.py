"""Random and hostile input against every JSON endpoint, filter and form: never a 500; bad input gets a 4xx or a
form error naming the field. Hypothesis picks the values; each test is bounded by max_examples."""
from __future__ import annotations

from urllib.parse import quote, quote_from_bytes

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.models import Incident, Team
from tests.security.conftest import T0

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NASTY = ["", "-1", "0", "99999999999999999999999", "1e309", "NaN", "2026-02-30", "2026-13-01", "0000-00-00",
         "2026-W99", "2026-W00", "9999-W52", "-2026-W10", "2026-03-02T25:61", "9999-12-31T23:59",
         "0001-01-01T00:00", "Europe/Nowhere", "../../etc/passwd", "' OR 1=1 --", "<script>alert(1)</script>",
         "\x00", "\ud7ff\ufeff\u202e", "x" * 100_000, "-", "--brand", "%", "[]", "{}", "true"]
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
VALUE = st.one_of(st.sampled_from(NASTY), TEXT, st.integers(-(2**70), 2**70).map(str))
# Percent-encoded arbitrary bytes: query strings that are not valid UTF-8.
RAW_BYTES = st.binary(max_size=64).map(lambda b: quote_from_bytes(b))


def _query(params: dict[str, str], raw: str) -> str:
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items()) + (f"&brand={raw}&from={raw}" if raw else "")


@pytest.fixture
def outage(make_brand, make_user):
    team, _ = Team.objects.get_or_create(name="Team A")
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", team=team)
    incident = Incident.objects.create(brand=brand, title="Data outage", started_at=T0)
    comms = make_user(username="a-comms", role="comms", teams=["Team A"])
    analyst = make_user(username="a-analyst", role="analyst", teams=["Team A"])
    return brand, incident, comms, analyst


def _no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what} answered {response.status_code}"


def _fields_named(response, form_fields: set[str]) -> None:
    """A form page answered with 200 to a POST shows errors, each under a field of the form (or the whole form)."""
    form = response.context["form"]
    if not form.is_bound:
        return  # a POST with no field at all shows the blank form again
    assert form.errors, "a refused POST must say why"
    assert set(form.errors) <= form_fields | {"__all__"}


@settings(FUZZ, max_examples=8)  # twelve pages per example, the weekly ones computing real figures
@given(params=st.dictionaries(st.sampled_from(["brand", "status", "date", "page", "week", "tz", "sort", "from", "to",
                                               "incident", "platform", "bom", "x", "order", "state", "lang",
                                               "complaints", "older", "after", "before", "since", "at"]), VALUE,
                              max_size=6),
       raw=st.one_of(st.just(""), RAW_BYTES))
def test_filters_and_json_endpoints_never_fail_on_any_query(client, outage, params, raw):
    brand, incident, comms, analyst = outage
    query = _query(params, raw)
    client.force_login(analyst)
    for url in (reverse("incidents:home"), reverse("incidents:board_live", args=[incident.pk]),
                reverse("incidents:board_chart", args=[incident.pk, "volume"]),
                reverse("incidents:board_chart", args=[incident.pk, "frt"]),
                reverse("incidents:board_queue", args=[incident.pk]), reverse("incidents:board_bucket", args=[incident.pk]),
                reverse("incidents:board", args=[incident.pk]), reverse("reports:week"),
                reverse("reports:brand", args=[brand.slug]), reverse("reports:export", args=["mentions"]),
                reverse("reports:export", args=["brand-weeks"]), reverse("socialfeed:sources")):
        response = client.get(url, QUERY_STRING=query)
        _no_server_error(response, f"GET {url}?{query[:200]}")
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # errors while streaming count too


@FUZZ
@given(pk=st.integers(-(2**70), 2**70), chart=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1,
                                                      max_size=40))
def test_board_endpoints_answer_404_for_any_unknown_incident_or_chart(client, outage, pk, chart):
    brand, incident, comms, analyst = outage
    client.force_login(comms)
    for path in (f"/incidents/{pk}/", f"/incidents/{pk}/live.json", f"/incidents/{pk}/charts/{chart}.json",
                 f"/incidents/{incident.pk}/charts/{chart}.json"):
        response = client.get(path)
        _no_server_error(response, f"GET {path}")
        if str(pk) != str(incident.pk) and path.startswith(f"/incidents/{pk}/"):
            assert response.status_code == 404


INCIDENT_FIELDS = ["brand", "title", "started_at", "ended_at", "severity", "status", "affected_services"]


@FUZZ
@given(data=st.dictionaries(st.sampled_from(INCIDENT_FIELDS), VALUE, max_size=7))
def test_incident_forms_refuse_bad_input_with_a_message_on_the_field(client, outage, data):
    brand, incident, comms, analyst = outage
    client.force_login(comms)
    for url in (reverse("incidents:new"), reverse("incidents:edit", args=[incident.pk])):
        response = client.post(url, data)
        _no_server_error(response, f"POST {url} {data!r:.300}")
        if response.status_code == 200:
            _fields_named(response, set(INCIDENT_FIELDS))


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={"text": VALUE, "status": VALUE, "time_zone": VALUE,
                                                "brand": VALUE}))
def test_note_status_and_digest_forms_never_fail(client, outage, data):
    brand, incident, comms, analyst = outage
    client.force_login(comms)
    for url in (reverse("incidents:event", args=[incident.pk]), reverse("reports:digests"),
                reverse("incidents:suggestion_confirm", args=[brand.slug])):
        response = client.post(url, data)
        _no_server_error(response, f"POST {url} {data!r:.300}")
        assert response.status_code in (302, 400, 403, 404)


def test_a_huge_post_body_is_refused_not_crashed(client, outage):
    brand, incident, comms, analyst = outage
    client.force_login(comms)
    response = client.post(reverse("incidents:event", args=[incident.pk]), {"text": "x" * 3_000_000})
    _no_server_error(response, "a 3 MB note")
    assert not incident.events.filter(text__startswith="xxx").exists()


SETTINGS_FIELDS = ["first_response_target_min", "update_cadence_min", "acknowledgement_target_min", "spike_threshold",
                   "unanswered_breach_count", "holidays"] + [f"hours_{day}" for day in range(7)]


@FUZZ
@given(data=st.dictionaries(st.sampled_from(SETTINGS_FIELDS), VALUE, max_size=8))
def test_brand_settings_refuse_bad_input_naming_the_field_and_never_fail(client, outage, data):
    from incidents.models import BrandTargets, OpeningHours

    brand, incident, comms, analyst = outage
    client.force_login(comms)
    before = (BrandTargets.objects.filter(brand=brand).values_list().first(),
              list(OpeningHours.objects.filter(brand=brand).values_list()))
    response = client.post(reverse("incidents:brand_settings", args=[brand.slug]), data)
    _no_server_error(response, f"POST brand settings {data!r:.300}")
    if response.status_code == 200:  # refused: every message names its field, and nothing changed
        form_labels = {str(f.label) for f in response.context["form"].fields.values()}
        for message in (str(m) for m in response.context["messages"]):
            assert any(message.startswith(label) for label in form_labels), message
        assert before == (BrandTargets.objects.filter(brand=brand).values_list().first(),
                          list(OpeningHours.objects.filter(brand=brand).values_list()))


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={"kind": VALUE, "target": VALUE, "secret": VALUE, "language": VALUE}))
def test_the_alert_channel_form_never_fails(client, outage, data):
    brand, incident, comms, analyst = outage
    client.force_login(comms)
    team = Team.objects.get(name="Team A")
    response = client.post(reverse("incidents:team_settings", args=[team.pk]), data)
    _no_server_error(response, f"POST team settings {data!r:.300}")
