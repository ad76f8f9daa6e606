"""Posts per second of the default tone analyser and of VADER on the same 10,000 real posts, in one run:
one post at a time (``analyse``) and in batches of 2,000 (``analyse_many``, as ingestion scores a batch).

Run: .venv/bin/python bench/tone.py [shared data folder]
The posts are customer tweets in English (airline, TWCS) and French (Free), as ingestion would see them.
"""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

POSTS = 10_000
BATCH = 2_000


def sample_posts(data: Path) -> list[str]:
    texts: list[str] = []
    sources = [
        (data / "twitter_us_airline_sentiment" / "Tweets.csv", "text"),
        (data / "twcs" / "twcs_random_sample_divya-gh.csv", "text"),
        (data / "free_mobile_fr_tweets" / "free_tweet_export.csv", "text"),
    ]
    for path, column in sources:
        with open(path, encoding="utf-8", newline="") as handle:
            texts.extend(row[column] for row in csv.DictReader(handle))
    # Interleave so both analysers see the same English/French mix at every point of the run.
    texts = texts[::2] + texts[1::2]
    return (texts * (POSTS // len(texts) + 1))[:POSTS]


def posts_per_second(analyser, texts: list[str]) -> float:
    analyser.analyse(texts[0])  # load outside the timing, as a running worker would have
    started = time.perf_counter()
    for text in texts:
        analyser.analyse(text)
    return len(texts) / (time.perf_counter() - started)


def batch_posts_per_second(analyser, texts: list[str]) -> float:
    hints = [""] * len(texts)
    analyser.analyse_many(texts[:BATCH], hints[:BATCH])  # warm, as a running worker would be
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        analyser.analyse_many(texts[start : start + BATCH], hints[start : start + BATCH])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    from socialfeed.tone.analysers import load_model, vader_analyser
    from socialfeed.tone.training import default_data_dir

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else default_data_dir()
    texts = sample_posts(data)
    started = time.perf_counter()
    default = load_model()
    load_seconds = time.perf_counter() - started
    vader = vader_analyser()
    rows = [
        (default.analyser_id, posts_per_second(default, texts), batch_posts_per_second(default, texts)),
        (vader.analyser_id, posts_per_second(vader, texts), batch_posts_per_second(vader, texts)),
    ]
    print(f"{len(texts):,} posts, one core, batches of {BATCH:,}")
    print(f"model load      {load_seconds * 1000:8.0f} ms")
    print(f"{'analyser':28} {'single posts/s':>15} {'batch posts/s':>15}")
    for name, single, batch in rows:
        print(f"{name:28} {single:15,.0f} {batch:15,.0f}")
    print(f"{'ratio default / VADER':28} {rows[0][1] / rows[1][1]:15.2f} {rows[0][2] / rows[1][2]:15.2f}")

if __name__ == "__main__":
    main()
