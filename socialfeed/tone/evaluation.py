"""Measuring the tone analysers against human labels, for ``manage.py evaluate_tone`` and the tests."""
from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from socialfeed.tone.categories import OUTAGE_RELATED, categorise

LABELS = ("negative", "neutral", "positive")
CATEGORIES = ("apology", "status_update", "workaround", "resolution", "promotional", "other")
OFFICIAL_POSTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "official_posts_labelled.csv"
OFFICIAL_POSTS_HELDOUT = OFFICIAL_POSTS.with_name("official_posts_heldout.csv")
OFFICIAL_POSTS_BLIND1 = OFFICIAL_POSTS.with_name("official_posts_blind1.csv")
OFFICIAL_POSTS_TEST = OFFICIAL_POSTS.with_name("official_posts_blind2.csv")
OFFICIAL_POSTS_FRENCH = OFFICIAL_POSTS.with_name("official_posts_french.csv")
# The hand-labelled official posts evaluate_tone scores the category rules on, by name (tests/data/README.md):
# three sets the rules were refined on (optimistic scores), and the test set, labelled by a second labeller who
# never saw the rules, and scored only once they were frozen.
OFFICIAL_POST_SETS = {
    "development set, rules refined on it": OFFICIAL_POSTS,
    "second development set, first held out, then rules refined on it": OFFICIAL_POSTS_HELDOUT,
    "third development set, labelled blind, then rules refined on it": OFFICIAL_POSTS_BLIND1,
    "test set, labelled blind by a second labeller, scored once with the rules frozen": OFFICIAL_POSTS_TEST,
    "French set, labelled blind before the rules learnt French promotions, then rules refined on it":
        OFFICIAL_POSTS_FRENCH,
}


@dataclass(frozen=True, slots=True)
class Scores:
    accuracy: float
    macro_f1: float
    confusion: list[list[int]]  # rows: truth, columns: prediction, in LABELS order
    n: int


def scores(truth: list[str], predicted: list[str], labels: tuple[str, ...] = LABELS) -> Scores:
    """Accuracy, macro-F1 (mean of per-class F1, a class with no support and no prediction counting 0)."""
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        confusion[index[t]][index[p]] += 1
    correct = sum(confusion[i][i] for i in range(len(labels)))
    f1s = []
    for i in range(len(labels)):
        tp = confusion[i][i]
        predicted_i = sum(row[i] for row in confusion)
        actual_i = sum(confusion[i])
        precision = tp / predicted_i if predicted_i else 0.0
        recall = tp / actual_i if actual_i else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    n = len(truth)
    return Scores(accuracy=correct / n if n else 0.0, macro_f1=sum(f1s) / len(f1s), confusion=confusion, n=n)


def predictions(analyser, examples: Iterable) -> list[str]:
    # In one batch: the same labels as post by post, and the accurate tier embeds the posts in one call.
    return [result.label for result in analyser.analyse_many([e.text for e in examples])]


def score_analyser(analyser, examples: Iterable) -> Scores:
    examples = list(examples)
    return scores([e.label for e in examples], predictions(analyser, examples))


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20241123


def macro_f1_difference_interval(truth: list[str], mine: list[str], theirs: list[str],
                                 labels: tuple[str, ...] = LABELS) -> tuple[float, float]:
    """95% paired bootstrap interval of macro-F1(mine) - macro-F1(theirs) on the same posts: the posts are drawn
    again with replacement BOOTSTRAP_RESAMPLES times (fixed seed, so the same run prints the same interval) and
    both analysers are scored on each draw. An interval above zero says the lead is not luck of the sample; on a
    few hundred posts, a lead of 0.01 is well inside the noise."""
    import numpy as np

    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    t = np.array([index[x] for x in truth])
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.integers(0, len(t), size=(BOOTSTRAP_RESAMPLES, len(t)))

    def macro_f1s(predicted: list[str]):
        p = np.array([index[x] for x in predicted])
        # One confusion matrix per draw: cell (truth, prediction) counted by bincount over a combined code.
        codes = (t[draws] * k + p[draws]) + (np.arange(BOOTSTRAP_RESAMPLES)[:, None] * k * k)
        confusion = np.bincount(codes.ravel(), minlength=BOOTSTRAP_RESAMPLES * k * k).reshape(-1, k, k)
        tp = confusion[:, np.arange(k), np.arange(k)]
        predicted_n = confusion.sum(axis=1)
        actual_n = confusion.sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.where(predicted_n + actual_n > 0, 2 * tp / (predicted_n + actual_n), 0.0)
        return f1.mean(axis=1)

    difference = macro_f1s(mine) - macro_f1s(theirs)
    low, high = np.percentile(difference, [2.5, 97.5])
    return float(low), float(high)


@dataclass(frozen=True, slots=True)
class CategoryRow:
    category: str
    n: int
    correct: int
    predicted: int  # posts the rules put in this category
    precision: float | None
    recall: float | None


def official_posts(path: Path = OFFICIAL_POSTS) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def outage_related_row(posts: list[dict[str, str]]) -> CategoryRow:
    """Recall and precision of METRICS.md §6 "outage-related" (any of OUTAGE_RELATED) as one class: what the
    time to acknowledge of METRICS.md §5 rests on, whatever the exact category."""
    truth = [p["category"] in OUTAGE_RELATED for p in posts]
    predicted = [categorise(p["text"], p.get("lang", "")) in OUTAGE_RELATED for p in posts]
    n, flagged = sum(truth), sum(predicted)
    correct = sum(1 for t, q in zip(truth, predicted, strict=True) if t and q)
    return CategoryRow("outage-related", n, correct, flagged, correct / flagged if flagged else None,
                       correct / n if n else None)


@dataclass(frozen=True, slots=True)
class PromotionalFigures:
    """What the off-message alert (METRICS.md §5) and the time to acknowledge rest on: how precise and complete
    the "promotional" flag is, and how many outage-related posts are read as outage-related."""

    promotional_precision: float | None
    promotional_recall: float | None
    promotional_flagged: int
    promotional_correct: int
    promotional_n: int
    outage_related_recall: float | None
    outage_related_correct: int
    outage_related_n: int


def promotional_figures(posts: list[dict[str, str]]) -> PromotionalFigures:
    rows, _overall = category_table(posts)
    promotional = next(r for r in rows if r.category == "promotional")
    outage = outage_related_row(posts)
    return PromotionalFigures(promotional.precision, promotional.recall, promotional.predicted,
                              promotional.correct, promotional.n, outage.recall, outage.correct, outage.n)


def category_table(posts: list[dict[str, str]]) -> tuple[list[CategoryRow], float]:
    """Per-category recall ("accuracy") and precision of :func:`categorise` against the hand labels."""
    predicted = [categorise(p["text"], p.get("lang", "")) for p in posts]
    truth = [p["category"] for p in posts]
    rows = []
    for category in CATEGORIES:
        n = sum(1 for t in truth if t == category)
        flagged = sum(1 for p in predicted if p == category)
        correct = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p == category)
        rows.append(CategoryRow(category, n, correct, flagged, correct / flagged if flagged else None,
                                correct / n if n else None))
    overall = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p) / len(truth) if truth else 0.0
    return rows, overall
