"""Status feeds (RSS/Atom, e.g. a brand's status page) through feedparser: every update is an official broadcast
of the brand that owns the source (a Statuspage-style entry holding several updates is several broadcasts).

The feed is downloaded with requests (feedparser's own fetching has no timeout) and parsed from bytes. The
cursor is the newest entry time seen; an entry updated later comes back and ingestion updates its text.
"""
from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import requests

from socialfeed.clients.base import (
    FetchResult,
    LostRange,
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
# Only a feed holding at least this many entries is checked for entries that dropped out of it between polls
# (a feed that lists only ongoing incidents empties itself, which is no loss).
LOST_CHECK_MIN_ENTRIES = 5
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
    posts = entry_to_posts(entry, feed_url=feed_url, feed_title=feed_title)
    return posts[0] if posts else None


def entry_to_posts(entry: Any, *, feed_url: str, feed_title: str) -> list[NormalisedPost]:
    """The broadcasts of one feed entry (METRICS.md §1 status-feed entry).

    A Statuspage-style entry holds every update of one incident, newest first, each in a paragraph that opens
    with its time (``<small>Mar 12, 08:40 UTC</small><br><strong>Resolved</strong> - …``): each update is its
    own broadcast, with its own time, so that the time to first update and the longest silence (§5) see them
    all. Any other entry is one broadcast.
    """
    platform_id = str(entry.get("id") or entry.get("link") or "")
    created = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        if dict.get(entry, key):
            created = datetime.fromtimestamp(calendar.timegm(dict.get(entry, key)), tz=UTC)
            break
    if not platform_id or created is None:
        return []
    updated = _entry_time(entry) or created
    title = html_to_text(str(entry.get("title") or ""))
    body_html = _entry_html(entry)
    link = str(entry.get("link") or "")
    raw = json_safe({k: entry.get(k) for k in ("id", "link", "title", "summary", "published", "updated")})
    common = {"platform": PLATFORM, "author_id": feed_url[:128], "author_handle": feed_title[:255] or feed_url[:255],
              "lang": str(entry.get("language") or ""), "url": link}
    updates = statuspage_updates(body_html, around=updated)
    if updates:
        posts = []
        for number, (at, status, body) in enumerate(reversed(updates), start=1):  # oldest first: stable numbers
            label = f"{status} - {body}" if status else body
            posts.append(NormalisedPost(
                platform_id=f"{platform_id}#update-{number}", created_at=at,
                text="\n\n".join(part for part in (title, label) if part),
                raw={**raw, "update": number, "status": status}, **common))
        return posts
    summary = html_to_text(body_html)
    text = "\n\n".join(part for part in (title, summary) if part)
    return [NormalisedPost(platform_id=platform_id, created_at=created, text=text, raw=raw,
                           edited_at=updated if updated > created else None, **common)]


def _entry_html(entry: Any) -> str:
    for content in entry.get("content") or []:
        value = content.get("value") if isinstance(content, dict) else None
        if value:
            return str(value)
    return str(entry.get("summary") or "")


# One update of a Statuspage-style entry: <p><small>WHEN</small><br><strong>STATUS</strong> - BODY</p>
_UPDATE_RE = re.compile(r"<p>\s*<small>(?P<when>.*?)</small>\s*(?:<br\s*/?>)?\s*"
                        r"(?:<strong>(?P<status>.*?)</strong>\s*(?:-|–|—)?\s*)?(?P<body>.*?)</p>", re.S | re.I)
_WHEN_RE = re.compile(r"^(?P<month>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:,?\s+(?P<year>\d{4}))?\s*[,\-–]?\s*"
                      r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<zone>[A-Z]{1,5})?$")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}
# The zones status pages print; an update in any other zone is not guessed at (the entry stays one broadcast).
_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
          "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "IST": 5.5,
          "JST": 9, "AEST": 10, "AEDT": 11}


def statuspage_updates(html: str, *, around: datetime) -> list[tuple[datetime, str, str]]:
    """(time, status, text) of each update written in a Statuspage-style entry, as written (newest first).

    Statuspage leaves the year out ("Mar 12, 08:40 UTC"): it is the one that puts the update closest to the
    entry's own time (``around``). Empty when the entry is not written that way or a time cannot be read.
    """
    updates = []
    for match in _UPDATE_RE.finditer(html or ""):
        when = html_to_text(match.group("when")).replace("\n", " ").strip()
        parsed = _WHEN_RE.match(when)
        if not parsed or parsed.group("month").lower() not in _MONTHS:
            return []
        zone = parsed.group("zone") or "UTC"
        if zone not in _ZONES:
            return []
        years = [int(parsed.group("year"))] if parsed.group("year") else [around.year - 1, around.year,
                                                                          around.year + 1]
        candidates = []
        for year in years:
            try:
                local = datetime(year, _MONTHS[parsed.group("month").lower()], int(parsed.group("day")),
                                 int(parsed.group("hour")), int(parsed.group("minute")), tzinfo=UTC)
            except ValueError:
                continue
            candidates.append(local - timedelta(hours=_ZONES[zone]))
        if not candidates:
            return []
        at = min(candidates, key=lambda c: abs((c - around).total_seconds()))
        status = html_to_text(match.group("status") or "")
        updates.append((at, status, html_to_text(match.group("body"))))
    return updates


class StatusFeedClient:
    platform = PLATFORM
    max_pages = 1  # a feed is one document

    def __init__(self, *, timeout: float | None = None, session: requests.Session | None = None) -> None:
        self.timeout = timeout or http_timeout()
        self.session = session or requests.Session()

    @classmethod
    def from_settings(cls) -> StatusFeedClient:
        return cls()

    def fetch(self, *, kind: str = "status_feed", query: str = "", account_handle: str = "",
              account_user_id: str = "", since_id: str = "", until: str = "", page_budget: int | None = None,
              deadline: float | None = None, not_before: datetime | None = None) -> FetchResult:
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
        times = []
        for entry in parsed.entries:
            seen_at = _entry_time(entry)
            if seen_at is not None:
                times.append(seen_at)
            if seen_at is None or (since is not None and seen_at <= since):
                continue
            # Every update of an entry that changed comes back; those already stored are duplicates.
            entry_posts = entry_to_posts(entry, feed_url=url, feed_title=feed_title)
            if not entry_posts:
                continue
            posts.extend(entry_posts)
            if newest is None or seen_at > newest:
                newest = seen_at
        lost = []
        if since is not None and len(times) >= LOST_CHECK_MIN_ENTRIES and min(times) > since:
            # Nothing read last time is still in the feed: entries may have dropped out of it unread.
            lost.append(LostRange(since, min(times), "the status feed no longer holds the entries read last time; "
                                                     "updates published in between may have dropped out of it"))
        cursor = newest.isoformat().replace("+00:00", "Z") if newest and posts else since_id
        return FetchResult(posts=posts, cursor=cursor, requests_made=1, lost=lost)

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
