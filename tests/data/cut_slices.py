"""Cut the small real-data slices under tests/data/slices/ from the whole shared corpora.

Run: HOTLINE_SHARED_DATA=/path/to/shared/data .venv/bin/python tests/data/cut_slices.py

Each slice keeps its corpus's folder layout, file name, header and row order, so Hotline's own readers (the
importers, the tone data readers, the platform cassette replays) read a slice exactly as they read the whole file.
Rows are picked by rule, never by hand: the first rows by SHA-1 of their id (a fixed spread, not the top of the
file), plus, for TWCS, every reply whose parent is in the sample (the only answered pairs it holds). Running the
script again gives the same bytes; ``test_the_committed_slices_are_what_the_script_cuts`` checks it wherever the
shared corpora are present. tests/data/README.md says where each slice comes from and under which licence.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLICES = HERE / "slices"

TWCS = Path("twcs/twcs_random_sample_divya-gh.csv")
TWCS_ROWS = 400
IBM = Path("ibm_twitter_customer_care_cdp/dev.json")
IBM_DIALOGS = 120
AIRLINE = Path("twitter_us_airline_sentiment/Tweets.csv")
AIRLINE_ROWS = 150
FREE = Path("free_mobile_fr_tweets/weaklabeled_train_dataset.csv")
FREE_ROWS = 150
# Recorded platform responses the client tests replay, copied whole (each is one recorded exchange).
RECORDINGS = (
    Path("tweepy_cassettes/v2_client/test_client_get_user.yaml"),
    Path("tweepy_cassettes/v2_client/test_client_get_users_mentions.yaml"),
    Path("tweepy_cassettes/v2_client/test_client_get_users_tweets.yaml"),
    Path("tweepy_cassettes/v2_client/test_client_search_recent_tweets.yaml"),
    Path("tweepy_cassettes/decoded_v2_client/test_client_search_recent_tweets.json"),
    Path("mastodon_api_fixtures/cassettes/test_hashtag_tl.yaml"),
    Path("mastodon_api_fixtures/cassettes/test_home_tl.yaml"),
    Path("mastodon_api_fixtures/cassettes/test_notifications_mentions_only.yaml"),
    Path("mastodon_api_fixtures/cassettes/test_search.yaml"),
    Path("mastodon_api_fixtures/cassettes/test_status_reply.yaml"),
    Path("bluesky_atproto_fixtures/thread_view_post_with_embed_media.json"),
)


def _rank(item_id: str) -> str:
    return hashlib.sha1(item_id.encode()).hexdigest()


def _held_out(item_id: str) -> bool:
    """The tone validation fifth (socialfeed.tone.training.held_out), repeated so the script needs no Django."""
    return int(_rank(item_id)[:8], 16) % 5 == 0


def _csv_text(header: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def cut_twcs(data: Path) -> str:
    with open(data / TWCS, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    ids = {r["tweet_id"] for r in rows}
    parent = {r["tweet_id"]: (r["in_response_to_tweet_id"] or "").removesuffix(".0") for r in rows}
    # Every answered pair the sample holds (a reply whose parent is in the file), both posts.
    keep = {tid for tid, p in parent.items() if p in ids} | {p for p in parent.values() if p in ids}
    for tid in sorted(ids - keep, key=_rank):
        if len(keep) >= TWCS_ROWS:
            break
        keep.add(tid)
    return _csv_text(header, [r for r in rows if r["tweet_id"] in keep])


def cut_ibm(data: Path) -> str:
    dialogs = json.loads((data / IBM).read_text(encoding="utf-8"))
    chosen = set(sorted(range(len(dialogs)), key=lambda i: _rank(dialogs[i]["dialogHeader"]["sessionID"]))[:IBM_DIALOGS])
    return json.dumps([d for i, d in enumerate(dialogs) if i in chosen], ensure_ascii=False, indent=1) + "\n"


def _held_out_rows(path: Path, count: int, keep) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    picked, seen = [], set()
    for row in rows:
        if row["tweet_id"] in seen or not keep(row) or not _held_out(row["tweet_id"]):
            continue
        seen.add(row["tweet_id"])
        picked.append(row)
        if len(picked) == count:
            break
    return _csv_text(header, picked)


def cut_airline(data: Path) -> str:
    return _held_out_rows(data / AIRLINE, AIRLINE_ROWS, lambda row: True)


def cut_free(data: Path) -> str:
    brand_accounts = {"Freebox", "free", "Free_1337", "GroupeIliad"}
    return _held_out_rows(data / FREE, FREE_ROWS,
                          lambda row: row["author"] not in brand_accounts and row["sentiment"] in
                          ("negatif", "neutre", "positif"))


def cut(data: Path) -> dict[Path, bytes]:
    """Every slice, by its path under tests/data/slices/, as the bytes to write."""
    slices = {
        TWCS: cut_twcs(data).encode(),
        IBM: cut_ibm(data).encode(),
        AIRLINE: cut_airline(data).encode(),
        FREE: cut_free(data).encode(),
    }
    for path in RECORDINGS:
        slices[path] = (data / path).read_bytes()
    return slices


def main() -> None:
    configured = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HOTLINE_SHARED_DATA", "")
    if not configured or not Path(configured).is_dir():
        sys.exit("Give the shared data folder: HOTLINE_SHARED_DATA=/path/to/shared/data (or as an argument).")
    if SLICES.exists():
        shutil.rmtree(SLICES)
    for path, content in cut(Path(configured)).items():
        target = SLICES / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        print(f"{target.relative_to(HERE)}: {len(content):,} bytes")


if __name__ == "__main__":
    main()
