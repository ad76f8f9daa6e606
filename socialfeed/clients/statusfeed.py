"""Status feeds (RSS/Atom, e.g. a brand's status page) through feedparser: every entry is an official broadcast.

The feed is downloaded with requests (feedparser's own fetching has no timeout) and parsed from bytes. The
cursor is the newest entry time seen; an entry updated later comes back and ingestion updates its text.
"""
from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

import feedparser
import requests

from socialfeed.clients.base import (
    FetchResult,
    SourceError,
    epoch_to_utc,
    html_to_text,
    http_timeout,
    is_numeric_id,
    json_safe,
    parse_iso_datetime,
)
from socialfeed.normalised import NormalisedPost

PLATFORM = "feed"
USER_AGENT = "Hotline status-feed reader (+https://github.com/hotline)"
MAX_BYTES = 5 * 1024 * 1024  # a status page feed is small; anything bigger is not one


def _entry_time(entry: Any) -> datetime | None:
    for key in ("updated_parsed", "published_parsed", "created_parsed"):
        # dict.get: FeedParserDict.get maps updated -> published with a deprecation warning.
        value = dict.get(entry, key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def entry_to_post(entry: Any, *, feed_url: str, feed_title: str) -> NormalisedPost | None:
    """One feed entry as an official broadcast of the brand that owns the feed; None without id or time."""
    platform_id = str(entry.get("id") or entry.get("link") or "")
    created = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        if dict.get(entry, key):
            created = datetime.fromtimestamp(calendar.timegm(dict.get(entry, key)), tz=UTC)
            break
    if not platform_id or created is None:
        return None
    title = html_to_text(str(entry.get("title") or ""))
    summary = html_to_text(str(entry.get("summary") or ""))
    text = "\n\n".join(part for part in (title, summary) if part)
    return NormalisedPost(
        platform=PLATFORM,
        platform_id=platform_id[:128],
        author_id=feed_url[:128],
        author_handle=feed_title[:255] or feed_url[:255],
        created_at=created,
        text=text,
        lang=str(entry.get("language") or ""),
        url=str(entry.get("link") or ""),
        raw=json_safe({k: entry.get(k) for k in ("id", "link", "title", "summary", "published", "updated")}),
    )


class StatusFeedClient:
    platform = PLATFORM

    def __init__(self, *, timeout: float | None = None, session: requests.Session | None = None) -> None:
        self.timeout = timeout or http_timeout()
        self.session = session or requests.Session()

    @classmethod
    def from_settings(cls) -> StatusFeedClient:
        return cls()

    def fetch(self, *, kind: str = "status_feed", query: str = "", account_handle: str = "",
              account_user_id: str = "", since_id: str = "") -> FetchResult:
        url = query.strip()
        if kind != "status_feed":
            raise SourceError(f"A status feed source cannot follow {kind!r}.", permanent=True)
        if not url.startswith(("http://", "https://")):
            raise SourceError(f"A status feed needs an http(s) URL, not {url!r}.", permanent=True)
        since = parse_iso_datetime(since_id) if since_id else None
        content = self._download(url)
        parsed = feedparser.parse(content)
        if parsed.bozo and not parsed.entries:
            reason = getattr(parsed, "bozo_exception", None)
            raise SourceError(f"The status feed at {url} is not readable RSS/Atom ({reason}); will retry.")
        feed_title = html_to_text(str(parsed.feed.get("title") or ""))
        posts: list[NormalisedPost] = []
        newest = since
        for entry in parsed.entries:
            seen_at = _entry_time(entry)
            if seen_at is None or (since is not None and seen_at <= since):
                continue
            post = entry_to_post(entry, feed_url=url, feed_title=feed_title)
            if post is None:
                continue
            posts.append(post)
            if newest is None or seen_at > newest:
                newest = seen_at
        cursor = newest.isoformat().replace("+00:00", "Z") if newest and posts else since_id
        return FetchResult(posts=posts, cursor=cursor, requests_made=1)

    def _download(self, url: str) -> bytes:
        try:
            response = self.session.get(url, timeout=self.timeout, headers={"User-Agent": USER_AGENT},
                                        stream=True)
        except requests.Timeout as exc:
            raise SourceError(f"The status feed at {url} did not answer within {self.timeout:g} s; "
                              "will retry.") from exc
        except requests.RequestException as exc:
            raise SourceError(f"Could not reach the status feed at {url} ({exc}); will retry.") from exc
        with response:
            if response.status_code == 429:
                retry_at = _retry_after(response.headers.get("Retry-After"))
                raise SourceError(f"The status feed at {url} asked Hotline to slow down (429).", retry_at=retry_at)
            if 400 <= response.status_code < 500:
                raise SourceError(f"The status feed at {url} answered {response.status_code}; check the URL.",
                                  permanent=True)
            if response.status_code >= 500:
                raise SourceError(f"The status feed at {url} answered {response.status_code}; will retry.")
            try:
                content = response.raw.read(MAX_BYTES + 1, decode_content=True)
            except requests.RequestException as exc:
                raise SourceError(f"The status feed at {url} broke off ({exc}); will retry.") from exc
            except Exception as exc:  # urllib3 read timeouts surface as their own types
                raise SourceError(f"The status feed at {url} broke off ({type(exc).__name__}); will retry.") from exc
        if len(content) > MAX_BYTES:
            raise SourceError(f"The status feed at {url} is larger than {MAX_BYTES // 1024 // 1024} MB.",
                              permanent=True)
        return content


def _retry_after(value: str | None) -> datetime | None:
    if not value:
        return None
    if is_numeric_id(value.strip()) and len(value.strip()) < 10:  # seconds; ASCII digits only
        return epoch_to_utc(datetime.now(tz=UTC).timestamp() + int(value))
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None
