"""Measuring the tone analysers against human labels, for ``manage.py evaluate_tone`` and the tests."""
from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from socialfeed.tone.categories import categorise

LABELS = ("negative", "neutral", "positive")
CATEGORIES = ("apology", "status_update", "workaround", "resolution", "promotional", "other")
OFFICIAL_POSTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "official_posts_labelled.csv"


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


def score_analyser(analyser, examples: Iterable) -> Scores:
    examples = list(examples)
    predicted = [analyser.analyse(e.text).label for e in examples]
    return scores([e.label for e in examples], predicted)


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
