"""``manage.py record_communication``: an off-platform communication from a shell, with the same checks as the board;
anything wrong names the argument and stores nothing."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.figures import incident_figures
from incidents.models import AuditEntry, OffPlatformCommunication

from .conftest import START

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("record_communication", *args, stdout=out)
    return out.getvalue()


def test_it_records_a_video_read_in_the_brands_zone_with_the_rules_category(outage, comms):
    # 11:03 in Paris is 10:03 UTC, before any official post: the video acknowledges the outage.
    out = _run("--incident", str(outage.pk), "--channel", "video", "--at", "2025-03-04T11:03",
               "--text", "Our CEO apologises: we are truly sorry for the outage of this morning.",
               "--url", "https://video.ondine.example/sorry", "--user", "camille")
    communication = OffPlatformCommunication.objects.get()
    assert communication.sent_at == START + dt.timedelta(minutes=3)
    assert communication.category in ("apology", "status_update") and communication.recorded_by == comms
    assert "2025-03-04 11:03 (Europe/Paris)" in out and f"incident {outage.pk}" in out
    figures = incident_figures(incident=outage, now=START + dt.timedelta(days=1))
    assert figures["tta_s"] == 180 and figures["acknowledged_via"] == "video"


def test_it_takes_an_offset_and_an_explicit_category(outage):
    _run("--incident", str(outage.pk), "--channel", "sms", "--at", "2025-03-04T10:20:00+00:00",
         "--text", "5 Go offerts pour nous faire pardonner", "--category", "apology")
    communication = OffPlatformCommunication.objects.get()
    assert communication.sent_at == START + dt.timedelta(minutes=20) and communication.category == "apology"
    assert AuditEntry.objects.filter(action="incident.communication").count() == 1


@pytest.mark.parametrize("change, argument", [
    ({"--at": "2999-01-01T10:00"}, "--at"),
    ({"--at": "yesterday"}, "--at"),
    ({"--channel": "pigeon"}, "--channel"),
    ({"--incident": "987654"}, "--incident"),
    ({"--incident": "twelve"}, "--incident"),
    ({"--url": "ftp://files.ondine.example/sms.txt"}, "--url"),
    ({"--url": "javascript:alert(1)"}, "--url"),
    ({"--url": "not a link"}, "--url"),
    ({"--category": "gossip"}, "--category"),
    ({"--text": "   "}, "--text"),
    ({"--user": "nobody"}, "--user"),
])
def test_it_refuses_bad_arguments_naming_them_and_stores_nothing(outage, change, argument):
    args = {"--incident": str(outage.pk), "--channel": "sms", "--at": "2025-03-04T11:30",
            "--text": "Toutes nos excuses pour la panne", "--url": "", "--category": "", "--user": ""}
    args.update(change)
    with pytest.raises(CommandError) as error:
        _run(*[part for name, value in args.items() if value or name in change for part in (name, value)])
    assert str(error.value).startswith(f"{argument}:"), str(error.value)
    assert not OffPlatformCommunication.objects.exists()
    assert not AuditEntry.objects.filter(action="incident.communication").exists()
