"""The uncertainty evaluate_tone prints beside each lead over VADER."""
from __future__ import annotations

import random

from socialfeed.tone.evaluation import macro_f1_difference_interval, scores


def test_same_predictions_give_no_lead_at_all():
    truth = ["negative", "neutral", "positive"] * 50
    guesses = ["negative", "positive", "positive"] * 50
    assert macro_f1_difference_interval(truth, guesses, guesses) == (0.0, 0.0)


def test_a_clear_lead_on_many_posts_sits_above_zero_and_brackets_the_observed_lead():
    rng = random.Random(7)
    truth = [rng.choice(["negative", "neutral", "positive"]) for _ in range(600)]
    good = [t if rng.random() < 0.8 else "neutral" for t in truth]
    poor = [t if rng.random() < 0.5 else rng.choice(["negative", "positive"]) for t in truth]
    low, high = macro_f1_difference_interval(truth, good, poor)
    observed = scores(truth, good).macro_f1 - scores(truth, poor).macro_f1
    assert 0 < low < observed < high


def test_a_small_lead_on_few_posts_is_reported_as_uncertain():
    rng = random.Random(11)
    truth = [rng.choice(["negative", "neutral", "positive"]) for _ in range(300)]
    first = [t if rng.random() < 0.62 else rng.choice(["negative", "neutral", "positive"]) for t in truth]
    second = [t if rng.random() < 0.60 else rng.choice(["negative", "neutral", "positive"]) for t in truth]
    low, high = macro_f1_difference_interval(truth, first, second)
    assert low < 0 < high


def test_outage_related_counts_any_acknowledging_category_as_one_class():
    from socialfeed.tone.evaluation import outage_related_row

    posts = [
        # An apology the rules call a status update still acknowledges the outage: correct as outage-related.
        {"category": "apology", "text": "Sorry! We're experiencing some issues with our website", "lang": "en"},
        {"category": "status_update", "text": "Hi, which store was it?", "lang": "en"},
        {"category": "other", "text": "Try restarting your router", "lang": "en"},
        {"category": "other", "text": "Thanks, have a nice day", "lang": "en"},
    ]
    row = outage_related_row(posts)
    assert (row.n, row.correct, row.predicted) == (2, 1, 2)
    assert row.recall == 0.5 and row.precision == 0.5
