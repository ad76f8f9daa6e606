"""The API's incident and weekly figures are the CSV exports' figures, to the last digit, for the demo outage:
both read the same selectors (incidents.figures, incidents.reports), as of the same moment."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from incidents import exports, reports
from incidents.demo import ONDINE, demo_load
from incidents.models import Brand

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NOW = dt.datetime(2026, 3, 4, 15, 7, 30, tzinfo=UTC)
AS_OF = NOW + dt.timedelta(minutes=3)  # every figure below is as of this moment


@pytest.fixture
def demo(monkeypatch):
    demo_load(now=NOW)
    # The ongoing incidents' figures run to "now": hold the clock still so the API and the export read one moment.
    monkeypatch.setattr(timezone, "now", lambda: AS_OF)
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="analyst")


def _export(kind: str, user, **params) -> list[dict]:
    filters = exports.filters_from(params)
    rows = exports.export_start(kind=kind, brands=Brand.objects.filter(teams__members=user), filters=filters,
                                user=user, now=AS_OF)
    return list(csv.DictReader(io.StringIO("".join(exports.csv_chunks(kind=kind, rows=rows)))))


def _cell(value, name: str = "") -> str:
    """A JSON value as the CSV writes it ("" for no value, true/false for booleans, figures rounded as the exports
    round them: incidents.export_cells.figure). The API gives figures unrounded."""
    from incidents.export_cells import figure

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and name:
        return str(figure(name, value))
    return str(value)


def test_the_apis_incident_figures_are_the_incidents_exports(demo, api_as):
    api = api_as(demo)
    incidents = api.get("/api/v1/incidents/", {"limit": 100}).json()["results"]
    exported = {int(row["incident_id"]): row for row in _export("incidents", demo)}
    assert len(incidents) == len(exported) == 3
    compared = 0
    for incident in incidents:
        row, f = exported[incident["id"]], incident["figures"]
        assert f["as_of"] == AS_OF.isoformat().replace("+00:00", "Z")
        pairs = {"tta_s": f["tta_s"], "time_to_first_update_s": f["first_update_s"],
                 "longest_silence_s": f["longest_silence_s"], "off_message_posts": f["off_message_count"],
                 "acknowledged": f["acknowledged"], "acknowledged_via": f["acknowledged_via"],
                 "since_last_update_s": f["since_last_update_s"], "ongoing": incident["ongoing"],
                 "status": incident["status"], "first_response_target_s": f["first_response_target_s"]}
        for phase in ("before", "during", "after"):
            for figure in exports.PHASE_FIGURES + exports.PHASE_BUSINESS_FIGURES:
                pairs[f"{phase}_{figure}"] = f["phases"][phase][figure]
            pairs[f"{phase}_km_median_not_reached_over_s"] = f["phases"][phase]["km_not_reached_over_s"]
        for column, value in pairs.items():
            assert _cell(value, column) == row[column], (incident["title"], column, value, row[column])
            compared += 1
        # The board's window figures (rollups) and the export's "during" phase (mentions) agree too.
        for figure in ("mentions", "answered", "reply_rate", "answered_within_target", "median_frt_s", "p90_frt_s"):
            assert _cell(f[figure], figure) == row[f"during_{figure}"], (incident["title"], figure)
    assert compared > 100
    ongoing = [i for i in incidents if i["ongoing"]]
    assert ongoing and all(i["figures"]["mentions"] > 0 for i in ongoing)  # the comparison is not of empty sets


def test_the_apis_weekly_figures_are_the_brand_weeks_exports(demo, api_as):
    api = api_as(demo)
    last = reports.week_containing(moment=AS_OF, zone=Brand.objects.get(slug=ONDINE["slug"]).zone)
    first = reports.week_shift(last, -3)
    weeks = api.get("/api/v1/brand-weeks/", {"from": first, "to": last}).json()["results"]
    monday, sunday = reports.week_monday(first), reports.week_monday(last) + dt.timedelta(days=6)
    exported = {(r["brand"], r["week"]): r for r in _export("brand-weeks", demo, **{"from": monday.isoformat(),
                                                                                    "to": sunday.isoformat()})}
    assert len(weeks) == len(exported) == 8  # two brands, four weeks
    columns = [c for c in exports.BRAND_WEEK_COLUMNS if c not in ("brand", "week", "incidents")]
    renamed = {"as_of_utc": "as_of", "km_median_not_reached_over_s": "km_not_reached_over_s"}
    busy = 0
    for week in weeks:
        row = exported[(week["brand"], week["week"])]
        for column in columns:
            value = week[renamed.get(column, column)]
            if column == "as_of_utc":
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
            assert _cell(value, column) == row[column], (week["brand"], week["week"], column, value, row[column])
        assert len(week["incidents"]) == int(row["incidents"])
        busy += week["mentions"] > 0
    assert busy >= 4  # weeks with mentions and answers, not only empty ones
