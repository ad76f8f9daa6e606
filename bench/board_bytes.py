"""What one open board costs on the wire while an outage is busy: bytes per minute per viewer, before and after
light live updates.

Loads the demo scenario (the 44-hour outage of incidents/demo.py) into its own PostgreSQL database, then for
``--minutes`` minutes a feeder stores ``--rate`` posts a minute through the real ingestion pipeline
(socialfeed.services.posts_ingest: customers' complaints, and the brand's replies to some of them), while viewers
do what an open board tab does every ``--every`` seconds: fetch the live tiles, every chart and the queue.

- *full* viewer: fetches every endpoint whole at every refresh, as the board did before (the baseline);
- *light* viewer: sends ``since`` / ``If-None-Match`` with the version it holds and applies the patches
  (incidents.live_updates), as static/js/board.js does; at the end its rebuilt payloads are checked against a
  full fetch.

Counted per response: status line, headers and body, as they would travel (no compression). The board's URLs
are read from the board page itself, so the same script measures an older checkout (``--mode full``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_board_bytes .venv/bin/python bench/board_bytes.py

The database named in DATABASE_URL (default hotline_board_bytes) is created if missing and its demo data replaced.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _database import django_ready  # noqa: E402  (bench/ is the script folder)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_board_bytes"


def _wire_size(response) -> int:
    """Bytes of a response as HTTP/1.1 sends it: status line, headers, blank line, body."""
    head = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in response.items())
    head += f"Content-Length: {len(response.content)}\r\n" if "Content-Length" not in response else ""
    return len(head.encode()) + 2 + len(response.content)


class Viewer:
    """One open board tab, polling every endpoint the page lists."""

    def __init__(self, client, urls: dict[str, str], light: bool):
        self.client, self.urls, self.light = client, urls, light
        self.held: dict[str, tuple[str, object]] = {}
        self.bytes: dict[str, int] = defaultdict(int)
        self.statuses: dict[str, list[int]] = defaultdict(list)

    def refresh(self) -> None:
        for name, url in self.urls.items():
            headers, params = {}, {}
            if self.light and name in self.held:
                params["since"] = self.held[name][0]
                headers["If-None-Match"] = f'"{self.held[name][0]}"'
            response = self.client.get(url, params, headers=headers)
            self.bytes[name] += _wire_size(response)
            self.statuses[name].append(response.status_code)
            if not self.light or response.status_code == 304:
                continue
            body = response.json()
            if "full" in body:
                self.held[name] = (body["version"], body["full"])
            elif "patch" in body:
                from incidents.live_updates import patch_apply

                self.held[name] = (body["version"], patch_apply(self.held[name][1], body["patch"]))


def _board_urls(client, board_url: str) -> dict[str, str]:
    page = client.get(board_url).content.decode()
    urls = {"live": re.search(r'data-live-url="([^"]+)"', page)[1]}
    queue = re.search(r'data-queue-url="([^"]+)"', page)
    if queue:
        urls["queue"] = queue[1]
    for url in re.findall(r'<canvas[^>]+data-url="([^"]+)"', page):
        urls[url.rsplit("/", 1)[-1].removesuffix(".json")] = url
    return urls


def _feeder(stop: threading.Event, rate: int, every: float, brand_handle: str, brand_user_id: str,
            stored: list[int]) -> None:
    """``rate`` posts a minute through the real pipeline: complaints, and the brand answering a fifth of them."""
    from django.db import connection

    from socialfeed.normalised import NormalisedPost
    from socialfeed.services import posts_ingest

    per_batch = max(1, round(rate * every / 60))
    serial = 0
    waiting: list[NormalisedPost] = []
    try:
        while not stop.is_set():
            began = time.monotonic()
            now = dt.datetime.now(dt.UTC)
            batch = []
            for _ in range(per_batch):
                serial += 1
                if waiting and serial % 5 == 0:
                    to = waiting.pop(0)
                    batch.append(NormalisedPost(
                        platform="x", platform_id=f"bench-bytes-r{serial}-{time.time_ns()}", author_id=brand_user_id,
                        author_handle=brand_handle, created_at=now, text=f"@{to.author_handle} Sorry, we are on it.",
                        in_reply_to_id=to.platform_id, in_reply_to_author_id=to.author_id,
                        conversation_id=to.conversation_id))
                    continue
                pid = f"bench-bytes-{serial}-{time.time_ns()}"
                post = NormalisedPost(platform="x", platform_id=pid, author_id=str(900_000 + serial % 5000),
                                      author_handle=f"viewer{serial % 5000}", created_at=now, conversation_id=pid,
                                      text=f"@{brand_handle} still no SMS, is the network down? #{serial}", lang="en")
                waiting.append(post)
                batch.append(post)
            posts_ingest(posts=batch)
            stored[0] += len(batch)
            stop.wait(max(0.0, every - (time.monotonic() - began)))
    finally:
        connection.close()


def _poller(stop: threading.Event, viewer: Viewer, every: float, refreshes: list[float]) -> None:
    from django.db import connection

    try:
        while not stop.is_set():
            began = time.monotonic()
            viewer.refresh()
            refreshes.append(time.monotonic() - began)
            stop.wait(max(0.0, every - (time.monotonic() - began)))
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="how long to measure")
    parser.add_argument("--rate", type=int, default=1000, help="posts stored per minute")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between a board's refreshes")
    parser.add_argument("--mode", choices=("both", "full"), default="both",
                        help="full: only the re-send-everything viewer (for a checkout without light updates)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("bench/board_bytes.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    django_ready(url)
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from incidents.demo import ONDINE, demo_load
    from incidents.models import Incident

    print("loading the demo outage…")
    demo_load(now=timezone.now(), fresh=True)
    incident = Incident.objects.get(brand__slug=ONDINE["slug"], ended_at__isnull=True)
    user = get_user_model().objects.get(username="comms")

    def client():
        c = Client()
        c.force_login(user)
        return c

    board_url = reverse("incidents:board", kwargs={"pk": incident.pk})
    urls = _board_urls(client(), board_url)
    viewers = {"full": Viewer(client(), urls, light=False)}
    if args.mode == "both":
        viewers["light"] = Viewer(client(), urls, light=True)
    for viewer in viewers.values():
        viewer.refresh()  # the page's first load is not part of the per-minute cost
        viewer.bytes.clear()
        viewer.statuses.clear()

    stop = threading.Event()
    stored = [0]
    refreshes: dict[str, list[float]] = {name: [] for name in viewers}
    threads = [threading.Thread(target=_feeder, args=(stop, args.rate, args.every, ONDINE["handle"],
                                                      ONDINE["user_id"], stored), daemon=True)]
    threads += [threading.Thread(target=_poller, args=(stop, viewer, args.every, refreshes[name]), daemon=True)
                for name, viewer in viewers.items()]
    print(f"measuring {args.minutes:g} min: {args.rate} posts/min stored, boards refreshing every {args.every:g} s, "
          f"endpoints: {', '.join(urls)}")
    began = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(args.minutes * 60)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    minutes = (time.monotonic() - began) / 60

    print(f"\nstored {stored[0]:,} posts in {minutes:.2f} min ({stored[0] / minutes:,.0f}/min)")
    print(f"{'endpoint':<10}" + "".join(f"{name + ' KB/min':>16}" for name in viewers)
          + ("   light answers (200 / 304)" if "light" in viewers else ""))
    for name in urls:
        row = f"{name:<10}" + "".join(f"{v.bytes[name] / 1024 / minutes:>16.1f}" for v in viewers.values())
        if "light" in viewers:
            statuses = viewers["light"].statuses[name]
            row += f"   {statuses.count(200)} / {statuses.count(304)}"
        print(row)
    totals = {name: sum(v.bytes.values()) / 1024 / minutes for name, v in viewers.items()}
    print(f"{'total':<10}" + "".join(f"{t:>16.1f}" for t in totals.values()))
    for name, times in refreshes.items():
        if times:
            print(f"{name} viewer: {len(times)} refreshes, median {statistics.median(times) * 1000:.0f} ms each")
    if "light" in viewers:
        print(f"\nlight updates: {totals['light']:.1f} KB/min per viewer against {totals['full']:.1f} KB/min "
              f"re-sending everything ({totals['full'] / max(totals['light'], 0.001):.0f}× less)")
        # The light viewer's rebuilt payloads must be what a full fetch gives now (charts and live are shared for
        # BOARD_SHARED_SECONDS, so wait that long for a quiet moment first).
        time.sleep(settings.BOARD_SHARED_SECONDS + 0.5)
        light = viewers["light"]
        light.refresh()
        check = client()
        mismatched = []
        for name, endpoint in urls.items():
            fresh = check.get(endpoint).json()
            if fresh["version"] == light.held[name][0] and fresh["full"] != light.held[name][1]:
                mismatched.append(name)
        print("rebuilt payloads equal full fetches:", "yes" if not mismatched else f"NO ({', '.join(mismatched)})")


if __name__ == "__main__":
    main()
