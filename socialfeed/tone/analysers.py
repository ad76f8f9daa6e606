"""The tone analysers: the fast tier (the default bilingual linear model), and VADER as the named fallback; the
accurate tier (socialfeed/tone/accurate.py) answers through the same interface.

Both answer the same question (METRICS.md §6 sentiment score in [-1, 1] and its label) so that
``rescore_tone`` and ``evaluate_tone`` can swap them, and both say who they are ("name/version"), which is
stored with every score so that old and new scores are never mixed up silently.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
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
_EMOJI_CHARS = frozenset(_EMOJI_POLARITY)
# Sarcasm markers that invert an otherwise "positive" thank-you.
_SARCASM_PHRASES = ("thanks for nothing", "thanks a lot for nothing", "merci pour rien", "merci pour tout... pas",
                    "great job again", "well done again", "bravo encore", "yeah right")


def _lexicon_nudge(text: str) -> tuple[float, float]:
    """(negative, positive) logit nudges from emoji and sarcasm markers."""
    neg = pos = 0.0
    # Most posts have no emoji at all: one set intersection (in C) instead of a dictionary look-up per character.
    for char in _EMOJI_CHARS.intersection(text):
        if _EMOJI_POLARITY[char] < 0:
            neg += text.count(char)
        else:
            pos += text.count(char)
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

    Scoring is one plain-Python pass per post, the same for :meth:`analyse` and :meth:`analyse_many`, so both
    give the same result to the last bit and no post's score depends on the rest of its batch: with a few dozen
    known features per post, arithmetic on Python floats costs less than building numpy arrays for them.
    Beside the n-gram model, the first stage has a word table distilled from the multilingual encoder at
    training time (training.fit_word_table): one (negative, positive) score per word, averaged over a post's
    words; the second stage weighs it. Measured (evaluate_tone, macro-F1, this model vs VADER): airline
    held-out 0.756 vs 0.408, UMSAB English val 0.642 vs 0.608, UMSAB French val 0.674 vs 0.275, Free weak
    held-out 0.547 vs 0.211.
    bench/tone.py gives the posts/s (VADER's own pass over each English post is part of the figure).
    """

    name = "hotline-linear"

    def __init__(self, model: dict) -> None:
        self.version: str = model["version"]
        self.analyser_id = f"{self.name}/{self.version}"
        scale = float(model["scale"])
        features = sorted(model["weights"])
        self._index: dict[str, int] = {feature: i for i, feature in enumerate(features)}

        def row(values) -> tuple[float, float, float]:
            a, b, c = values
            return a / scale, b / scale, c / scale

        self._weights: list[tuple[float, float, float]] = [row(model["weights"][f]) for f in features]
        self._dense = [row(model["dense"][name]) for name in DENSE_FEATURES]
        self._bias = row(model["bias"])
        self._lang_columns = {f[2:]: i for f, i in self._index.items() if f.startswith("l:")}
        stack = model["stack"]
        self._stack_logits = [row(stack["weights"][f"logit:{label}"]) for label in LABELS]
        self._stack_features = [row(stack["weights"][name]) for name in STACK_FEATURES]
        self._stack_bias = row(stack["bias"])
        # The word table distilled from the encoder (training.fit_word_table): a word's (negative, positive)
        # scores against neutral; a post's table logits are the mean over its known words plus the bias.
        words_scale = float(model.get("words_scale", 1))
        self._table: dict[str, tuple[float, float]] = {
            word: (a / words_scale, c / words_scale) for word, (a, c) in model.get("words", {}).items()
        }
        self._table_bias = tuple(v / words_scale for v in model.get("words_bias", (0, 0)))
        self._stack_table = ([row(stack["weights"][f"table:{label}"]) for label in LABELS]
                             if "table:negative" in stack["weights"] else None)
        self._word_cache: dict[str, tuple[float, float, float, int, int, tuple[float, float] | None]] = {}

    def _word_sums(self, token: str) -> tuple[float, float, float, int, int, tuple[float, float] | None]:
        """A token's character n-grams, summed: their three weights, how many the model knows, how many it has;
        and its word-table scores (None when the table does not have it)."""
        cached = self._word_cache.get(token)
        if cached is None:
            grams = word_shape(token)[0]
            s0 = s1 = s2 = 0.0
            known = 0
            weights = self._weights
            for i in map(self._index.get, grams):
                if i is not None:
                    w0, w1, w2 = weights[i]
                    s0 += w0
                    s1 += w1
                    s2 += w2
                    known += 1
            cached = (s0, s1, s2, known, len(grams), self._table.get(token) if grams else None)
            if len(self._word_cache) < _WORD_CACHE_SIZE:  # bounded: a worker runs for weeks
                self._word_cache[token] = cached
        return cached

    def _first_stage(self, text: str, lang: str):
        """(first-stage logits, stack inputs, known features) of one post. ``known`` leaves out the language
        feature: a post of which the model knows nothing else is not evidence of anything."""
        tokens, contextual, extra, lexicon = post_parts(text, lang)
        get, weights = self._index.get, self._weights
        s0 = s1 = s2 = 0.0
        known = 0
        lang_column = self._lang_columns.get(lang)
        for feature in chain(contextual, extra):
            i = get(feature)
            if i is not None:
                w0, w1, w2 = weights[i]
                s0 += w0
                s1 += w1
                s2 += w2
                known += i != lang_column
        size = len(contextual) + len(extra)
        word_sums = self._word_sums
        w0 = w2 = 0.0
        in_table = 0
        for token in tokens:
            t0, t1, t2, token_known, count, scores = word_sums(token)
            s0 += t0
            s1 += t1
            s2 += t2
            known += token_known
            size += count
            if scores is not None:
                w0 += scores[0]
                w2 += scores[1]
                in_table += 1
        # Each occurrence of a feature weighs 1/sqrt(number of features of the post, known or not), as in training.
        scale = 1.0 / math.sqrt(size) if size else 1.0
        b0, b1, b2 = self._bias
        l0, l1, l2 = s0 * scale + b0, s1 * scale + b1, s2 * scale + b2
        for value, (d0, d1, d2) in zip(lexicon, self._dense, strict=True):
            if value:
                l0 += value * d0
                l1 += value * d1
                l2 += value * d2
        if in_table:
            w0, w2 = w0 / in_table, w2 / in_table
        table = (w0 + self._table_bias[0], 0.0, w2 + self._table_bias[1])
        return (l0, l1, l2), table, stack_features(text, lang, lexicon), known + in_table

    def _probabilities(self, text: str, lang: str) -> tuple[tuple[float, float, float], bool]:
        """Class probabilities (negative, neutral, positive) of one post: the second stage applied to the first
        stage's logits and the stack inputs (VADER's scores, the lexicon sums, the language), then the emoji
        and sarcasm nudges; and whether anything in the post was known to the model."""
        first, table, inputs, known = self._first_stage(text, lang)
        o0, o1, o2 = self._stack_bias
        for value, (w0, w1, w2) in zip(first, self._stack_logits, strict=True):
            o0 += value * w0
            o1 += value * w1
            o2 += value * w2
        if self._stack_table is not None:
            for value, (w0, w1, w2) in zip(table, self._stack_table, strict=True):
                o0 += value * w0
                o1 += value * w1
                o2 += value * w2
        for value, (w0, w1, w2) in zip(inputs, self._stack_features, strict=True):
            if value:
                o0 += value * w0
                o1 += value * w1
                o2 += value * w2
        nudge_neg, nudge_pos = _lexicon_nudge(text)
        o0 += nudge_neg
        o2 += nudge_pos
        top = max(o0, o1, o2)
        e0, e1, e2 = math.exp(o0 - top), math.exp(o1 - top), math.exp(o2 - top)
        total = e0 + e1 + e2
        return (e0 / total, e1 / total, e2 / total), bool(known or nudge_neg or nudge_pos)

    def probabilities(self, text: str, lang: str = "") -> tuple[float, float, float] | None:
        """Class probabilities (negative, neutral, positive), or None when the model knows no feature of it."""
        probs, known = self._probabilities(text, lang)
        return probs if known else None

    def analyse_many(self, texts: Sequence[str], lang_hints: Sequence[str] | None = None) -> list:
        """Score a batch of posts (METRICS.md §6 sentiment score and label): the same results as :meth:`analyse`
        post by post, in the order given."""
        from socialfeed.tone import ToneResult, label_for_score

        texts = [t or "" for t in texts]
        hints = [""] * len(texts) if lang_hints is None else [h or "" for h in lang_hints]
        if len(hints) != len(texts):
            raise ValueError(f"analyse_many: {len(texts)} texts but {len(hints)} language hints")
        langs = [_language(text, hint) for text, hint in zip(texts, hints, strict=True)]
        # A language the model never read is scored neutral: "we don't know", a guess would be wrong half the time.
        scores = []
        for text, lang in zip(texts, langs, strict=True):
            score = 0.0
            if not lang or lang in SUPPORTED:
                probs, known = self._probabilities(text, lang)
                if known:
                    score = max(-1.0, min(1.0, score_from_probabilities(probs)))
            scores.append(score)
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
    """``default`` or ``fast`` (the fast tier, ``hotline-linear``), ``accurate`` (the accurate tier,
    ``hotline-e5``, when its optional extra is installed) or ``vader`` — as the management commands accept them."""
    if name in ("default", ""):
        return default_analyser()
    if name in ("fast", LinearToneAnalyser.name):
        return load_model()
    if name in ("accurate", "hotline-e5"):
        from socialfeed.tone.accurate import accurate_analyser

        return accurate_analyser()
    if name == VaderToneAnalyser.name:
        return vader_analyser()
    raise ValueError(f"unknown tone analyser {name!r}: use fast, accurate, default or vader")
