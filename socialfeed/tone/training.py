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
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from socialfeed.tone.features import DENSE_FEATURES, STACK_FEATURES, post_features, post_parts, stack_features
from socialfeed.tone.lang import detect_language

LABELS = ("negative", "neutral", "positive")
MODEL_FORMAT = 3
WEIGHT_SCALE = 1000
MIN_DOCUMENT_FREQUENCY = 2
MIN_ABS_WEIGHT = 0.03
REGULARISATION_ALPHA = 1e-5
EPOCHS = 30
SEED = 20240917
MAX_MODEL_BYTES = 1_900_000
# Second stage (see :func:`train`): folds of the out-of-fold first-stage logits it learns from, and its inverse
# L2 strength, chosen by nested 5-fold cross-validation on the train splits only.
STACK_FOLDS = 5
STACK_C = 1.0
# The word table (see :func:`fit_word_table`): inverse L2 strength of the logistic regression on pooled word
# vectors, and the scale its per-word scores are rounded at in the model file. Chosen by bench/tone_cv.py.
WORD_TABLE_C = 0.1
WORD_TABLE_SCALE = 100
# Whether the second stage reads the word table's logits (False: the model of format 2, without the encoder).
WORD_TABLE = True


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    lang: str
    weight: float = 1.0
    source: str = ""


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


_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")


def umsab_tweets(data: Path, *, lang: str, split: str) -> Iterator[Example]:
    """UMSAB (SemEval-2017 English / DEFT-2017 French) tweets; split is "train" or "val".

    One English tweet in eight reaches the files with its apostrophes and commas as literal ``\\u2019`` and
    ``\\u002c`` escapes; they are decoded here, for every analyser alike, so that "don\\u2019t" reads as the
    negation a customer typed."""
    folder = data / "french_tweet_sentiment_umsab" / {"en": "english", "fr": "french"}[lang]
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").splitlines()
    for text, label in zip(texts, labels, strict=True):
        yield Example(_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text), LABELS[int(label)], lang)


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


# How much each training source counts in total, relative to its size, chosen by 5-fold cross-validation on the
# TRAIN splits only (mean macro-F1 over the airline, UMSAB English and UMSAB French folds): the airline tweets
# outnumber UMSAB English six to one and would otherwise teach an airline-shaped model; Free's labels are
# automatic and noisy.
SOURCE_WEIGHTS = {"airline": 0.6, "umsab-en": 1.0, "umsab-fr": 2.0, "free": 0.3}
# How far each source's classes are evened out: 1 = the three classes weigh the same, 0 = as they come. Chosen by
# bench/tone_cv.py (training splits only): evening out the airline tweets fully (two-thirds of them negative, as
# customer posts during an outage are) taught the model to hesitate on complaints. Halfway on the airline and
# Free tweets gave, in macro-F1, airline 0.743 instead of 0.716, UMSAB English 0.634 instead of 0.630, UMSAB
# French 0.618 instead of 0.613 and Free 0.509 instead of 0.495; no evening out at all gave airline 0.739.
CLASS_BALANCE = {"airline": 0.5, "umsab-en": 1.0, "umsab-fr": 1.0, "free": 0.5}


def training_examples(data: Path) -> list[Example]:
    def tagged(examples: Iterator[Example], source: str) -> list[Example]:
        return [Example(e.text, e.label, e.lang, SOURCE_WEIGHTS[source], source) for e in examples]

    return [
        *tagged(airline_tweets(data, validation=False), "airline"),
        *tagged(umsab_tweets(data, lang="en", split="train"), "umsab-en"),
        *tagged(umsab_tweets(data, lang="fr", split="train"), "umsab-fr"),
        *tagged(free_tweets(data, validation=False), "free"),
    ]


def class_balanced_weights(examples: list[Example], target):
    """Sample weights under which, within each source, the classes are evened out as far as CLASS_BALANCE says
    (we are judged on macro-F1, and the airline tweets are two-thirds negative while UMSAB is balanced), and
    each source weighs its SOURCE_WEIGHTS share of its size."""
    import numpy as np

    weights = np.array([e.weight for e in examples], dtype=np.float64)
    sources = np.array([e.source for e in examples])
    for source in sorted(set(sources.tolist())):
        in_source = sources == source
        for k in range(len(LABELS)):
            mask = in_source & (target == k)
            if mask.any():
                weights[mask] *= (in_source.sum() / (len(LABELS) * mask.sum())) ** CLASS_BALANCE[source]
    return weights


