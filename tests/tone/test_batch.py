"""analyse_many: the batch API ingestion uses gives exactly what analyse gives post by post."""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from socialfeed.tone import analyse, analyse_many
from socialfeed.tone.analysers import MODEL_PATH, load_model
from socialfeed.tone.features import DENSE_FEATURES, post_features
from socialfeed.tone.training import airline_tweets, free_tweets, post_words, word_table_logits


def _real_posts(data: Path) -> list[tuple[str, str]]:
    """Some 400 real posts in English and French (the committed slices: validation tweets of the airline and Free
    sets, IBM customer-care turns), with the hints platforms give: none, right, or foreign."""
    import json

    dialogs = json.loads((data / "ibm_twitter_customer_care_cdp" / "dev.json").read_text(encoding="utf-8"))
    texts = [
        *(e.text for e in airline_tweets(data, validation=True)),
        *(e.text for e in free_tweets(data, validation=True)),
        *[turn["message"] for d in dialogs for turn in d["dialogContent"]][:100],
        "", "😡😡😡", "ça ne marche pas", "el servicio no funciona",
    ]
    hints = ["", "en", "fr", "und", "fr-FR", "es"]
    return [(text, hints[i % len(hints)]) for i, text in enumerate(texts)]


def test_it_scores_a_batch_exactly_as_post_by_post(data_slices: Path):
    posts = _real_posts(data_slices)
    assert len(posts) > 400
    one_by_one = [analyse(text, lang_hint=hint) for text, hint in posts]
    batch = analyse_many([t for t, _ in posts], [h for _, h in posts])
    assert batch == one_by_one
    # A batch's results do not depend on what else is in it.
    assert analyse_many([t for t, _ in posts[::-1]], [h for _, h in posts[::-1]]) == one_by_one[::-1]
    assert {r.label for r in batch} == {"negative", "neutral", "positive"}


def test_it_scores_with_the_features_training_saw(data_slices: Path):
    # The analyser reads words through a per-word cache of model columns; training reads feature strings.
    # Recomputing the first stage's logits from the strings must give the same numbers.
    model = load_model()
    model_file = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    with_table = 0
    posts = _real_posts(data_slices)[:200]
    texts, langs = [t for t, _ in posts], ["en" if i % 2 else "fr" for i in range(len(posts))]
    for text, lang in zip(texts, langs, strict=True):
        logits, table, _, _ = model._first_stage(text, lang)
        features, dense = post_features(text, lang)
        expected = list(model._bias)
        scale = 1.0 / math.sqrt(len(features)) if features else 1.0
        for feature, count in Counter(features).items():
            i = model._index.get(feature)
            if i is not None:
                expected = [e + count * scale * w for e, w in zip(expected, model._weights[i], strict=True)]
        for k in range(len(DENSE_FEATURES)):
            expected = [e + dense[k] * w for e, w in zip(expected, model._dense[k], strict=True)]
        assert list(logits) == pytest.approx(expected, abs=1e-9)
        # The word table's logits: what training fitted the second stage on (training.word_table_logits).
        words = model_file["words"]
        trained = word_table_logits([post_words(text, lang)], words, model_file["words_bias"])[0]
        assert list(table) == pytest.approx(list(trained), abs=1e-9)
        with_table += any(w in words for w in post_words(text, lang))
    assert with_table > 150  # most posts have words the table scores


def test_it_refuses_a_batch_whose_hints_do_not_pair_with_its_texts():
    with pytest.raises(ValueError, match="2 texts but 1 language hints"):
        analyse_many(["a", "b"], ["en"])
    assert analyse_many([], []) == []
    assert analyse_many(["ça ne marche pas"]) == [analyse("ça ne marche pas")]
