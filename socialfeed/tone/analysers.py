"""The tone analysers: the default bilingual linear model, and VADER as the named fallback.

Both answer the same question (METRICS.md §6 sentiment score in [-1, 1] and its label) so that
``rescore_tone`` and ``evaluate_tone`` can swap them, and both say who they are ("name/version"), which is
stored with every score so that old and new scores are never mixed up silently.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path

from socialfeed.tone.features import post_features
from socialfeed.tone.lang import SUPPORTED, detect_language, normalise_hint

MODEL_PATH = Path(__file__).resolve().parent / "model.json"
LABELS = ("negative", "neutral", "positive")
NEUTRAL_BAND = 0.05


def _result(score: float, lang: str, name: str, version: str):
    from socialfeed.tone import ToneResult, label_for_score

    score = max(-1.0, min(1.0, score))
    return ToneResult(score=score, label=label_for_score(score), lang=lang, analyser=f"{name}/{version}",
                      version=version)


def _language(text: str, lang_hint: str) -> str:
    return normalise_hint(lang_hint) or detect_language(text)


# Emoji are rare in the labelled tweets (2015-era), so the model barely learnt them; these carry a clear
# polarity in customer posts and are added as a fixed nudge to the model's scores (one emoji = one logit).
_EMOJI_POLARITY = {
    **dict.fromkeys("😡🤬😠😤😞😟😢😭😩😫🙄👎💩😒😔😣😖🤦😑😐🤮🤢💔", -1.0),
    **dict.fromkeys("😀😃😄😁😊🙂😍🥰😘👍👏🙏🎉❤💙💚💛💜🧡🤩😎✅🥳💯", 1.0),
}
# Sarcasm markers that invert an otherwise "positive" thank-you.
_SARCASM_PHRASES = ("thanks for nothing", "thanks a lot for nothing", "merci pour rien", "merci pour tout... pas",
                    "great job again", "well done again", "bravo encore", "yeah right")


def _lexicon_nudge(text: str) -> tuple[float, float]:
    """(negative, positive) logit nudges from emoji and sarcasm markers."""
    neg = pos = 0.0
    for char in text:
        polarity = _EMOJI_POLARITY.get(char)
        if polarity is not None:
            if polarity < 0:
                neg -= polarity
            else:
                pos += polarity
    lowered = text.lower()
    if any(phrase in lowered for phrase in _SARCASM_PHRASES):
        return 8.0, 0.0
    return min(neg, 3.0), min(pos, 3.0)


class LinearToneAnalyser:
    """Multinomial logistic regression over words, negation-marked words, word pairs and character n-grams,
    trained by ``manage.py train_tone`` on English and French labelled tweets (see socialfeed/tone/training.py).
    """

    name = "hotline-linear"

    def __init__(self, model: dict) -> None:
        self.version: str = model["version"]
        self.analyser_id = f"{self.name}/{self.version}"
        scale = float(model["scale"])
        self._bias = [b / scale for b in model["bias"]]
        self._weights: dict[str, tuple[float, float, float]] = {
            feature: (w[0] / scale, w[1] / scale, w[2] / scale) for feature, w in model["weights"].items()
        }

    def probabilities(self, text: str, lang: str = "") -> tuple[float, float, float] | None:
        """Class probabilities (negative, neutral, positive), or None when the model knows no feature of it."""
        counts = Counter(post_features(text, lang))
        weights = self._weights
        shared = counts.keys() & weights.keys()
        neg = neu = pos = 0.0
        for feature in shared:
            count = counts[feature]
            w = weights[feature]
            neg += w[0] * count
            neu += w[1] * count
            pos += w[2] * count
        # Features are L2-normalised counts, as in training (socialfeed/tone/training.py).
        norm = math.sqrt(sum(c * c for c in counts.values())) or 1.0
        b_neg, b_neu, b_pos = self._bias
        neg, neu, pos = b_neg + neg / norm, b_neu + neu / norm, b_pos + pos / norm
        known = len(shared) - (("l:" + lang) in shared)
        nudge_neg, nudge_pos = _lexicon_nudge(text)
        if not known and not (nudge_neg or nudge_pos):
            return None
        neg += nudge_neg
        pos += nudge_pos
        top = max(neg, neu, pos)
        e_neg, e_neu, e_pos = math.exp(neg - top), math.exp(neu - top), math.exp(pos - top)
        total = e_neg + e_neu + e_pos
        return e_neg / total, e_neu / total, e_pos / total

    def analyse(self, text: str, lang_hint: str = ""):
        lang = _language(text, lang_hint)
        if lang and lang not in SUPPORTED:
            # A language the model never read: neutral says "we don't know", a guess would be wrong half the time.
            return _result(0.0, lang, self.name, self.version)
        probs = self.probabilities(text, lang)
        if probs is None:
            return _result(0.0, lang, self.name, self.version)
        return _result(score_from_probabilities(probs), lang, self.name, self.version)


def score_from_probabilities(probs: tuple[float, float, float]) -> float:
    """METRICS.md §6 score in [-1, 1] from class probabilities, such that the §6 label of the score is the
    most probable class: p(positive) - p(negative), pushed out of (or into) the ±0.05 neutral band.
    """
    p_neg, p_neu, p_pos = probs
    raw = p_pos - p_neg
    if p_neu >= p_neg and p_neu >= p_pos:
        return raw * NEUTRAL_BAND * 0.98
    return math.copysign(NEUTRAL_BAND + 0.01 + (1 - NEUTRAL_BAND - 0.01) * abs(raw), raw)


class VaderToneAnalyser:
    """VADER (vaderSentiment), the obvious off-the-shelf choice, kept as a named fallback and as the baseline
    that ``evaluate_tone`` and bench/tone.py measure the default against. English only."""

    name = "vader"

    def __init__(self) -> None:
        from importlib.metadata import version

        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.version = version("vaderSentiment")
        self.analyser_id = f"{self.name}/{self.version}"
        self._vader = SentimentIntensityAnalyzer()

    def analyse(self, text: str, lang_hint: str = ""):
        lang = _language(text, lang_hint)
        return _result(self._vader.polarity_scores(text)["compound"], lang, self.name, self.version)


@lru_cache(maxsize=1)
def load_model(path: str = str(MODEL_PATH)) -> LinearToneAnalyser:
    with open(path, encoding="utf-8") as handle:
        return LinearToneAnalyser(json.load(handle))


@lru_cache(maxsize=1)
def vader_analyser() -> VaderToneAnalyser:
    return VaderToneAnalyser()


def default_analyser():
    """The linear model when its file is present (it is committed), otherwise VADER, so ingestion never stops."""
    if MODEL_PATH.exists():
        return load_model()
    return vader_analyser()


def analyser_named(name: str):
    """``default``, ``hotline-linear`` or ``vader`` — as the management commands accept them."""
    if name in ("default", ""):
        return default_analyser()
    if name == LinearToneAnalyser.name:
        return load_model()
    if name == VaderToneAnalyser.name:
        return vader_analyser()
    raise ValueError(f"unknown tone analyser {name!r}: use default, {LinearToneAnalyser.name} or vader")