def featurise(examples: list[Example], langs: list[str]) -> tuple[list[dict[str, int]], list[tuple[float, ...]]]:
    """Feature counts and dense lexicon scores of each example. ``langs`` are the DETECTED languages: training
    sees them as scoring will, so the language features mean the same."""
    rows = []
    dense_rows = []
    for example, lang in zip(examples, langs, strict=True):
        counts: dict[str, int] = {}
        features, dense = post_features(example.text, lang)
        for feature in features:
            counts[feature] = counts.get(feature, 0) + 1
        rows.append(counts)
        dense_rows.append(dense)
    return rows, dense_rows


def vocabulary_of(rows: list[dict[str, int]]) -> list[str]:
    document_frequency: dict[str, int] = {}
    for counts in rows:
        for feature in counts:
            document_frequency[feature] = document_frequency.get(feature, 0) + 1
    return sorted(f for f, n in document_frequency.items() if n >= MIN_DOCUMENT_FREQUENCY)


def design_matrix(rows: list[dict[str, int]], dense_rows: list, vocabulary: list[str]):
    """The matrix the model is fitted on: sparse features, then the dense lexicon columns."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    index = {f: i for i, f in enumerate(vocabulary)}
    indptr, indices, values = [0], [], []
    for counts in rows:
        # Each occurrence weighs 1/sqrt(number of features of the post, known or not), exactly as the analyser
        # computes it: unlike an L2 norm of the counts, that needs no counting at scoring time.
        norm = sum(counts.values()) ** 0.5 or 1.0
        for feature, count in sorted(counts.items()):
            i = index.get(feature)
            if i is not None:
                indices.append(i)
                values.append(count / norm)
        indptr.append(len(indices))
    sparse = csr_matrix((np.array(values), np.array(indices, dtype=np.int64), np.array(indptr)),
                        shape=(len(rows), len(vocabulary)))
    # The lexicon scores are appended as the last columns, unnormalised: their size is the evidence.
    return hstack([sparse, csr_matrix(np.array(dense_rows, dtype=np.float64).reshape(len(rows), -1))], format="csr")


def fit(matrix, target, weights, *, alpha: float = REGULARISATION_ALPHA):
    """Logistic loss by SGD: same model as LogisticRegression, but seconds instead of minutes on ~300k
    features, and bit-for-bit repeatable with a fixed seed on a fixed example order. Averaged SGD (the mean
    of the iterates) generalised best in cross-validation on the training splits."""
    from sklearn.linear_model import SGDClassifier

    classifier = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=EPOCHS, tol=None, random_state=SEED,
                               average=True)
    return classifier.fit(matrix, target, sample_weight=weights)


def stack_fold(index: int, example: Example) -> int:
    """The fold of a training example for the second stage's out-of-fold logits: a hash, not a random draw."""
    return int(hashlib.sha1(f"{index}:{example.text}".encode()).hexdigest()[:8], 16) % STACK_FOLDS


