"""Build tests/data/official_posts_test.csv: the category rules' test set. 160 real brand replies labelled by
hand by a second labeller, who never saw the rules or their output, after the rules were frozen (see
tests/data/README.md). Nothing in socialfeed/tone/categories.py was changed after looking at these posts.

The posts are the next ones by the development sets' selection rule: TWCS brand replies ranked 381 to 540 by
SHA-1 of tweet_id.

Run: .venv/bin/python tests/data/label_test_posts.py [shared data folder]
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from label_heldout_posts import HELDOUT_TWCS_POSTS  # noqa: E402
from label_official_posts import TWCS_POSTS, _key  # noqa: E402

from socialfeed.tone.training import default_data_dir  # noqa: E402

OUT = Path(__file__).with_name("official_posts_test.csv")
TEST_TWCS_POSTS = 160


def candidates(data: Path) -> list[dict[str, str]]:
    with open(data / "twcs" / "twcs_random_sample_divya-gh.csv", encoding="utf-8", newline="") as handle:
        brand = [r for r in csv.DictReader(handle) if r["inbound"] == "False"]
    brand.sort(key=lambda r: _key(r["tweet_id"]))
    start = TWCS_POSTS + HELDOUT_TWCS_POSTS
    return [
        {"id": f"twcs:{r['tweet_id']}", "source": "twcs", "author": r["author_id"], "lang": "en",
         "text": " ".join(r["text"].split())}
        for r in brand[start : start + TEST_TWCS_POSTS]
    ]


# The second labeller's labels, one per post, by the definitions and conventions of tests/data/README.md.
HAND_LABELS: dict[str, str] = {
    "twcs:2582507": "other",
    "twcs:2526304": "other",
    "twcs:2325513": "other",
    "twcs:2488539": "other",
    "twcs:1777973": "apology",
    "twcs:872024": "other",
    "twcs:2406641": "other",
    "twcs:684944": "apology",
    "twcs:1274904": "apology",
    "twcs:1667845": "apology",
    "twcs:2679612": "other",
    "twcs:2308559": "other",
    "twcs:1943182": "other",
    "twcs:706845": "other",
    "twcs:2549210": "apology",
    "twcs:2572946": "other",
    "twcs:2685998": "other",
    "twcs:1210419": "apology",
    "twcs:1025564": "other",
    "twcs:610094": "other",
    "twcs:837904": "apology",
    "twcs:478603": "other",
    "twcs:1690497": "workaround",
    "twcs:2833719": "other",
    "twcs:1566733": "other",
    "twcs:802947": "other",
    "twcs:1836099": "other",
    "twcs:282581": "other",
    "twcs:2127399": "other",
    "twcs:904209": "other",
    "twcs:142528": "other",
    "twcs:2615734": "other",
    "twcs:675401": "other",
    "twcs:2491772": "apology",
    "twcs:2920005": "other",
    "twcs:1374076": "apology",
    "twcs:2851214": "other",
    "twcs:298091": "other",
    "twcs:2241824": "other",
    "twcs:2661214": "other",
    "twcs:2356521": "other",
    "twcs:2181554": "other",
    "twcs:963063": "other",
    "twcs:1177506": "other",
    "twcs:1684063": "status_update",
    "twcs:2047898": "other",
    "twcs:1686341": "other",
    "twcs:1682517": "workaround",
    "twcs:2218766": "other",
    "twcs:2666599": "other",
    "twcs:488656": "other",
    "twcs:2691510": "other",
    "twcs:1090866": "other",
    "twcs:1275335": "other",
    "twcs:287290": "workaround",
    "twcs:227856": "apology",
    "twcs:1800102": "other",
    "twcs:732188": "other",
    "twcs:2787443": "apology",
    "twcs:1891647": "apology",
    "twcs:419486": "status_update",
    "twcs:1175985": "other",
    "twcs:1406999": "other",
    "twcs:2564089": "other",
    "twcs:2508394": "other",
    "twcs:1889585": "other",
    "twcs:789440": "apology",
    "twcs:1529654": "other",
    "twcs:2764135": "other",
    "twcs:2858172": "other",
    "twcs:1455287": "other",
    "twcs:327396": "other",
    "twcs:222121": "other",
    "twcs:1817963": "other",
    "twcs:334773": "status_update",
    "twcs:2844843": "other",
    "twcs:2474384": "other",
    "twcs:446697": "other",
    "twcs:426215": "other",
    "twcs:1264022": "other",
    "twcs:1065682": "apology",
    "twcs:414217": "apology",
    "twcs:2734276": "apology",
    "twcs:907346": "other",
    "twcs:177338": "apology",
    "twcs:2106056": "other",
    "twcs:257913": "apology",
    "twcs:1304907": "other",
    "twcs:2026893": "workaround",
    "twcs:2633081": "other",
    "twcs:1530211": "other",
    "twcs:1014768": "other",
    "twcs:2832170": "apology",
    "twcs:2565648": "other",
    "twcs:848968": "other",
    "twcs:349496": "apology",
    "twcs:2281415": "other",
    "twcs:1612438": "other",
    "twcs:2594880": "apology",
    "twcs:78712": "other",
    "twcs:439187": "workaround",
    "twcs:2226976": "other",
    "twcs:1152919": "other",
    "twcs:2394964": "other",
    "twcs:2236193": "apology",
    "twcs:1672188": "apology",
    "twcs:910828": "other",
    "twcs:2151032": "apology",
    "twcs:752858": "other",
    "twcs:1140453": "other",
    "twcs:862243": "other",
    "twcs:430117": "other",
    "twcs:747196": "apology",
    "twcs:1304556": "other",
    "twcs:1914428": "apology",
    "twcs:1451673": "other",
    "twcs:1563035": "other",
    "twcs:1445830": "workaround",
    "twcs:1365225": "other",
    "twcs:2947853": "apology",
    "twcs:2715777": "status_update",
    "twcs:2259250": "apology",
    "twcs:1999777": "other",
    "twcs:1175861": "other",
    "twcs:2344680": "apology",
    "twcs:1032334": "other",
    "twcs:185611": "other",
    "twcs:135551": "other",
    "twcs:2835271": "other",
    "twcs:1343423": "status_update",
    "twcs:206617": "other",
    "twcs:778195": "apology",
    "twcs:1244296": "other",
    "twcs:1913861": "other",
    "twcs:1000462": "apology",
    "twcs:898642": "other",
    "twcs:1129151": "other",
    "twcs:1470057": "other",
    "twcs:1284835": "other",
    "twcs:2944782": "other",
    "twcs:2190870": "other",
    "twcs:886115": "other",
    "twcs:2756019": "other",
    "twcs:1814598": "other",
    "twcs:2277908": "apology",
    "twcs:274428": "other",
    "twcs:1558117": "workaround",
    "twcs:1157694": "apology",
    "twcs:2398529": "other",
    "twcs:1971334": "other",
    "twcs:1169477": "other",
    "twcs:1750216": "other",
    "twcs:1389644": "apology",
    "twcs:104013": "other",
    "twcs:462937": "other",
    "twcs:2978464": "other",
    "twcs:1057232": "other",
    "twcs:348175": "other",
    "twcs:1606340": "apology",
    "twcs:1249254": "apology",
}


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else default_data_dir()
    posts = candidates(data)
    missing = [p["id"] for p in posts if p["id"] not in HAND_LABELS]
    if missing or len(posts) != len(HAND_LABELS):
        raise SystemExit(f"hand labels and selected posts differ: unlabelled {missing[:5]}, "
                         f"{len(HAND_LABELS)} labels for {len(posts)} posts")
    with open(OUT, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "source", "author", "lang", "category", "text"])
        writer.writeheader()
        for post in posts:
            writer.writerow({**post, "category": HAND_LABELS[post["id"]]})
    print(f"wrote {OUT} ({len(posts)} posts)")


if __name__ == "__main__":
    main()
