"""Training and validation data for the tone model, and the training itself (``manage.py train_tone``).

Reproducible by construction: the data sets are read in file order, splits are decided by a hash of each
item's id (not by a random draw), the solver is deterministic, weights are rounded to integers and written
as JSON with sorted keys — so the same data always gives the same bytes, and a test checks it.

Validation data is never trained on: the airline tweets whose id hashes into the held-out fifth, the UMSAB
``val`` files, and the held-out fifth of Free's weakly labelled tweets.
"""
from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from socialfeed.tone.features import post_features
from socialfeed.tone.lang import detect_language

LABELS = ("negative", "neutral", "positive")
MODEL_FORMAT = 1
WEIGHT_SCALE = 1000
MIN_DOCUMENT_FREQUENCY = 2
MIN_ABS_WEIGHT = 0.03
REGULARISATION_ALPHA = 2e-5
EPOCHS = 30
SEED = 20240917
MAX_MODEL_BYTES = 1_900_000


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    lang: str
    weight: float = 1.0


def held_out(item_id: str, *, folds: int = 5) -> bool:
    """True for the fixed fifth of items kept for validation, decided by the id's hash, not by a random draw."""
    return int(hashlib.sha1(item_id.encode()).hexdigest()[:8], 16) % folds == 0


def airline_tweets(data: Path, *, validation: bool) -> Iterator[Example]:
    """Twitter US Airline Sentiment, deduplicated on tweet_id (the Kaggle file repeats 155 rows)."""
    seen: set[str] = set()
    with open(data / "twitter_us_airline_sentiment" / "Tweets.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            tweet_id = row["tweet_id"].strip()
            if tweet_id in seen:
                continue
            seen.add(tweet_id)
            if held_out(tweet_id) == validation:
                yield Example(row["text"], row["airline_sentiment"], "en")


def umsab_tweets(data: Path, *, lang: str, split: str) -> Iterator[Example]:
    """UMSAB (SemEval-2017 English / DEFT-2017 French) tweets; split is "train" or "val"."""
    folder = data / "french_tweet_sentiment_umsab" / {"en": "english", "fr": "french"}[lang]
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").splitlines()
    for text, label in zip(texts, labels, strict=True):
        yield Example(text, LABELS[int(label)], lang)


_FREE_LABELS = {"negatif": "negative", "neutre": "neutral", "positif": "positive"}


def free_tweets(data: Path, *, validation: bool, weight: float = 1.0) -> Iterator[Example]:
    """Free (French ISP) customer tweets with AUTOMATIC labels: useful domain vocabulary, noisy labels."""
    path = data / "free_mobile_fr_tweets" / "weaklabeled_train_dataset.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["author"] in ("Freebox", "free", "Free_1337", "GroupeIliad"):
                continue  # the brand's own posts are what we categorise, not customer tone
            label = _FREE_LABELS.get(row["sentiment"])
            if label and held_out(row["tweet_id"]) == validation:
                yield Example(row["text"], label, "fr", weight)


def validation_sets(data: Path) -> dict[str, list[Example]]:
    """Every labelled validation set evaluate_tone reports, by name."""
    return {
        "airline tweets (held-out fifth, EN)": list(airline_tweets(data, validation=True)),
        "UMSAB English val": list(umsab_tweets(data, lang="en", split="val")),
        "UMSAB French val": list(umsab_tweets(data, lang="fr", split="val")),
        "Free weak labels (held-out fifth, FR)": list(free_tweets(data, validation=True)),
    }


def training_examples(data: Path) -> list[Example]:
    return [
        *airline_tweets(data, validation=False),
        *umsab_tweets(data, lang="en", split="train"),
        # French has far fewer human labels than English; counting them twice keeps the model bilingual.
        *(Example(e.text, e.label, e.lang, 2.0) for e in umsab_tweets(data, lang="fr", split="train")),
        *free_tweets(data, validation=False, weight=0.5),
    ]


def train(data: Path) -> dict:
    """Fit the model on the training splits and return it as the JSON-ready dict the analyser loads."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import SGDClassifier

    examples = training_examples(data)
    rows = []
    document_frequency: dict[str, int] = {}
    for example in examples:
        counts: dict[str, int] = {}
        # Training sees the detected language, as scoring will, so the language features mean the same.
        for feature in post_features(example.text, detect_language(example.text)):
            counts[feature] = counts.get(feature, 0) + 1
        rows.append(counts)
        for feature in counts:
            document_frequency[feature] = document_frequency.get(feature, 0) + 1
    vocabulary = sorted(f for f, n in document_frequency.items() if n >= MIN_DOCUMENT_FREQUENCY)
    index = {f: i for i, f in enumerate(vocabulary)}
    indptr, indices, values = [0], [], []
    for counts in rows:
        norm = sum(c * c for c in counts.values()) ** 0.5 or 1.0
        for feature, count in sorted(counts.items()):
            i = index.get(feature)
            if i is not None:
                indices.append(i)
                values.append(count / norm)
        indptr.append(len(indices))
    matrix = csr_matrix((np.array(values), np.array(indices), np.array(indptr)), shape=(len(rows), len(vocabulary)))
    target = np.array([LABELS.index(e.label) for e in examples])
    weights = np.array([e.weight for e in examples])
    # Balanced classes: the airline tweets are two-thirds negative, and we are judged on macro-F1.
    for k in range(len(LABELS)):
        mask = target == k
        weights[mask] *= len(target) / (len(LABELS) * weights[mask].sum() / weights.mean())
    # Logistic loss by SGD: same model as LogisticRegression, but seconds instead of minutes on ~300k
    # features, and bit-for-bit repeatable with a fixed seed on a fixed example order.
    classifier = SGDClassifier(loss="log_loss", alpha=REGULARISATION_ALPHA, max_iter=EPOCHS, tol=None, random_state=SEED)
    classifier.fit(matrix, target, sample_weight=weights)
    coefficients = np.round(classifier.coef_ * WEIGHT_SCALE).astype(int)
    # Keep the strongest features until the file fits the size budget: most of the 300k n-grams carry
    # almost nothing, and a small file loads in a blink at the first post ingested.
    strength = np.abs(coefficients).max(axis=0)
    order = sorted(range(len(vocabulary)), key=lambda i: (-int(strength[i]), vocabulary[i]))
    kept: dict[str, list[int]] = {}
    size = 0
    for i in order:
        if strength[i] < MIN_ABS_WEIGHT * WEIGHT_SCALE:
            break
        size += len(vocabulary[i].encode()) + 24
        if size > MAX_MODEL_BYTES:
            break
        kept[vocabulary[i]] = [int(v) for v in coefficients[:, i]]
    bias = [int(v) for v in np.round(classifier.intercept_ * WEIGHT_SCALE)]
    body = json.dumps({"bias": bias, "weights": kept}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return {
        "format": MODEL_FORMAT,
        "version": f"{MODEL_FORMAT}.{hashlib.sha1(body.encode()).hexdigest()[:8]}",
        "labels": list(LABELS),
        "scale": WEIGHT_SCALE,
        "trained_on": len(examples),
        "bias": bias,
        "weights": kept,
    }


def serialise(model: dict) -> bytes:
    """Deterministic bytes: sorted keys, no whitespace, UTF-8, one trailing newline."""
    return (json.dumps(model, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def default_data_dir() -> Path:
    """Where the shared labelled data sets live: $HOTLINE_SHARED_DATA, else ../shared/data next to the repo."""
    import os

    configured = os.environ.get("HOTLINE_SHARED_DATA")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared" / "data"
