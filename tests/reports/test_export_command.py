"""python manage.py export: the same CSV as the download buttons, to a file or stdout."""
from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.models import AuditEntry, Team

from .conftest import at


@pytest.fixture
def two_brands(make_brand, make_user, conversation):
    ondine = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900")
    volta = make_brand(name="Volta Energie", handle="volta_energie", user_id="901")
    make_user(username="ana", role="analyst", teams=["Telecom"])
    make_user(username="carla", role="comms", teams=["Telecom"])
    Team.objects.get(name="Telecom").brands.add(ondine)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-02 09:00:00"), reply_after_s=90, pid=1,
                 text="Réseau coupé à Lyon @ondine_mobile, ça ne marche pas")
    conversation(handle="volta_energie", user_id="901", when=at("2026-11-03 09:00:00"), reply_after_s=60, pid=2)
    return ondine, volta


def test_it_writes_a_utf8_file_with_a_bom_when_asked(tmp_path, two_brands):
    out = tmp_path / "mentions.csv"
    call_command("export", "mentions", "--brand", "ondine-mobile", "--from", "2026-11-01", "--to", "2026-11-08",
                 "--bom", "--out", str(out), stderr=io.StringIO())
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfbrand,platform,post_id,")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["brand"], r["post_id"], r["frt_s"]) for r in rows] == [("ondine-mobile", "1", "90")]
    assert rows[0]["text"] == "Réseau coupé à Lyon @ondine_mobile, ça ne marche pas"
    assert AuditEntry.objects.get(action="export").details == {
        "kind": "mentions", "brand": "ondine-mobile", "start": "2026-11-01T00:00:00+00:00",
        "end": "2026-11-09T00:00:00+00:00"}


def test_it_writes_to_stdout_with_a_dash(capsys, two_brands):
    call_command("export", "brand-weeks", "--from", "2026-11-02", "--to", "2026-11-08", "--out", "-")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(r["brand"], r["week"], r["mentions"]) for r in rows} == {
        ("ondine-mobile", "2026-W45", "1"), ("volta-energie", "2026-W45", "1")}


def test_it_limits_an_analyst_to_their_brands_and_refuses_comms(tmp_path, two_brands):
    out = tmp_path / "posts.csv"
    call_command("export", "posts", "--user", "ana", "--out", str(out), stderr=io.StringIO())
    body = out.read_text()
    assert "ondine" in body and "volta" not in body
    with pytest.raises(CommandError, match="may export"):
        call_command("export", "posts", "--user", "carla", "--out", str(out))
    with pytest.raises(CommandError, match="from .yesterday. is not a date Hotline can read"):
        call_command("export", "mentions", "--from", "yesterday", "--out", str(out))


def test_it_writes_raw_text_only_when_asked_and_refuses_staff_who_are_not_analysts(tmp_path, two_brands, tweet,
                                                                                   ingest):
    from django.contrib.auth import get_user_model

    ingest(tweet("9", at("2026-11-04 09:00:00"), "=SUM(A1) @ondine_mobile down", author="mallory"))
    out = tmp_path / "mentions.csv"
    call_command("export", "mentions", "--out", str(out), stderr=io.StringIO())
    assert "'=SUM(A1) @ondine_mobile down" in out.read_text()
    call_command("export", "mentions", "--raw", "--out", str(out), stderr=io.StringIO())
    texts = [r["text"] for r in csv.DictReader(io.StringIO(out.read_text()))]
    assert "=SUM(A1) @ondine_mobile down" in texts
    assert AuditEntry.objects.filter(action="export", details__raw=True).count() == 1
    carla = get_user_model().objects.get(username="carla")
    carla.is_staff = True
    carla.save()
    with pytest.raises(CommandError, match="'carla' is not a user who may export"):
        call_command("export", "posts", "--user", "carla", "--out", str(out))


@pytest.mark.parametrize("args, message", [
    (("--brand", "nope"), "There is no brand 'nope' among your brands."),
    (("--platform", "myspace"), "platform 'myspace' is not one Hotline reads"),
    (("--from", "2026-11-09", "--to", "2026-11-02"), "from '2026-11-09' must come before to '2026-11-02'."),
    (("--to", "9999-12-31"), "to '9999-12-31' is outside the dates Hotline supports (from 2000-01-01 to 2099-12-31)."),
])
def test_it_refuses_bad_options_with_the_reason(tmp_path, two_brands, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("export", "mentions", *args, "--out", str(tmp_path / "x.csv"))
