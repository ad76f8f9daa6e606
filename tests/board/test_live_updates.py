"""Light live updates: a board that already holds a version of an endpoint gets a 304 when nothing changed, a
patch of what changed otherwise, and the page rebuilds exactly what a full answer would have held."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.live_updates import patch_apply, patch_between

from .conftest import at

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-2, 2, allow_nan=False) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=2), children, max_size=4)
    | st.lists(st.fixed_dictionaries({"id": st.integers(0, 6), "v": children}), max_size=5,
               unique_by=lambda row: row["id"]),
    max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(old=JSON, new=JSON)
def test_a_patch_turns_the_old_payload_into_the_new_one(old, new):
    patch = patch_between(old, new)
    rebuilt = patch_apply(old, json.loads(json.dumps(patch)))  # as the page receives it: through JSON
    assert json.dumps(rebuilt, sort_keys=True) == json.dumps(new, sort_keys=True)


def test_a_patch_tells_apart_values_that_python_calls_equal():
    for old, new in (([0], [False]), ({"a": 1}, {"a": 1.0}), ([True], [1])):
        assert json.dumps(patch_apply(old, patch_between(old, new))) == json.dumps(new)


def test_a_new_bucket_value_is_a_small_patch_not_a_new_series():
    old = {"series": {"start": 0, "step": 60000, "n": 300}, "datasets": [{"label": "Mentions", "data": [1] * 300}]}
    new = json.loads(json.dumps(old))
    new["datasets"][0]["data"][-1] = 7
    patch = patch_between(old, new)
    assert patch == {"$o": {"datasets": {"$l": 1, "at": {"0": {"$o": {"data": {"$l": 300, "at": {"299": {"$v": 7}}}}}}}}}


def _get(client, url, since=None, **headers):
    return client.get(url, {"since": since} if since else {}, headers=headers)


@pytest.mark.django_db
def test_the_board_answers_304_when_nothing_changed_and_a_patch_when_something_did(comms_client, outage):
    from socialfeed.rollups import rollups_rebuild

    from .conftest import mention

    url = reverse("incidents:board_chart", kwargs={"pk": outage.pk, "chart": "volume"})
    first = _get(comms_client, url).json()
    assert set(first) == {"version", "full"}
    unchanged = _get(comms_client, url, **{"If-None-Match": f'"{first["version"]}"'})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert _get(comms_client, url, since=first["version"]).status_code == 304

    mention(outage.brand, at(10, 50), text="@ondine_mobile still nothing")
    rollups_rebuild(brand_id=outage.brand_id)
    answer = _get(comms_client, url, since=first["version"])
    body = answer.json()
    assert answer.status_code == 200 and body["base"] == first["version"] and "full" not in body
    assert len(answer.content) < len(json.dumps(first)) / 4  # only the 10:50 bucket travels
    fresh = _get(comms_client, url).json()
    assert fresh["version"] == body["version"]
    assert patch_apply(first["full"], body["patch"]) == fresh["full"]


@pytest.mark.django_db
def test_an_unknown_or_expired_version_gets_the_full_payload(comms_client, outage):
    url = reverse("incidents:board_live", kwargs={"pk": outage.pk})
    body = _get(comms_client, url, since="0123456789abcdef").json()
    assert "full" in body and body["full"]["tiles"]
    assert "full" in _get(comms_client, url, since="x" * 500).json()  # nonsense is never an error


@pytest.mark.django_db
def test_patches_are_worded_in_the_viewers_language(comms_client, outage):
    url = reverse("incidents:board_live", kwargs={"pk": outage.pk})
    english = _get(comms_client, url).json()
    french = comms_client.get(url, {"since": english["version"]}, headers={"accept-language": "fr"}).json()
    # The French board never patches an English payload: it gets its own, in full.
    assert "full" in french and french["full"]["tiles"][0]["label"] == "Délai de reconnaissance"
