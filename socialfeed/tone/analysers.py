"""The tone analysers: the default bilingual linear model, and VADER as the named fallback.

Both answer the same question (METRICS.md §6 sentiment score in [-1, 1] and its label) so that
``rescore_tone`` and ``evaluate_tone`` can swap them, and both say who they are ("name/version"), which is
stored with every score so that old and new scores are never mixed up silently.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from socialfeed.tone.features import DENSE_FEATURES, STACK_FEATURES, post_parts, stack_features, word_shape
from socialfeed.tone.lang import SUPPORTED, detect_language, normalise_hint

MODEL_PATH = Path(__file__).resolve().parent / "model.json"
LABELS = ("negative", "neutral", "positive")
_WORD_CACHE_SIZE = 200_000
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
    """Two stages, trained by ``manage.py train_tone`` on English and French labelled tweets (see
    socialfeed/tone/training.py). First, a multinomial logistic regression over words, negation-marked words,
    word pairs, character n-grams and two lexicon sums; second, a small logistic regression from the first
    stage's three logits, VADER's scores of an English post, the lexicon sums and the language to the final
    logits, fitted on out-of-fold first-stage logits so that it learns how far to trust each.

    Scoring is one pass per batch (:meth:`analyse_many`); :meth:`analyse` is a batch of one, so both give the
    same result to the last bit. Measured (evaluate_tone, macro-F1, this model vs VADER): airline held-out
    0.747 vs 0.408, UMSAB English val 0.618 vs 0.608 (a lead within noise), UMSAB French val 0.654 vs 0.275,
    Free weak held-out 0.498 vs 0.211. bench/tone.py on a 2-core box: 2,000-2,200 posts/s one by one and
    3,800-4,300 in batches of 2,000 (VADER about 8,500; VADER's own pass over each English post is part of
    both figures).
    """

    name = "hotline-linear"

    def __init__(self, model: dict) -> None:
        import numpy as np

        self.version: str = model["version"]
        self.analyser_id = f"{self.name}/{self.version}"
        scale = float(model["scale"])
        features = sorted(model["weights"])
        self._index: dict[str, int] = {feature: i for i, feature in enumerate(features)}
        self._weights = np.array([model["weights"][f] for f in features], dtype=np.float64).reshape(-1, 3) / scale
        self._dense = np.array([model["dense"][name] for name in DENSE_FEATURES], dtype=np.float64) / scale
        self._bias = np.array(model["bias"], dtype=np.float64) / scale
        self._lang_columns = {f[2:]: i for f, i in self._index.items() if f.startswith("l:")}
        stack = model["stack"]
        self._stack_logits = np.array([stack["weights"][f"logit:{label}"] for label in LABELS], dtype=np.float64) / scale
        self._stack_features = np.array([stack["weights"][name] for name in STACK_FEATURES], dtype=np.float64) / scale
        self._stack_bias = np.array(stack["bias"], dtype=np.float64) / scale
        self._word_cache: dict[str, tuple[tuple[int, ...], int]] = {}

    def _word_columns(self, token: str) -> tuple[tuple[int, ...], int]:
        """The model's columns of a token's character n-grams, and how many n-grams it has (known or not)."""
        cached = self._word_cache.get(token)
        if cached is None:
            grams = word_shape(token)[0]
            cached = (tuple(i for i in map(self._index.get, grams) if i is not None), len(grams))
            if len(self._word_cache) < _WORD_CACHE_SIZE:  # bounded: a worker runs for weeks
                self._word_cache[token] = cached
        return cached

    def _first_stage(self, texts: Sequence[str], langs: Sequence[str]):
        """(first-stage logits, stack inputs, nudges, known) for the posts: known is False where the model knows
        no feature of a post and no emoji or sarcasm marker nudges it. Everything per row is computed element by
        element, so a post's logits do not depend on the other posts of its batch."""
        import numpy as np

        index_get = self._index.get
        word_columns = self._word_columns
        lang_columns = self._lang_columns
        lengths: list[int] = []
        indices: list[int] = []
        scales: list[float] = []
        dense: list[tuple[float, ...]] = []
        stacked: list[tuple[float, ...]] = []
        nudges: list[float] = []
        known: list[bool] = []
        for text, lang in zip(texts, langs, strict=True):
            tokens, contextual, extra, lexicon = post_parts(text, lang)
            columns = [i for i in map(index_get, contextual + extra) if i is not None]
            size = len(contextual) + len(extra)
            for token in tokens:
                grams, count = word_columns(token)
                columns += grams
                size += count
            indices += columns
            lengths.append(len(columns))
            # Each occurrence of a feature weighs 1/sqrt(number of features of the post), as in training.
            scales.append(1.0 / math.sqrt(size) if size else 1.0)
            dense.append(lexicon)
            stacked.append(stack_features(text, lang, lexicon))
            nudge_neg, nudge_pos = _lexicon_nudge(text)
            nudges += (nudge_neg, 0.0, nudge_pos)
            known.append(bool(len(columns) - (lang_columns.get(lang, -1) in columns) or nudge_neg or nudge_pos))
        rows = len(lengths)
        # Each row's sum of its features' weight rows, in the order of its features, by one reduceat over the
        # whole batch (a sparse matrix costs more to build than to multiply for the one post of analyse). A row
        # with no known feature is left at zero: reduceat would copy its neighbour's first weight row.
        logits = np.zeros((rows, len(LABELS)), dtype=np.float64)
        if indices:
            counts = np.array(lengths, dtype=np.int64)
            contributions = self._weights[np.array(indices, dtype=np.intp)]
            contributions *= np.repeat(np.array(scales, dtype=np.float64), counts)[:, None]
            filled = counts > 0
            starts = (np.cumsum(counts) - counts)[filled]
            logits[filled] = np.add.reduceat(contributions, starts, axis=0)
        lexicon_scores = np.array(dense, dtype=np.float64).reshape(rows, len(DENSE_FEATURES))
        for k in range(len(DENSE_FEATURES)):
            logits += lexicon_scores[:, k : k + 1] * self._dense[k]
        logits += self._bias
        stack_inputs = np.array(stacked, dtype=np.float64).reshape(rows, len(STACK_FEATURES))
        return logits, stack_inputs, np.array(nudges, dtype=np.float64).reshape(rows, 3), known

    def _logits(self, texts: Sequence[str], langs: Sequence[str]):
        """(logits, known) for the posts: the second stage applied to the first stage's logits and the stack
        inputs (VADER's scores, the lexicon sums, the language), then the emoji and sarcasm nudges. Column by
        column, element by element: no result depends on the rest of the batch."""
        first, stack_inputs, nudges, known = self._first_stage(texts, langs)
        logits = first[:, 0:1] * self._stack_logits[0]
        for k in range(1, len(LABELS)):
            logits += first[:, k : k + 1] * self._stack_logits[k]
        for k in range(len(STACK_FEATURES)):
            logits += stack_inputs[:, k : k + 1] * self._stack_features[k]
        logits += self._stack_bias
        logits += nudges
        return logits, known

    def probabilities_many(self, texts: Sequence[str], langs: Sequence[str]):
        """Class probabilities (negative, neutral, positive) per post, a (n, 3) array, and the known mask."""
        import numpy as np

        logits, known = self._logits(texts, langs)
        # Column by column rather than reductions over an axis, so that no batch-size-dependent summation order
        # can change the last bit of a post's score.
        top = np.maximum(np.maximum(logits[:, 0], logits[:, 1]), logits[:, 2])
        exp = np.exp(logits - top[:, None])
        total = exp[:, 0] + exp[:, 1] + exp[:, 2]
        return exp / total[:, None], known

    def probabilities(self, text: str, lang: str = "") -> tuple[float, float, float] | None:
        """Class probabilities (negative, neutral, positive), or None when the model knows no feature of it."""
        probs, known = self.probabilities_many([text], [lang])
        return tuple(float(p) for p in probs[0]) if known[0] else None

    def analyse_many(self, texts: Sequence[str], lang_hints: Sequence[str] | None = None) -> list:
        """Score a batch of posts (METRICS.md §6 sentiment score and label): the same results as :meth:`analyse`
        post by post, about twice as fast, because the model's arithmetic is done once for the whole batch."""
        from socialfeed.tone import ToneResult, label_for_score

        texts = [t or "" for t in texts]
        hints = [""] * len(texts) if lang_hints is None else [h or "" for h in lang_hints]
        if len(hints) != len(texts):
            raise ValueError(f"analyse_many: {len(texts)} texts but {len(hints)} language hints")
        langs = [_language(text, hint) for text, hint in zip(texts, hints, strict=True)]
        # A language the model never read is scored neutral: "we don't know", a guess would be wrong half the time.
        readable = [i for i, lang in enumerate(langs) if not lang or lang in SUPPORTED]
        scores = [0.0] * len(texts)
        if readable:
            probs, known = self.probabilities_many([texts[i] for i in readable], [langs[i] for i in readable])
            for row, (i, p) in enumerate(zip(readable, probs.tolist(), strict=True)):
                if known[row]:
                    scores[i] = max(-1.0, min(1.0, score_from_probabilities(p)))
        version, analyser = self.version, self.analyser_id
        return [
            ToneResult(score=score, label=label_for_score(score), lang=lang, analyser=analyser, version=version)
            for score, lang in zip(scores, langs, strict=True)
        ]

    def analyse(self, text: str, lang_hint: str = ""):
        return self.analyse_many([text], [lang_hint])[0]


def score_from_probabilities(probs: Sequence[float]) -> float:
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

    def analyse_many(self, texts: Sequence[str], lang_hints: Sequence[str] | None = None) -> list:
        # VADER has no batch mode: one post at a time, so that bench/tone.py compares like with like.
        hints = [""] * len(texts) if lang_hints is None else lang_hints
        return [self.analyse(text or "", hint or "") for text, hint in zip(texts, hints, strict=True)]


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
