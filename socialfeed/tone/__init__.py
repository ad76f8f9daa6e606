"""Tone of posts in English and French (METRICS.md §6): sentiment, language, complaints, official categories.

The ingestion pipeline scores every post it stores (:func:`analyse_many` per batch, :func:`analyse` for one),
so this module loads nothing heavy at import time: the model file is read once, lazily, on first use and
cached for the life of the process.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from socialfeed.tone.categories import categorise
from socialfeed.tone.complaints import reports_failure

__all__ = ["ANALYSER_ID", "ToneResult", "analyse", "analyse_many", "categorise", "is_complaint", "label_for_score"]

# METRICS.md §6: negative below -0.05, positive above 0.05, otherwise neutral.
NEUTRAL_BAND = 0.05


@dataclass(frozen=True, slots=True)
class ToneResult:
    """One post's tone (METRICS.md §6 sentiment score). ``analyser`` is "name/version", as stored on Post."""

    score: float
    label: str
    lang: str
    analyser: str
    version: str


def label_for_score(score: float) -> str:
    """METRICS.md §6 sentiment label: negative below -0.05, positive above 0.05, otherwise neutral."""
    if score < -NEUTRAL_BAND:
        return "negative"
    if score > NEUTRAL_BAND:
        return "positive"
    return "neutral"


def _default():
    from socialfeed.tone.analysers import default_analyser

    return default_analyser()


def analyse(text: str, lang_hint: str = "") -> ToneResult:
    """Score one post's sentiment with the default analyser (METRICS.md §6 sentiment score and label).

    ``lang_hint`` is the platform's own language tag when it gives one ("en", "fr-FR", "und"...).
    """
    return _default().analyse(text or "", lang_hint=lang_hint or "")


def analyse_many(texts: Sequence[str], lang_hints: Sequence[str] | None = None) -> list[ToneResult]:
    """Score a batch of posts with the default analyser: exactly what :func:`analyse` gives post by post, in the
    same order (the fast tier: about 5,000 posts/s on one core for batches of a few thousand, bench/tone.py). ``lang_hints`` pairs with ``texts`` ("" where the platform gives none); None means no hints.
    """
    return _default().analyse_many(texts, lang_hints)


def is_complaint(text: str, *, label: str, lang: str = "") -> bool:
    """METRICS.md §6 complaint: negative sentiment, or a failure report in any supported language."""
    return label == "negative" or reports_failure(text or "")


def __getattr__(name: str):
    # ANALYSER_ID names the model file's version, so it is read lazily with the model itself.
    if name == "ANALYSER_ID":
        return _default().analyser_id
    raise AttributeError(name)
