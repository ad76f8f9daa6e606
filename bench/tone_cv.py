"""Cross-validation of the tone model on its TRAINING splits only: how Hotline's tone model settings
(source weights, class balance, features) were chosen without ever looking at the validation sets that
``manage.py evaluate_tone`` reports.

Each training example falls in one of five folds by a hash of its text (not a random draw, and not the folds
the second stage uses inside training). For each fold the whole model is trained, both stages, on the other
four, exactly as ``train_tone`` does, then the analyser scores the held-out fold as it scores posts in
production. The macro-F1 is printed per training source, with VADER's on the same posts beside it.

Run: .venv/bin/python bench/tone_cv.py [--folds 5] [--set NAME=VALUE ...]
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
    print(f"{len(prepared.examples):,} training examples prepared in {time.perf_counter() - started:.1f} s")
    folds = np.array([outer_fold(e, args.folds) for e in prepared.examples])
    vader = analysers.vader_analyser()

    truth: dict[str, list[str]] = {}
    mine: dict[str, list[str]] = {}
    theirs: dict[str, list[str]] = {}
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


if __name__ == "__main__":
    main()
