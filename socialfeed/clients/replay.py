"""The demo replay: plays the demo scenario's posts back in real time, as if a platform were delivering them.

It is polled like any source and hands posts to the same ingestion pipeline, so the live board moves the way it
would during a real outage. The source's query holds the scenario's seed and anchor ("seed=2026;anchor=ISO");
the cursor is the creation time of the last post played.
"""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from socialfeed.clients.base import FetchResult, SourceError

MAX_POSTS_PER_FETCH = 2000


def parse_query(query: str) -> tuple[int, datetime]:
    try:
        parts = dict(item.split("=", 1) for item in query.split(";") if item)
        anchor = datetime.fromisoformat(parts["anchor"])
        return int(parts["seed"]), anchor
    except (KeyError, ValueError) as exc:
        raise SourceError(f"demo replay query {query!r} must look like 'seed=2026;anchor=2026-03-02T09:00:00+00:00' "
                          f"({exc})", permanent=True) from None


class ReplayClient:
    platform = "replay"
    max_pages = 1

    def __init__(self, *, now: datetime | None = None) -> None:
        self._now = now

    def fetch(self, *, kind: str = "replay", query: str = "", account_handle: str = "", account_user_id: str = "",
              since_id: str = "", until: str = "", page_budget: int | None = None, deadline: float | None = None,
              not_before: datetime | None = None) -> FetchResult:
        from incidents.demo import scenario_posts

        seed, anchor = parse_query(query)
        now = self._now or timezone.now()
        since = datetime.fromisoformat(since_id) if since_id else anchor
        due = [p for p in scenario_posts(anchor=anchor, seed=seed) if since < p.created_at <= now]
        due = due[:MAX_POSTS_PER_FETCH]
        cursor = due[-1].created_at.isoformat() if due else since_id
        return FetchResult(posts=due, cursor=cursor, requests_made=0)
