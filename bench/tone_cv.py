"""Cross-validation of the tone model on its TRAINING splits only: how Hotline's tone model settings
(source weights, class balance, features) were chosen without ever looking at the validation sets that
``manage.py evaluate_tone`` reports.

Each training example falls in one of five folds by a hash of its text (not a random draw, and not the folds
the second stage uses inside training). For each fold the whole model is trained, both stages, on the other
four, exactly as ``train_tone`` does, then the analyser scores the held-out fold as it scores posts in
production. The macro-F1 is printed per training source, with VADER's on the same posts beside it.

With the encoder extra installed (requirements-accurate.txt) the fast tier's word table is part of the model,
and ``--accurate`` also fits the accurate tier's head on each fold's training part and prints the blend of head
and fast tier for each weight of ``--blends``, and each head strength of ``--head-c``: how
socialfeed/tone/accurate.py's BLEND and HEAD_C were chosen. Vectors come from the embedding cache
($HOTLINE_TONE_EMBEDDING_CACHE): embed once, cross-validate many times.

Run: .venv/bin/python bench/tone_cv.py [--folds 5] [--set NAME=VALUE ...] [--accurate]
``--set`` overrides a constant of socialfeed/tone/training.py for this run, e.g.
``--set AIRLINE_BALANCE=0.5`` or ``--set 'SOURCE_WEIGHTS={"airline": 1.0, ...}'`` (a Python literal).
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def outer_fold(example, folds: int) -> int:
    return int(hashlib.sha1(("cv:" + example.text).encode()).hexdigest()[:8], 16) % folds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", type=int, default=None, help="run one fold only (quick look)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--accurate", action="store_true", help="also cross-validate the accurate tier's head")
    parser.add_argument("--blends", default="0,0.25,0.5,0.75,1,1.5", help="fast-tier weights to try (--accurate)")
    parser.add_argument("--head-c", default="0.3,1,3,10", help="head strengths to try (--accurate)")
    args = parser.parse_args()

    import numpy as np

    from socialfeed.tone import analysers, training
    from socialfeed.tone.evaluation import scores

    for assignment in args.set:
        name, _, value = assignment.partition("=")
        if not hasattr(training, name):
            raise SystemExit(f"--set {assignment}: socialfeed/tone/training.py has no constant {name!r}")
        setattr(training, name, ast.literal_eval(value))
        print(f"set {name} = {getattr(training, name)!r}")

    data = args.data or training.default_data_dir()
    started = time.perf_counter()
    prepared = training.prepare(training.training_examples(data))
    from socialfeed.tone.encoder import available

    if training.WORD_TABLE and available():
        training.attach_word_vectors(data, prepared)
        print(f"word table: {len(prepared.vocabulary):,} words")
    else:
        training.WORD_TABLE = False
        print("word table: off (encoder extra not installed, or --set WORD_TABLE=False)")
    post_vectors = None
    if args.accurate:
        from socialfeed.tone.accurate import post_vectors as embed_posts

        post_vectors = embed_posts(prepared.examples)
    blends = [float(v) for v in args.blends.split(",")]
    head_cs = [float(v) for v in args.head_c.split(",")]
    print(f"{len(prepared.examples):,} training examples prepared in {time.perf_counter() - started:.1f} s")
    folds = np.array([outer_fold(e, args.folds) for e in prepared.examples])
    vader = analysers.vader_analyser()

    truth: dict[str, list[str]] = {}
    mine: dict[str, list[str]] = {}
    theirs: dict[str, list[str]] = {}
    accurate: dict[tuple[float, float], dict[str, list[str]]] = {}
    for k in range(args.folds) if args.only is None else [args.only]:
        fold_started = time.perf_counter()
        inside = np.where(folds != k)[0].tolist()
        outside = np.where(folds == k)[0].tolist()
        model = training.fit_model(prepared, inside)
        analyser = analysers.LinearToneAnalyser(model)
        held = [prepared.examples[i] for i in outside]
        predicted = analyser.analyse_many([e.text for e in held])
        for example, result in zip(held, predicted, strict=True):
            truth.setdefault(example.source, []).append(example.label)
            mine.setdefault(example.source, []).append(result.label)
            theirs.setdefault(example.source, []).append(vader.analyse(example.text).label)
        if post_vectors is not None:
            from sklearn.linear_model import LogisticRegression

            from socialfeed.tone.analysers import score_from_probabilities
            from socialfeed.tone.lang import detect_language

            inside_examples = [prepared.examples[i] for i in inside]
            weights = training.class_balanced_weights(inside_examples, prepared.target[inside])
            fast = np.array([analyser._probabilities(e.text, detect_language(e.text))[0] for e in held])
            for c in head_cs:
                head = LogisticRegression(C=c, solver="newton-cholesky", max_iter=100).fit(post_vectors[inside], prepared.target[inside],
                                                                   sample_weight=weights)
                head_logits = head.decision_function(post_vectors[outside])
                for blend in blends:
                    logits = head_logits + blend * np.log(np.maximum(fast, 1e-12))
                    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
                    probs /= probs.sum(axis=1, keepdims=True)
                    labels = accurate.setdefault((c, blend), {})
                    for example, p in zip(held, probs, strict=True):
                        score = score_from_probabilities(p.tolist())
                        label = "negative" if score < -0.05 else "positive" if score > 0.05 else "neutral"
                        labels.setdefault(example.source, []).append(label)
        print(f"fold {k}: trained on {len(inside):,}, scored {len(outside):,} in {time.perf_counter() - fold_started:.1f} s")

    print(f"\n{'source':<10} {'posts':>6} {'hotline F1':>11} {'VADER F1':>9}")
    means = []
    for source in sorted(truth):
        m = scores(truth[source], mine[source]).macro_f1
        v = scores(truth[source], theirs[source]).macro_f1
        print(f"{source:<10} {len(truth[source]):>6} {m:>11.3f} {v:>9.3f}")
        if source != "free":
            means.append(m)
    print(f"mean of airline, umsab-en, umsab-fr: {sum(means) / len(means):.3f}  ({time.perf_counter() - started:.0f} s)")
    if accurate:
        sources = sorted(truth)
        print("\naccurate tier (head C, blend weight of the fast tier): macro-F1 per source")
        print(f"{'C':>6} {'blend':>6} " + " ".join(f"{s:>9}" for s in sources) + f" {'mean3':>7}")
        for (c, blend), labels in sorted(accurate.items()):
            f1 = {s: scores(truth[s], labels[s]).macro_f1 for s in sources}
            mean3 = sum(f1[s] for s in sources if s != "free") / (len(sources) - 1)
            print(f"{c:>6} {blend:>6} " + " ".join(f"{f1[s]:>9.3f}" for s in sources) + f" {mean3:>7.3f}")


if __name__ == "__main__":
    main()
