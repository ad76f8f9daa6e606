"""manage.py tone_label adds tone columns to any CSV."""
from __future__ import annotations

import csv

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_it_adds_tone_columns_to_a_csv(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,message\n1,ça ne marche pas depuis ce matin\n2,Thanks so much for the quick help!\n3,\n",
                      encoding="utf-8")
    out = tmp_path / "out.csv"
    call_command("tone_label", in_path=str(source), text_column="message", out_path=str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["sentiment_label"] == "negative" and rows[0]["complaint"] == "true" and rows[0]["lang"] == "fr"
    assert rows[1]["sentiment_label"] == "positive" and rows[1]["complaint"] == "false" and rows[1]["lang"] == "en"
    assert rows[2]["sentiment_label"] == "neutral" and float(rows[2]["sentiment_score"]) == 0.0


def test_it_names_the_missing_column(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(CommandError, match="'text'.*id, body"):
        call_command("tone_label", in_path=str(source), text_column="text", out_path=str(tmp_path / "o.csv"))
