"""Random and hostile input against every JSON endpoint, filter and form: never a 500, never a download cut short;
bad input gets a 4xx or a form error naming the field.

Two kinds of test. The *sweeps* try every value of a fixed list of known-dangerous inputs in every parameter of
every page, export, form and admin list that takes it: dates at both ends of the calendar and just outside the
range Hotline supports, ISO weeks whose trend would leave it, control characters, digits that are not ASCII
("²", "١٢٣", "２０２６"), very long values. Random draws alone missed those (a 500 for /?date=9999-12-31, for 1970
weeks, for a digest brand "²"...). The *hypothesis* tests then try random combinations; each is bounded by
max_examples."""
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

# Dates at the ends of Python's calendar and of the range Hotline supports (2000-01-01 to 2099-12-31, UTC).
CALENDAR_EDGES = ["0001-01-01", "9999-12-31", "9999-12-30", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00",
                  "0001-01-01T00:00", "9999-12-31T23:59", "1970-01-01", "1999-12-31", "1999-12-31T23:59:59Z",
                  "2000-01-01", "2000-01-01T00:00:00+14:00", "2099-12-31", "2099-12-31T23:59:59-12:00", "2100-01-01",
                  "2026-02-29", "2024-02-29T24:00"]
WEEK_EDGES = [f"1970-W{n:02d}" for n in range(1, 8)] + ["0001-W01", "9999-W52", "9998-W52", "1999-W52", "2000-W01",
                                                        "2099-W53", "2100-W01", "2026-W53", "2026-w10"]
CONTROL = ["a\nb", "a\rb", "\t", "x\x0bx", "\x1f", "\x7f", "\x85", "a\u2028b", "\x1b[31m", "=1+1", "@SUM(A1)"]
NON_ASCII_DIGITS = ["²", "١٢٣", "１２３", "߁", "٢٠٢٦-٠٣-٠٢", "２０２６-03-02", "２０２６-W10", "2026-0³-02"]
LONG = ["9" * 5000, "x" * 100_000, "2026-03-02" + " " * 5000, "-" * 300]
DAY_VALUES = CALENDAR_EDGES + NON_ASCII_DIGITS + CONTROL[:4] + LONG
WEEK_VALUES = WEEK_EDGES + NON_ASCII_DIGITS[-2:] + CONTROL[:3] + LONG[:2]
TEXT_VALUES = CONTROL + NON_ASCII_DIGITS[:4] + LONG + ["-1", "0", "99999999999999999999999"]

NASTY = ["", "-1", "0", "99999999999999999999999", "1e309", "NaN", "2026-02-30", "2026-13-01", "0000-00-00",
         "2026-W99", "2026-W00", "9999-W52", "-2026-W10", "2026-03-02T25:61", "9999-12-31T23:59",
         "0001-01-01T00:00", "Europe/Nowhere", "../../etc/passwd", "' OR 1=1 --", "<script>alert(1)</script>",
         "\x00", "\ud7ff\ufeff\u202e", "x" * 100_000, "-", "--brand", "%", "[]", "{}", "true",
         *CALENDAR_EDGES, *WEEK_EDGES, *CONTROL, *NON_ASCII_DIGITS]
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
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # an error while streaming is a download cut short: it counts too


def _fields_named(response, form_fields: set[str]) -> None:
    """A form page answered with 200 to a POST shows errors, each under a field of the form (or the whole form)."""
    form = response.context["form"]
    if not form.is_bound:
        return  # a POST with no field at all shows the blank form again
    assert form.errors, "a refused POST must say why"
    assert set(form.errors) <= form_fields | {"__all__"}


# --- Sweeps: every known-dangerous value in every parameter that could take it ------------------------------------

class _Sweep:
    """Tries requests and collects every failure (a 5xx, an exception, a download that breaks off), so that one
    run lists all of them rather than the first."""

    def __init__(self) -> None:
        self.tried = 0
        self.failures: list[str] = []

    def check(self, what: str, send) -> object | None:
        self.tried += 1
        try:
            response = send()
            _no_server_error(response, what)
            return response
        except Exception as error:  # noqa: BLE001 - the test client re-raises the view's exception
            self.failures.append(f"{what}: {type(error).__name__}: {str(error)[:120]}")
            return None

    def get(self, client, url: str, params: dict[str, list[str]], fixed: dict[str, str] | None = None) -> None:
        for name, values in params.items():
            for value in values:
                self.check(f"GET {url} {name}={value[:40]!r}", lambda n=name, v=value: client.get(url, {**(fixed or {}), n: v}))

    def assert_clean(self, at_least: int) -> None:
        assert self.tried >= at_least
        assert not self.failures, f"{len(self.failures)} of {self.tried} requests failed:\n" + "\n".join(self.failures)


