"""train_tone rebuilds the committed model byte for byte; the default analyser beats VADER widely."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from socialfeed.tone.analysers import MODEL_PATH, load_model, vader_analyser
from socialfeed.tone.encoder import available
from socialfeed.tone.evaluation import category_table, official_posts, score_analyser
from socialfeed.tone.training import airline_tweets, umsab_tweets


@pytest.mark.skipif(not available(), reason="train_tone embeds the word table's words with the accurate tier's "
                    "optional extra: pip install -r requirements-accurate.txt (CI installs it)")
def test_it_rebuilds_the_committed_model_byte_identical(shared_data: Path, tmp_path: Path):
    out = tmp_path / "model.json"
    call_command("train_tone", data=shared_data, out=out)
    assert out.read_bytes() == MODEL_PATH.read_bytes()
    assert MODEL_PATH.stat().st_size < 2_000_000


def test_it_beats_vader_on_held_out_airline_tweets(shared_data: Path):
    held_out = list(airline_tweets(shared_data, validation=True))
    mine = score_analyser(load_model(), held_out)
    theirs = score_analyser(vader_analyser(), held_out)
    assert mine.macro_f1 > theirs.macro_f1 + 0.15


def test_it_beats_vader_widely_on_french_tweets_and_keeps_up_in_english(shared_data: Path):
    french = list(umsab_tweets(shared_data, lang="fr", split="val"))
    assert score_analyser(load_model(), french).macro_f1 > score_analyser(vader_analyser(), french).macro_f1 + 0.3
    # General-domain English (SemEval) is VADER's home ground: the second stage, which reads VADER's own scores,
    # brings the model level with it (0.618 vs 0.608), not clearly above; this guards against falling behind.
    english = list(umsab_tweets(shared_data, lang="en", split="val"))
    assert score_analyser(load_model(), english).macro_f1 > score_analyser(vader_analyser(), english).macro_f1 - 0.02


def test_it_has_at_least_300_hand_labelled_official_posts_and_precise_promotional_flags():
    posts = official_posts()
    assert len(posts) >= 300
    rows, _ = category_table(posts)
    promotional = next(r for r in rows if r.category == "promotional")
    assert promotional.precision is not None and promotional.precision >= 0.8


def test_it_reads_french_promotions_without_flagging_apologies_on_the_french_set():
    # A wrongly flagged apology is worse than a missed promotion: precision first (METRICS.md §5 off-message).
    from socialfeed.tone.evaluation import OFFICIAL_POSTS_FRENCH, promotional_figures

    posts = official_posts(OFFICIAL_POSTS_FRENCH)
    assert len(posts) >= 150 and all(p["lang"] == "fr" for p in posts)
    figures = promotional_figures(posts)
    assert figures.promotional_n >= 25
    assert figures.promotional_precision >= 0.9
    assert figures.promotional_recall >= 0.7  # the frozen rules found 5 of 27
    assert figures.outage_related_recall >= 0.95


def test_train_tone_names_the_extra_it_needs(shared_data: Path, tmp_path: Path, monkeypatch):
    from django.core.management.base import CommandError

    from socialfeed.tone import encoder

    monkeypatch.setattr(encoder, "available", lambda: False)
    with pytest.raises(CommandError, match="requirements-accurate.txt"):
        call_command("train_tone", data=shared_data, out=tmp_path / "model.json")
    assert not (tmp_path / "model.json").exists()


def test_it_prints_default_and_vader_side_by_side(shared_data: Path, capsys):
    call_command("evaluate_tone", data=shared_data)
    out = capsys.readouterr().out
    assert "UMSAB French val" in out and "vader/" in out and "hotline-linear/" in out
    assert "promotional" in out and "test set, labelled blind by a second labeller, scored once" in out
    assert "French set, labelled blind" in out and "promotional precision 0.952 (20/21)" in out


def test_the_later_official_post_sets_are_the_ones_their_labelling_scripts_pick(shared_data: Path):
    # An independent category score is only independent if each file is exactly the posts the selection rule
    # picks, each with the hand label its script records, and no post is in two sets.
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
    import label_blind_posts
    import label_french_posts
    import label_heldout_posts

    from socialfeed.tone.evaluation import (
        CATEGORIES,
        OFFICIAL_POSTS_FRENCH,
        OFFICIAL_POSTS_HELDOUT,
        OFFICIAL_POSTS_TEST,
    )

    sets = [(label_heldout_posts.candidates(shared_data), label_heldout_posts.HAND_LABELS, OFFICIAL_POSTS_HELDOUT)]
    for start, count, labels, path in label_blind_posts.SETS.values():
        sets.append((label_blind_posts.candidates(shared_data, start, count), labels, path))
    assert sets[-1][2] == OFFICIAL_POSTS_TEST
    sets.append((label_french_posts.candidates(shared_data), label_french_posts.FRENCH_LABELS, OFFICIAL_POSTS_FRENCH))
    seen = {p["id"] for p in official_posts()}
    for picked, labels, path in sets:
        posts = official_posts(path)
        assert [p["id"] for p in posts] == [c["id"] for c in picked]
        assert all(p["category"] == labels[p["id"]] and p["category"] in CATEGORIES for p in posts)
        assert seen.isdisjoint(p["id"] for p in posts)
        seen |= {p["id"] for p in posts}
