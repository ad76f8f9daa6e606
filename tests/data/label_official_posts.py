"""Build tests/data/official_posts_labelled.csv: pick real official posts, pre-label them with the category
rules, then apply the hand corrections below (see tests/data/README.md for how the labels were decided).

Run: .venv/bin/python tests/data/label_official_posts.py [shared data folder]
"""
from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from socialfeed.tone.categories import categorise  # noqa: E402

OUT = Path(__file__).with_name("official_posts_labelled.csv")
TWCS_POSTS = 220
FREEBOX_POSTS = 110


def _key(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()


def _post(row: dict[str, str], source: str, author: str, lang: str, prefix: str) -> dict[str, str]:
    return {"id": f"{prefix}:{row['tweet_id']}", "source": source, "author": author, "lang": lang,
            "text": " ".join(row["text"].split())}


def brand_replies(data: Path) -> list[dict[str, str]]:
    """Every TWCS brand reply (``inbound == False``), ordered by SHA-1 of tweet_id: a fixed spread over brands.
    Each labelled set takes the next slice of this order."""
    with open(data / "twcs" / "twcs_random_sample_divya-gh.csv", encoding="utf-8", newline="") as handle:
        brand = [r for r in csv.DictReader(handle) if r["inbound"] == "False"]
    brand.sort(key=lambda r: _key(r["tweet_id"]))
    return [_post(r, "twcs", r["author_id"], "en", "twcs") for r in brand]


def free_official_posts(data: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Free_1337's and Freebox's posts, ordered by SHA-1 of tweet_id, one per distinct 70-character opening:
    Freebox repeats one "private messages are closed, see Messenger" template hundreds of times, and a set
    should measure the variety of what the accounts say."""
    with open(data / "free_mobile_fr_tweets" / "free_tweet_export.csv", encoding="utf-8", newline="") as handle:
        free = [r for r in csv.DictReader(handle) if r["author"] in ("Freebox", "Free_1337")]
    seen: set[str] = set()
    ops, freebox = [], []
    for r in sorted(free, key=lambda r: _key(r["tweet_id"])):
        opening = r["text"][:70]
        if opening in seen:
            continue
        seen.add(opening)
        (ops if r["author"] == "Free_1337" else freebox).append(_post(r, "free_mobile_fr", r["author"], "fr", "free"))
    return ops, freebox


def candidates(data: Path) -> list[dict[str, str]]:
    ops, freebox = free_official_posts(data)
    return brand_replies(data)[:TWCS_POSTS] + ops + freebox[:FREEBOX_POSTS]


def write_posts(out: Path, posts: list[dict[str, str]], categories: list[str]) -> None:
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "source", "author", "lang", "category", "text"],
                                lineterminator="\n")
        writer.writeheader()
        for post, category in zip(posts, categories, strict=True):
            writer.writerow({**post, "category": category})
    print(f"wrote {len(posts)} posts to {out}")


def write_hand_labelled(out: Path, posts: list[dict[str, str]], labels: dict[str, str]) -> None:
    """Write a set labelled entirely by hand, refusing when the labels and the picked posts differ."""
    missing = [p["id"] for p in posts if p["id"] not in labels]
    if missing or len(posts) != len(labels):
        raise SystemExit(f"{out.name}: hand labels and selected posts differ: unlabelled {missing[:5]}, "
                         f"{len(labels)} labels for {len(posts)} posts")
    write_posts(out, posts, [labels[p["id"]] for p in posts])


# Hand corrections after reading every post: id -> category. Everything not listed here was read and the
# rule's pre-label was kept.
CORRECTIONS: dict[str, str] = {
    "twcs:687558": "status_update",
    "twcs:2397013": "workaround",
    "twcs:644131": "other",
    "twcs:1763280": "status_update",
    "twcs:1147364": "status_update",
    "twcs:758050": "workaround",
    "twcs:2364757": "promotional",
    "twcs:1607582": "resolution",
    "twcs:2042700": "other",
    "twcs:1374714": "apology",
    "twcs:1267847": "status_update",
    "twcs:2258822": "status_update",
    "twcs:855438": "workaround",
    "twcs:2207403": "resolution",
    "free:000044": "promotional",
    "free:002267": "promotional",
    "free:003541": "promotional",
    "free:002930": "promotional",
    "free:000067": "promotional",
    "free:003189": "promotional",
    "free:001443": "promotional",
    "free:000914": "promotional",
    "free:000246": "promotional",
    "free:000378": "promotional",
    "free:003090": "promotional",
    "free:000010": "promotional",
    "free:000861": "promotional",
    "free:000863": "promotional",
    "free:000003": "promotional",
    "free:002106": "resolution",
    "free:000007": "promotional",
    "free:000002": "promotional",
    "free:000004": "promotional",
    "free:000011": "promotional",
    "free:000013": "status_update",
}


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data"
    rows = candidates(data)
    # The labels in the committed CSV are the gold standard: once a post has been read and labelled, later
    # changes to the rules must never relabel it (that would grade the rules against themselves).
    frozen: dict[str, str] = {}
    if OUT.exists():
        with open(OUT, encoding="utf-8", newline="") as handle:
            frozen = {r["id"]: r["category"] for r in csv.DictReader(handle)}
    write_posts(OUT, rows, [CORRECTIONS.get(r["id"]) or frozen.get(r["id"]) or categorise(r["text"], r["lang"])
                            for r in rows])

if __name__ == "__main__":
    main()
