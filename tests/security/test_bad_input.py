"""Every input found to break Hotline (a 500, or a download cut short) is refused cleanly, with the value and the
reason named. Each test is one finding; the dates Hotline supports are 2000-01-01 to 2099-12-31 (UTC)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from incidents.models import AuditEntry, DigestSubscription, Incident, Team
from socialfeed.models import Mention, Post
from tests.security.conftest import T0, _post

pytestmark = pytest.mark.django_db

RANGE = "from 2000-01-01 to 2099-12-31"


@pytest.fixture
def outage(make_brand, make_user):
    from socialfeed.services import posts_ingest

    team, _ = Team.objects.get_or_create(name="Team A")
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", user_id="100", team=team)
    posts_ingest(posts=[
        _post("700", T0 + timedelta(minutes=3), "@ondine_mobile no data", author="lea", author_id="701"),
        _post("702", T0 + timedelta(minutes=9), "@lea sorry, on it", author="ondine_mobile", author_id="100",
              reply_to="700", reply_to_author="701"),
    ])
    incident = Incident.objects.create(brand=brand, title="Data outage", started_at=T0,
                                       ended_at=T0 + timedelta(hours=2))
    comms = make_user(username="a-comms", role="comms", teams=["Team A"])
    analyst = make_user(username="a-analyst", role="analyst", teams=["Team A"])
    return brand, incident, comms, analyst


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"])
def test_it_refuses_an_incident_list_day_outside_the_supported_dates(client, outage, day):
    client.force_login(outage[2])
    response = client.get(reverse("incidents:home"), {"date": day})
    assert response.status_code == 400
    assert f"date &#x27;{day}&#x27; is outside the dates Hotline supports ({RANGE})." in _body(response)


@pytest.mark.parametrize("day", ["2000-01-01", "2099-12-31"])
def test_it_lists_incidents_on_the_first_and_last_supported_days(client, outage, day):
    client.force_login(outage[2])
    assert client.get(reverse("incidents:home"), {"date": day}).status_code == 200


@pytest.mark.parametrize("digits", ["２０２６-03-02", "٢٠٢٦-٠٣-٠٢", "2026-0³-02"])
def test_it_reads_dates_with_ascii_digits_only(client, outage, digits):
    client.force_login(outage[3])
    home = client.get(reverse("incidents:home"), {"date": digits})
    assert home.status_code == 400 and "is not a date Hotline can read" in _body(home)
    export = client.get(reverse("reports:export", args=["mentions"]), {"from": digits})
    assert export.status_code == 400 and "is not a date Hotline can read" in _body(export)


@pytest.mark.parametrize("kind", ["mentions", "posts", "official-posts", "incidents", "brand-weeks"])
@pytest.mark.parametrize("params, field, value", [
    ({"to": "9999-12-31"}, "to", "9999-12-31"),
    ({"from": "0001-01-01T00:00:00+01:00"}, "from", "0001-01-01T00:00:00+01:00"),
    ({"to": "9999-12-30"}, "to", "9999-12-30"),
    ({"from": "1999-12-31T23:59:59Z"}, "from", "1999-12-31T23:59:59Z"),
])
def test_it_refuses_export_dates_outside_the_supported_dates_before_any_download(client, outage, kind, params,
                                                                                 field, value):
    client.force_login(outage[3])
    response = client.get(reverse("reports:export", args=[kind]), params)
    assert response.status_code == 400
    assert _body(response) == f"{field} {value!r} is outside the dates Hotline supports ({RANGE})."
    assert "Content-Disposition" not in response
    assert not AuditEntry.objects.filter(action="export").exists()


@pytest.mark.parametrize("kind", ["mentions", "posts", "official-posts", "incidents", "brand-weeks"])
def test_it_exports_whole_files_at_the_edges_of_the_supported_dates(client, outage, kind):
    client.force_login(outage[3])
    url = reverse("reports:export", args=[kind])
    for params in ({"from": "2000-01-01", "to": "2001-06-30"}, {"from": "2098-03-02", "to": "2099-12-31"},
                   {"from": "2000-01-01T00:00:00Z", "to": "2001-01-01T00:00:00+14:00"},
                   {"from": "2025-06-01", "to": "2026-05-31"}):
        response = client.get(url, params)
        assert response.status_code == 200, params
        body = _body(response)  # a failure while streaming would raise here
        assert body.endswith("\r\n")
        assert list(csv.reader(io.StringIO(body)))[0][0] in ("brand", "platform")


def test_it_works_out_every_brand_weeks_range_before_the_download_starts(client, outage, make_brand):
    brand, incident, comms, analyst = outage
    # A second brand far east of UTC, so each brand's weeks are worked out in its own zone.
    make_brand(name="Brisant Telecom", slug="brisant", time_zone="Pacific/Kiritimati",
               team=Team.objects.get(name="Team A"))
    client.force_login(analyst)
    url = reverse("reports:export", args=["brand-weeks"])
    too_long = client.get(url, {"from": "2000-01-01", "to": "2099-12-31"})
    assert too_long.status_code == 400
    assert "brand-weeks covers at most 104 weeks at a time" in _body(too_long)
    after_default_end = client.get(url, {"from": "2099-01-05"})  # "to" defaults to the last complete week
    assert after_default_end.status_code == 400
    assert "the first week comes after the last; give both from and to." in _body(after_default_end)
    whole = client.get(url, {"from": "2098-03-02", "to": "2099-12-31"})
    rows = list(csv.DictReader(io.StringIO(_body(whole))))
    assert {r["brand"] for r in rows} == {"ondine", "brisant"}
    assert rows[-1]["week"] in ("2099-W52", "2099-W53")


def test_it_shows_the_first_supported_weeks_and_refuses_1970s_weeks(client, outage):
    client.force_login(outage[2])
    for number in range(1, 8):
        old = client.get(reverse("reports:week"), {"week": f"1970-W{number:02d}"})
        assert old.status_code == 400
        assert f"week &#x27;1970-W{number:02d}&#x27; is outside the dates Hotline supports ({RANGE})." in _body(old)
        first = client.get(reverse("reports:week"), {"week": f"2000-W{number:02d}"})
        assert first.status_code == 200  # its 8-week trend reaches back into 1999: computed, not refused
    page = _body(client.get(reverse("reports:week"), {"week": "2000-W01"}))
    assert "1999-W52" not in page and "2000-W02 →" in page  # no link to a week Hotline would refuse
    assert "2099-W52 →" not in _body(client.get(reverse("reports:week"), {"week": "2099-W53"}))
    for query in ({"from": "1970-W01"}, {"to": "9999-W52"}, {"from": "٢٠٢٦-W10"}):
        assert client.get(reverse("reports:brand", args=["ondine"]), query).status_code == 400


@pytest.mark.parametrize("value", ["²", "١", "1" * 5000, "-1", " 1"])
def test_it_refuses_a_digest_brand_that_is_not_one_of_the_users_brand_ids(client, outage, value):
    brand, incident, comms, analyst = outage
    client.force_login(analyst)
    response = client.post(reverse("reports:digests"), {"brand": [str(brand.pk), value], "time_zone": "UTC"},
                           follow=True)
    assert response.status_code == 200
    assert "is not one of your brands: nothing was changed." in _body(response)
    assert not DigestSubscription.objects.exists()


@pytest.mark.parametrize("field", ["started_at", "ended_at"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "1999-12-31T23:00"])
def test_it_refuses_an_incident_time_outside_the_supported_dates_on_its_field(client, outage, field, value):
    brand, incident, comms, analyst = outage
    client.force_login(comms)
    data = {"brand": brand.pk, "title": "Signal lost", "severity": "major", "status": "investigating",
            "started_at": "2026-03-02T10:00", "ended_at": "", field: value}
    for url in (reverse("incidents:new"), reverse("incidents:edit", args=[incident.pk])):
        response = client.post(url, data)
        assert response.status_code == 200
        assert response.context["form"].errors[field] == [
            f"{'Started at' if field == 'started_at' else 'Ended at'} {value[:10] + 'T' + value[11:]!r} is "
            f"outside the dates Hotline supports ({RANGE})."]
    assert Incident.objects.count() == 1


def test_it_refuses_an_incident_window_outside_the_supported_dates_from_any_caller(outage):
    from django.core.exceptions import ValidationError

    from incidents.services import incident_open

    brand, incident, comms, analyst = outage
    with pytest.raises(ValidationError, match="Hotline supports dates from 2000-01-01 to 2099-12-31"):
        incident_open(brand=brand, title="Old", started_at=T0.replace(year=1970), severity="major",
                      status="investigating", author=comms)


@pytest.mark.parametrize("brand", ["a\nb", "a\rb", 'x"; filename="evil.exe', "ondine\x0b", "é" * 300])
def test_it_refuses_an_export_brand_that_is_not_one_of_the_users_brands(client, outage, brand):
    client.force_login(outage[3])
    response = client.get(reverse("reports:export", args=["mentions"]), {"brand": brand})
    assert response.status_code == 400
    assert _body(response).startswith("There is no brand ") and "Content-Disposition" not in response


@pytest.mark.parametrize("model, day", [
    ("incidents_incident", ("9999", "12", "31")), ("incidents_incident", ("0001", "1", "1")),
    ("socialfeed_post", ("9999", "12", "31")), ("socialfeed_mention", ("9999", "12", None)),
    ("incidents_incident", ("9999", None, None)), ("incidents_incident", ("２０２６", "3", "2")),
])
def test_it_refuses_an_admin_date_hierarchy_day_outside_the_supported_dates(client, outage, make_user, model, day):
    client.force_login(make_user(username="root", role="admin"))
    field = {"incidents_incident": "started_at", "socialfeed_post": "created_at",
             "socialfeed_mention": "created_at"}[model]
    query = {f"{field}__{part}": value for part, value in zip(("year", "month", "day"), day, strict=True) if value}
    url = reverse(f"admin:{model}_changelist")
    response = client.get(url, {**query, "q": "outage"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"{url}?q=outage"
    shown = [str(m) for m in response.context["messages"]]
    assert shown and ("outside the dates Hotline supports" in shown[0] or "is not a date" in shown[0])
    ok = client.get(url, {f"{field}__year": "2026", f"{field}__month": "3", f"{field}__day": "2"})
    assert ok.status_code == 200
    assert Post.objects.exists() and Mention.objects.exists()


@pytest.mark.parametrize("command, option", [("response_stats", "--from"), ("response_stats", "--to"),
                                             ("rescore_tone", "--since"), ("export", "--from"), ("export", "--to")])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31", "٢٠٢٦-03-02"])
def test_commands_refuse_dates_outside_the_supported_dates_naming_the_option(outage, tmp_path, command, option,
                                                                             value):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    args = ["mentions", "--out", str(tmp_path / "x.csv")] if command == "export" else []
    with pytest.raises(CommandError) as refused:
        call_command(command, *args, option, value)
    name = option.removeprefix("--") if command == "export" else option
    assert str(refused.value).startswith(f"{name} {value!r} is ")
    assert RANGE in str(refused.value) or "is not a date Hotline can read" in str(refused.value)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "0001-01-01T00:00", "1999-12-31T22:00Z"])
def test_timeline_notes_and_communications_refuse_times_outside_the_supported_dates(client, outage, value):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from incidents.models import IncidentEvent, OffPlatformCommunication

    brand, incident, comms, analyst = outage
    client.force_login(comms)
    events = IncidentEvent.objects.count()
    note = client.post(reverse("incidents:event", args=[incident.pk]), {"text": "Engineers on site", "at": value},
                       follow=True)
    sent = client.post(reverse("incidents:communication", args=[incident.pk]), {
        "communication-channel": "sms", "communication-sent_at": value, "communication-text": "Toutes nos excuses"},
        follow=True)
    for response in (note, sent):
        assert response.status_code == 200 and "outside the dates Hotline supports" in _body(response)
    with pytest.raises(CommandError, match="outside the dates Hotline supports"):
        call_command("record_communication", "--incident", str(incident.pk), "--channel", "sms", "--at", value,
                     "--text", "Toutes nos excuses")
    assert IncidentEvent.objects.count() == events and not OffPlatformCommunication.objects.exists()


@pytest.mark.parametrize("value", ["²", "١", "1" * 5000])
def test_send_me_this_digest_now_refuses_a_brand_that_is_not_an_ascii_id(client, outage, value):
    brand, incident, comms, analyst = outage
    client.force_login(analyst)
    response = client.post(reverse("reports:digest_send_now"), {"brand": value}, follow=True)
    assert response.status_code == 200 and "Choose one of your brands." in _body(response)


@pytest.mark.parametrize("line", ["9999-12-31 End of time", "0001-01-01 Year one", "２０２６-12-25 Christmas"])
def test_brand_settings_refuse_holidays_outside_the_supported_dates(client, outage, line):
    brand, incident, comms, analyst = outage
    client.force_login(comms)
    form = {"first_response_target_min": 60, "update_cadence_min": 60, "acknowledgement_target_min": 30,
            "spike_threshold": 5, "unanswered_breach_count": 10, "holidays": f"2026-12-25 Christmas\n{line}"}
    response = client.post(reverse("incidents:brand_settings", args=[brand.slug]), form)
    assert response.status_code == 200
    body = _body(response)
    assert "line 2" in body and ("outside the dates Hotline supports" in body or "does not start with a date" in body)
    assert not brand.holidays.exists()  # nothing stored unless the whole form is valid


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31", "2026-02-30T10:00"])
def test_alerts_check_refuses_a_now_outside_the_supported_dates(outage, value):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"^--now '"):
        call_command("alerts_check", "--now", value)


def test_response_stats_still_reads_supported_dates(outage, capsys):
    from django.core.management import call_command

    call_command("response_stats", "--from", "2026-03-01", "--to", "2026-03-03T00:00:00+01:00")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("brand,mentions,answered") and out[1].startswith("ondine,1,1,1,")