def fit_stack(first_stage_logits, features, target, weights):
    """The second stage: a small multinomial logistic regression from the first stage's three logits and the
    :data:`STACK_FEATURES` to the final logits. Trained on OUT-OF-FOLD first-stage logits, so it learns how far
    to trust the n-gram model on posts it has not memorised, and how much to lean on the lexicons instead —
    in one joint model the 300k sparse features fit the training posts so well that the lexicon columns get
    almost no weight, although they are what carries over to unseen general-domain posts."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    stack = LogisticRegression(C=STACK_C, max_iter=2000)
    return stack.fit(np.hstack([first_stage_logits, features]), target, sample_weight=weights)


@dataclass(slots=True)
class Prepared:
    """Everything training reads from the examples, computed once: cross-validation (bench/tone_cv.py) fits
    many models on subsets of the same examples."""

    examples: list[Example]
    langs: list[str]
    rows: list[dict[str, int]]
    dense_rows: list
    stack_rows: object  # numpy array, one row of STACK_FEATURES per example
    target: object  # numpy array of label indices
    words: list[list[str]]  # each example's words, as the word table reads them (:func:`post_words`)
    vocabulary: list[str] | None = None  # the word table's words (:func:`word_table_vocabulary`)
    word_vectors: object = None  # numpy array, the encoder's ``query: <word>`` vector of each vocabulary word


def post_words(text: str, lang: str) -> list[str]:
    """The words of a post the word table scores: its alphabetic tokens, repeats kept, as the analyser reads them."""
    return [token for token in post_parts(text, lang)[0] if token[0].isalpha()]


def word_table_vocabulary(data: Path, prepared: Prepared) -> list[str]:
    """The words the table scores: every word of the training posts, every single-word entry of the two
    lexicons (VADER's, MIT; the French one, PDDL) and every word of Free's unlabelled customer tweets (MIT), so
    that a word no labelled post has taught still gets the score its meaning suggests. No validation post is
    read. Sorted, so the same data gives the same table."""
    from socialfeed.tone.features import _TOKEN, _lexicons

    words: set[str] = set()
    for post in prepared.words:
        words.update(post)
    english, french = _lexicons()
    words.update(w for w in (*english, *french) if w[0].isalpha() and _TOKEN.fullmatch(w))
    with open(data / "free_mobile_fr_tweets" / "free_tweet_export.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            words.update(post_words(row["text"], "fr"))
    return sorted(words)


def attach_word_vectors(data: Path, prepared: Prepared, cache=None, progress=None) -> None:
    """Embed each vocabulary word once (``query: <word>``), from the embedding cache where it has them."""
    from socialfeed.tone.encoder import EmbeddingCache, default_cache_path

    prepared.vocabulary = word_table_vocabulary(data, prepared)
    cache = cache or EmbeddingCache(default_cache_path())
    prepared.word_vectors = cache.embed(prepared.vocabulary, progress=progress)


def prepare(examples: list[Example]) -> Prepared:
    import numpy as np

    langs = [detect_language(e.text) for e in examples]
    rows, dense_rows = featurise(examples, langs)
    target = np.array([LABELS.index(e.label) for e in examples])
    stack_rows = np.array([stack_features(e.text, lang, dense) for e, lang, dense in zip(examples, langs, dense_rows, strict=True)])
    words = [post_words(e.text, lang) for e, lang in zip(examples, langs, strict=True)]
    return Prepared(examples, langs, rows, dense_rows, stack_rows, target, words)


def train(data: Path, *, cache=None, progress=None) -> dict:
    """Fit the model on the training splits and return it as the JSON-ready dict the analyser loads."""
    prepared = prepare(training_examples(data))
    if WORD_TABLE:
        attach_word_vectors(data, prepared, cache=cache, progress=progress)
    return fit_model(prepared, list(range(len(prepared.examples))))


def pooled_word_vectors(prepared: Prepared, chosen) :
    """Mean encoder vector of each chosen example's words (zeros for a post without a known word)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    index = {w: i for i, w in enumerate(prepared.vocabulary)}
    indptr, indices, values = [0], [], []
    for i in chosen:
        known = [index[w] for w in prepared.words[i] if w in index]
        for j in known:
            indices.append(j)
            values.append(1.0 / len(known))
        indptr.append(len(indices))
    averaging = csr_matrix((np.array(values), np.array(indices, dtype=np.int64), np.array(indptr)),
                           shape=(len(indptr) - 1, len(prepared.vocabulary)))
    return averaging @ prepared.word_vectors.astype(np.float64)


def fit_word_table(prepared: Prepared, chosen, target, weights) -> tuple[list[list[int]], list[int]]:
    """The word table: a multinomial logistic regression on the chosen posts' pooled word vectors (same sample
    weights as the n-gram model), folded into one score per word and class. The regression is linear in the
    pooled vector, so the mean of the words' scores plus the bias IS its logit: scoring needs no encoder, only
    a dictionary. Returns the rounded scores (one row per vocabulary word, at WORD_TABLE_SCALE) and the bias."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    pooled = pooled_word_vectors(prepared, chosen)
    # Standardised columns (the encoder's vectors share a large common direction): the regression converges in
    # a few dozen steps, and standardising is linear too, so it folds into the word scores and the bias.
    mean, spread = pooled.mean(axis=0), pooled.std(axis=0) + 1e-6
    regression = LogisticRegression(C=WORD_TABLE_C, solver="newton-cholesky", max_iter=100)
    regression.fit((pooled - mean) / spread, target, sample_weight=weights)
    coefficients = regression.coef_ / spread
    scores = prepared.word_vectors.astype(np.float64) @ coefficients.T
    intercept = regression.intercept_ - coefficients @ mean
    table = np.round(scores * WORD_TABLE_SCALE).astype(int)
    bias = [int(v) for v in np.round(intercept * WORD_TABLE_SCALE)]
    return table.tolist(), bias


def word_table_logits(words_of_posts, table: dict[str, list[int]], bias: list[int]):
    """The word table's three logits for each post, exactly as the analyser computes them: the mean of its
    known words' rounded scores plus the bias (the bias alone when it has no known word). Rows are centred
    (:func:`word_table_entries`): negative and positive against neutral, neutral's logit is always 0."""
    import numpy as np

    out = np.zeros((len(words_of_posts), len(LABELS)))
    for n, words in enumerate(words_of_posts):
        s0 = s2 = 0.0
        known = 0
        for word in words:
            row = table.get(word)
            if row is not None:
                s0 += row[0]
                s2 += row[1]
                known += 1
        if known:
            s0, s2 = s0 / known, s2 / known
        out[n] = ((s0 + bias[0]) / WORD_TABLE_SCALE, 0.0, (s2 + bias[1]) / WORD_TABLE_SCALE)
    return out


def single_threaded_maths():
    """A context in which numpy's and scipy's BLAS and LAPACK use one thread. A multi-threaded BLAS sums in an
    order that depends on its thread count, which depends on the machine and even on what the process loaded
    before (the encoder's OpenMP runtime sets OMP_NUM_THREADS): the last bits of a fit then move, and a
    rounded weight can flip. One thread gives the same bytes everywhere."""
    import scipy.linalg  # noqa: F401  (loaded now, so that the limit reaches its own BLAS)
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def fit_model(prepared: Prepared, chosen: list[int]) -> dict:
    """Fit the model on the ``chosen`` examples (see :func:`fit_model_unlimited`), with one BLAS thread."""
    with single_threaded_maths():
        return fit_model_unlimited(prepared, chosen)


def fit_model_unlimited(prepared: Prepared, chosen: list[int]) -> dict:
    """Fit the model on the ``chosen`` examples of ``prepared`` (all of them for train_tone).

    Two stages. The first is the linear model over words, word pairs, character n-grams and lexicon sums, and
    beside it the word table distilled from the encoder (:func:`fit_word_table`). The second
    (:func:`fit_stack`) is fitted on both first-stage models' out-of-fold logits (STACK_FOLDS fits on the other
    folds) with VADER's scores and the lexicon sums beside them: it is what weighs the word table against the
    n-gram model, learnt on posts neither had seen.
    """
    import numpy as np

    examples = [prepared.examples[i] for i in chosen]
    rows = [prepared.rows[i] for i in chosen]
    dense_rows = [prepared.dense_rows[i] for i in chosen]
    stack_rows = prepared.stack_rows[chosen]
    target = prepared.target[chosen]
    weights = class_balanced_weights(examples, target)
    with_table = WORD_TABLE and prepared.word_vectors is not None
    chosen_array = np.array(chosen)

    folds = np.array([stack_fold(i, e) for i, e in enumerate(examples)])
    out_of_fold = np.zeros((len(examples), len(LABELS) * (2 if with_table else 1)))
    for k in range(STACK_FOLDS):
        inside, outside = np.where(folds != k)[0], np.where(folds == k)[0]
        fold_rows = [rows[i] for i in inside]
        fold_vocabulary = vocabulary_of(fold_rows)
        fold_classifier = fit(design_matrix(fold_rows, [dense_rows[i] for i in inside], fold_vocabulary),
                              target[inside], weights[inside])
        held = design_matrix([rows[i] for i in outside], [dense_rows[i] for i in outside], fold_vocabulary)
        out_of_fold[outside, : len(LABELS)] = fold_classifier.decision_function(held)
        if with_table:
            fold_table, fold_bias = fit_word_table(prepared, chosen_array[inside], target[inside], weights[inside])
            out_of_fold[outside, len(LABELS) :] = word_table_logits(
                [prepared.words[i] for i in chosen_array[outside]],
                word_table_entries(prepared.vocabulary, fold_table), centred(fold_bias))
    stack = fit_stack(out_of_fold, stack_rows, target, weights)

    vocabulary = vocabulary_of(rows)
    matrix = design_matrix(rows, dense_rows, vocabulary)
    classifier = fit(matrix, target, weights)
    coefficients = np.round(classifier.coef_ * WEIGHT_SCALE).astype(int)
    dense_weights = {name: [int(v) for v in coefficients[:, len(vocabulary) + k]] for k, name in enumerate(DENSE_FEATURES)}
    coefficients = coefficients[:, : len(vocabulary)]
    # Keep the strongest features until the file fits the size budget: most of the 300k n-grams carry
    # almost nothing, and a small file loads in a blink at the first post ingested.
    strength = np.abs(coefficients).max(axis=0)
    order = sorted(range(len(vocabulary)), key=lambda i: (-int(strength[i]), vocabulary[i]))
    kept: dict[str, list[int]] = {}
    size = 0
    budget = MAX_MODEL_BYTES - (WORD_TABLE_BYTES if with_table else 0)
    for i in order:
        if strength[i] < MIN_ABS_WEIGHT * WEIGHT_SCALE:
            break
        size += len(vocabulary[i].encode()) + 24
        if size > budget:
            break
        kept[vocabulary[i]] = [int(v) for v in coefficients[:, i]]
    bias = [int(v) for v in np.round(classifier.intercept_ * WEIGHT_SCALE)]
    # Second stage, as integers too: one row of three weights per input (the first stage's logits first).
    stack_coefficients = np.round(stack.coef_ * WEIGHT_SCALE).astype(int)
    inputs = [f"logit:{label}" for label in LABELS]
    if with_table:
        inputs += [f"table:{label}" for label in LABELS]
    inputs += list(STACK_FEATURES)
    second = {
        "bias": [int(v) for v in np.round(stack.intercept_ * WEIGHT_SCALE)],
        "weights": {name: [int(v) for v in stack_coefficients[:, k]] for k, name in enumerate(inputs)},
    }
    parts = {"bias": bias, "dense": dense_weights, "stack": second, "weights": kept}
    if with_table:
        table, table_bias = fit_word_table(prepared, chosen_array, target, weights)
        parts["words"] = word_table_entries(prepared.vocabulary, table)
        parts["words_bias"] = centred(table_bias)
        parts["words_scale"] = WORD_TABLE_SCALE
    body = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return {
        "format": MODEL_FORMAT,
        "version": f"{MODEL_FORMAT}.{hashlib.sha1(body.encode()).hexdigest()[:8]}",
        "labels": list(LABELS),
        "scale": WEIGHT_SCALE,
        "trained_on": len(examples),
        **parts,
    }


# What the word table may take of the model file's size budget; the n-gram weights get the rest.
WORD_TABLE_BYTES = 600_000


def centred(row) -> list[int]:
    """(negative, positive) scores against neutral's: only differences between a word's class scores matter
    to the softmax, so the neutral one is dropped; smaller numbers and a smaller file."""
    return [int(row[0] - row[1]), int(row[2] - row[1])]


def word_table_entries(vocabulary: list[str], table: list[list[int]]) -> dict[str, list[int]]:
    """The committed table: each word's centred scores (:func:`centred`), training and scoring alike."""
    return {word: centred(row) for word, row in zip(vocabulary, table, strict=True)}


def serialise(model: dict) -> bytes:
    """Deterministic bytes: sorted keys, no whitespace, UTF-8, one trailing newline."""
    return (json.dumps(model, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def default_data_dir() -> Path:
    """Where the shared labelled data sets live: $HOTLINE_SHARED_DATA, else ../shared/data next to the repo."""
    import os

    configured = os.environ.get("HOTLINE_SHARED_DATA")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared" / "data"
