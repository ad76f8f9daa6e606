"""Hotline reads in French: every string of the French catalogue is translated, the compiled catalogue matches it,
and a French browser gets French pages."""
from __future__ import annotations

import ast
import gettext
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.urls import reverse

from incidents.models import Incident, Team
from socialfeed.models import Source

LC_MESSAGES = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _catalogue_entries(path: Path) -> list[dict[str, str | list[str]]]:
    """The .po file's entries as {"msgid", "msgid_plural", "msgstr[n]"/"msgstr", "flags"}; enough of the format
    for makemessages' output (no msgctxt in Hotline), without adding polib to the project."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, str | list[str]] = {"flags": []}
        key = None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"] = [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if entry.get("msgid"):  # the header has an empty msgid
            entries.append(entry)
    return entries


def _translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_every_string_of_the_french_catalogue_is_translated():
    entries = _catalogue_entries(LC_MESSAGES / "django.po")
    assert len(entries) > 200  # the parser read the catalogue, not an empty shell
    untranslated = [e["msgid"] for e in entries if not all(_translations(e))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]  # gettext leaves fuzzy entries out of the .mo
    assert untranslated == [], f"French users would read these in English: {untranslated}"
    assert fuzzy == [], f"Review these translations and drop their fuzzy flag: {fuzzy}"


def test_the_compiled_catalogue_holds_what_the_po_file_says():
    # Django reads only the .mo: a .po edited but not compiled leaves French users with the old wording.
    with (LC_MESSAGES / "django.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    stale = []
    for entry in _catalogue_entries(LC_MESSAGES / "django.po"):
        if not all(_translations(entry)) or "fuzzy" in entry["flags"]:
            continue  # the test above reports those
        if "msgid_plural" in entry:
            got = [mo.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
            want = [entry["msgstr[0]"], entry["msgstr[1]"]]
        else:
            got, want = mo.gettext(entry["msgid"]), entry["msgstr"]
        if got != want:
            stale.append(entry["msgid"])
    assert stale == [], f"Run msgfmt (or manage.py compilemessages); the .mo is behind on: {stale}"


@pytest.fixture
def analyst(make_brand, make_user):
    team, _ = Team.objects.get_or_create(name="Ondine comms")
    brand = make_brand(name="Ondine Mobile", team=team)
    Incident.objects.create(brand=brand, title="Réseau 4G indisponible", started_at=T0,
                            status=Incident.Status.IDENTIFIED, severity=Incident.Severity.CRITICAL)
    Source.objects.create(name="Mentions X", platform="x", kind=Source.Kind.MENTIONS, brand=brand,
                          official_account=brand.official_accounts.first(), interval_seconds=60)
    return make_user(username="camille", role="analyst", teams=["Ondine comms"])


@pytest.mark.django_db
def test_the_incidents_list_shows_statuses_in_french(client, analyst):
    client.force_login(analyst)
    page = client.get(reverse("incidents:home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'class="badge status-identified">cause identifiée</span>' in page
    assert "(critique)" in page
    assert "en cours d’analyse" in page  # the status filter offers every status in French
    assert ">identified<" not in page and ">investigating<" not in page


@pytest.mark.django_db
def test_the_sources_page_reads_in_french(client, analyst):
    client.force_login(analyst)
    page = client.get(reverse("socialfeed:sources"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Messages enregistrés" in page and "Dernière collecte" in page
    assert "toutes les 60 s" in page and "jamais" in page
    assert "Posts stored" not in page and "never" not in page


@pytest.mark.django_db
def test_an_english_browser_still_gets_english(client, analyst):
    client.force_login(analyst)
    page = client.get(reverse("socialfeed:sources"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Posts stored" in page and "Messages enregistrés" not in page