def test_sweep_every_filter_and_export_parameter_with_dangerous_values(client, outage):
    brand, incident, comms, analyst = outage
    client.force_login(analyst)
    sweep = _Sweep()
    sweep.get(client, reverse("incidents:home"), {
        "date": DAY_VALUES, "brand": TEXT_VALUES, "status": TEXT_VALUES, "page": TEXT_VALUES})
    sweep.get(client, reverse("reports:week"), {"week": WEEK_VALUES, "tz": TEXT_VALUES, "sort": TEXT_VALUES})
    # A far "from" alone is a valid 104-week page (about a second each): both ends get each value instead.
    brand_page = reverse("reports:brand", args=[brand.slug])
    sweep.get(client, brand_page, {"to": WEEK_VALUES})
    for value in WEEK_VALUES:
        sweep.check(f"GET {brand_page} from=to={value[:40]!r}",
                    lambda v=value: client.get(brand_page, {"from": v, "to": v}))
    # Every kind reads its filters through the same code; each kind's rows are computed their own way.
    export = reverse("reports:export", args=["mentions"])
    sweep.get(client, export, {"brand": TEXT_VALUES, "incident": TEXT_VALUES, "platform": TEXT_VALUES,
                               "bom": TEXT_VALUES[:4], "raw": TEXT_VALUES[:4]})
    for kind in ("mentions", "incidents", "brand-weeks"):
        sweep.get(client, reverse("reports:export", args=[kind]), {"from": DAY_VALUES, "to": DAY_VALUES})
    # The same values at the other end of a range that is otherwise fine (brand weeks once broke off halfway).
    sweep.get(client, reverse("reports:export", args=["brand-weeks"]), {"to": DAY_VALUES}, {"from": "2026-03-01"})
    sweep.assert_clean(at_least=400)


def test_sweep_every_form_field_that_takes_a_date_or_an_id_with_dangerous_values(client, outage):
    brand, incident, comms, analyst = outage
    client.force_login(comms)
    sweep = _Sweep()
    base = {"brand": brand.pk, "title": "Signal lost", "severity": "major", "status": "investigating",
            "started_at": "2026-03-02T10:00", "ended_at": ""}
    for url in (reverse("incidents:new"), reverse("incidents:edit", args=[incident.pk])):
        for field in ("started_at", "ended_at"):
            for value in DAY_VALUES:
                response = sweep.check(f"POST {url} {field}={value[:40]!r}",
                                       lambda u=url, f=field, v=value: client.post(u, {**base, f: v}))
                if response is not None and response.status_code == 200:
                    _fields_named(response, set(INCIDENT_FIELDS))
    # Timeline notes and off-platform communications, when they really happened (in the brand's zone).
    for value in DAY_VALUES:
        for url, data in ((reverse("incidents:event", args=[incident.pk]), {"text": "Engineers on site", "at": value}),
                          (reverse("incidents:communication", args=[incident.pk]),
                           {"communication-channel": "sms", "communication-sent_at": value,
                            "communication-text": "Toutes nos excuses"})):
            sweep.check(f"POST {url} {value[:40]!r}", lambda u=url, d=data: client.post(u, d))
    for value in TEXT_VALUES:
        sweep.check(f"POST digest send-now brand={value[:40]!r}",
                    lambda v=value: client.post(reverse("reports:digest_send_now"), {"brand": v}))
    for value in DAY_VALUES + NON_ASCII_DIGITS + CONTROL:
        form = {"first_response_target_min": 60, "update_cadence_min": 60, "acknowledgement_target_min": 30,
                "spike_threshold": 5, "unanswered_breach_count": 10, "holidays": f"{value} Holiday"}
        sweep.check(f"POST brand settings holidays={value[:40]!r}",
                    lambda f=form: client.post(reverse("incidents:brand_settings", args=[brand.slug]), f))
    for value in TEXT_VALUES:
        for data in ({"brand": value, "time_zone": "UTC"}, {"brand": str(brand.pk), "time_zone": value}):
            response = sweep.check(f"POST digests {data!r:.80}",
                                   lambda d=data: client.post(reverse("reports:digests"), d))
            assert response is None or response.status_code == 302
    sweep.assert_clean(at_least=100)


def test_sweep_the_admin_date_hierarchies_with_dangerous_days(client, outage, make_user):
    client.force_login(make_user(username="root", role="admin"))
    sweep = _Sweep()
    for model, field in (("incidents_incident", "started_at"), ("socialfeed_post", "created_at"),
                         ("socialfeed_mention", "created_at"), ("incidents_offplatformcommunication", "sent_at"),
                         ("incidents_alert", "raised_at"), ("socialfeed_rejectedpost", "rejected_at")):
        url = reverse(f"admin:{model}_changelist")
        for year, month, day in (("9999", "12", "31"), ("0001", "1", "1"), ("9999", "12", None), ("9999", None, None),
                                 ("1999", "12", "31"), ("2099", "12", "31"), ("2100", "1", "1"), ("²", None, None),
                                 ("２０２６", "3", "2"), ("2026", "13", "1"), ("2026", "2", "30"), ("9" * 5000, None, None),
                                 ("2026", "3", "x\ny")):
            query = {f"{field}__year": year}
            if month:
                query[f"{field}__month"] = month
            if day:
                query[f"{field}__day"] = day
            sweep.check(f"GET {url} {str(query)[:80]}", lambda u=url, q=query: client.get(u, q, follow=True))
    sweep.assert_clean(at_least=78)


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
