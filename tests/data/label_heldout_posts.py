"""Build tests/data/official_posts_heldout.csv: real official posts labelled by hand AFTER the category rules
were frozen, without looking at what the rules say, so that evaluate_tone can report an independent score next
to the development set's optimistic one (see tests/data/README.md).

The posts are the next ones by the development set's own selection rule: TWCS brand replies ranked 221 to 380
by SHA-1 of tweet_id, and the Freebox posts with a distinct 70-character opening beyond the first 110.

Run: .venv/bin/python tests/data/label_heldout_posts.py [shared data folder]
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from label_official_posts import (  # noqa: E402
    FREEBOX_POSTS,
    TWCS_POSTS,
    brand_replies,
    free_official_posts,
    write_hand_labelled,
)

from socialfeed.tone.training import default_data_dir  # noqa: E402

OUT = Path(__file__).with_name("official_posts_heldout.csv")
HELDOUT_TWCS_POSTS = 160


def candidates(data: Path) -> list[dict[str, str]]:
    _, freebox = free_official_posts(data)
    return brand_replies(data)[TWCS_POSTS : TWCS_POSTS + HELDOUT_TWCS_POSTS] + freebox[FREEBOX_POSTS:]


# Every post read in full and labelled by the category definitions of tests/data/README.md and the conventions
# of the development set (an apology followed by a request for details is an apology; news of an incident is a
# status update even when it opens with "sorry"), before the rules' output for these posts was looked at.
HAND_LABELS: dict[str, str] = {
    "twcs:604242": "apology",
    "twcs:2687987": "other",
    "twcs:2067243": "other",
    "twcs:1343038": "status_update",
    "twcs:2167027": "other",
    "twcs:2354631": "other",
    "twcs:1171526": "promotional",
    "twcs:2211687": "other",
    "twcs:2222466": "other",
    "twcs:2073359": "other",
    "twcs:2724001": "other",
    "twcs:1073269": "status_update",
    "twcs:763780": "other",
    "twcs:1857298": "other",
    "twcs:2673586": "other",
    "twcs:1364439": "other",
    "twcs:249700": "other",
    "twcs:1783387": "other",
    "twcs:1510555": "other",
    "twcs:2900780": "other",
    "twcs:1835505": "other",
    "twcs:2938536": "apology",
    "twcs:1020295": "other",
    "twcs:1183206": "other",
    "twcs:78291": "workaround",
    "twcs:2176575": "other",
    "twcs:2375664": "other",
    "twcs:2825689": "other",
    "twcs:2859235": "other",
    "twcs:219068": "other",
    "twcs:1536205": "apology",
    "twcs:1168106": "other",
    "twcs:2116286": "other",
    "twcs:51607": "apology",
    "twcs:2864782": "other",
    "twcs:1794380": "other",
    "twcs:903259": "status_update",
    "twcs:2507516": "other",
    "twcs:2863944": "other",
    "twcs:958353": "other",
    "twcs:1764788": "apology",
    "twcs:2311244": "apology",
    "twcs:1766806": "workaround",
    "twcs:1009990": "other",
    "twcs:2590060": "other",
    "twcs:1916864": "apology",
    "twcs:1318621": "status_update",
    "twcs:706438": "other",
    "twcs:2934379": "promotional",
    "twcs:424440": "other",
    "twcs:1638924": "other",
    "twcs:2476623": "workaround",
    "twcs:2605313": "other",
    "twcs:269596": "other",
    "twcs:206022": "other",
    "twcs:801136": "other",
    "twcs:2059404": "apology",
    "twcs:1392467": "other",
    "twcs:919973": "other",
    "twcs:485784": "apology",
    "twcs:2044375": "other",
    "twcs:577549": "apology",
    "twcs:236037": "other",
    "twcs:2163243": "other",
    "twcs:1295157": "other",
    "twcs:1542966": "apology",
    "twcs:1558395": "other",
    "twcs:2675656": "apology",
    "twcs:442344": "other",
    "twcs:1215088": "other",
    "twcs:1426042": "other",
    "twcs:2872330": "other",
    "twcs:1718876": "other",
    "twcs:1968253": "other",
    "twcs:2432156": "workaround",
    "twcs:1742922": "workaround",
    "twcs:2935947": "other",
    "twcs:966686": "other",
    "twcs:2948433": "other",
    "twcs:1628468": "workaround",
    "twcs:2015180": "workaround",
    "twcs:1864237": "other",
    "twcs:1793097": "other",
    "twcs:1651802": "workaround",
    "twcs:2177387": "workaround",
    "twcs:2422010": "other",
    "twcs:1083740": "other",
    "twcs:1982681": "other",
    "twcs:1963794": "status_update",
    "twcs:1298531": "other",
    "twcs:2967688": "apology",
    "twcs:136478": "apology",
    "twcs:1491000": "other",
    "twcs:1803836": "other",
    "twcs:1004446": "other",
    "twcs:361087": "other",
    "twcs:910715": "other",
    "twcs:684396": "status_update",
    "twcs:615071": "workaround",
    "twcs:1572803": "other",
    "twcs:2141741": "other",
    "twcs:643146": "other",
    "twcs:2460772": "other",
    "twcs:2658240": "other",
    "twcs:2162719": "apology",
    "twcs:1400150": "other",
    "twcs:1741442": "other",
    "twcs:2592262": "other",
    "twcs:1403485": "other",
    "twcs:1716089": "other",
    "twcs:371677": "other",
    "twcs:2305368": "other",
    "twcs:728322": "other",
    "twcs:2457687": "other",
    "twcs:423884": "other",
    "twcs:1523264": "apology",
    "twcs:2658136": "other",
    "twcs:2632145": "other",
    "twcs:1752475": "other",
    "twcs:1584033": "apology",
    "twcs:1322478": "other",
    "twcs:1392697": "apology",
    "twcs:291045": "other",
    "twcs:2914057": "apology",
    "twcs:400835": "other",
    "twcs:2133340": "other",
    "twcs:9479": "other",
    "twcs:1375366": "other",
    "twcs:2931186": "other",
    "twcs:2311574": "resolution",
    "twcs:468481": "apology",
    "twcs:76981": "other",
    "twcs:990453": "other",
    "twcs:2435256": "other",
    "twcs:850563": "workaround",
    "twcs:2128558": "workaround",
    "twcs:671522": "other",
    "twcs:1909440": "other",
    "twcs:2136604": "other",
    "twcs:1738099": "other",
    "twcs:1640325": "other",
    "twcs:1011477": "other",
    "twcs:2186754": "other",
    "twcs:1062889": "other",
    "twcs:1263402": "other",
    "twcs:233148": "other",
    "twcs:2542482": "other",
    "twcs:1650247": "other",
    "twcs:2271436": "apology",
    "twcs:2785217": "other",
    "twcs:1370301": "other",
    "twcs:2510692": "other",
    "twcs:648260": "other",
    "twcs:1837118": "apology",
    "twcs:549319": "apology",
    "twcs:2308065": "other",
    "twcs:341050": "other",
    "twcs:1638565": "other",
    "twcs:1311209": "other",
    "twcs:2628491": "resolution",
    "free:002193": "other",
    "free:003062": "other",
    "free:002638": "other",
    "free:003043": "other",
    "free:003054": "other",
    "free:000014": "status_update",
    "free:001789": "apology",
    "free:002186": "other",
    "free:002191": "other",
}


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else default_data_dir()
    write_hand_labelled(OUT, candidates(data), HAND_LABELS)

if __name__ == "__main__":
    main()
