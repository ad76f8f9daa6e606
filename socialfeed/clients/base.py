"""What every platform client shares: the one error type, the result of one fetch, and configuration checks.

Every outgoing call goes through one small client per platform (STYLE.md, "from healthchecks"): timeouts on
every request, and one error type, ``SourceError``, that tells the poller whether retrying can help.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Protocol

from django.conf import settings

from socialfeed.normalised import NormalisedPost


class SourceError(Exception):
    """A fetch failed. ``permanent`` means retrying cannot help (4xx, auth, bad query): the source stops.

    ``retry_at`` is set for rate limits (429): the poller waits until then instead of backing off blindly.
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_at = retry_at

    def __str__(self) -> str:
        return self.message


class NotConfigured(Exception):
    """The platform's credentials are missing; ``needs`` names the settings to set (e.g. X_BEARER_TOKEN)."""

    def __init__(self, platform: str, needs: list[str]) -> None:
        self.platform = platform
        self.needs = list(needs)
        super().__init__(f"{platform} is not configured: set {', '.join(self.needs)}")


@dataclass(frozen=True)
class LostRange:
    """Posts the platform can no longer give (X recent search reaches 7 days back; a status feed holds its last
    entries only): recorded on the source as a gap that cannot be filled."""

    starts_at: datetime | None
    ends_at: datetime | None
    reason: str


@dataclass
class FetchResult:
    """What one fetch brought back.

    ``cursor`` is the newest position (id, or time for Bluesky, feeds and Reddit) seen, to pass back as
    ``since_id`` next time; it is the ``since_id`` given when nothing new came in.

    ``complete`` says the fetch paged all the way back to ``since_id`` (or to the end of what the platform
    serves). When it stopped first (page budget, rate limit, time bound, a page that failed after others came
    in), ``resume`` is where the next fetch continues the descent, passed back as ``until``. ``error`` is the
    failure that stopped it, if any: the posts before it are kept. ``account_user_id`` is the official
    account's platform id when the client had to look it up, so that it is stored once.
    """

    posts: list[NormalisedPost]
    cursor: str
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None
    requests_made: int = 0
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    resume: str = ""
    lost: list[LostRange] = field(default_factory=list)
    error: SourceError | None = None
    account_user_id: str = ""


class PlatformClient(Protocol):
    platform: str
    max_pages: int

    def fetch(self, *, kind: str, query: str, account_handle: str, account_user_id: str,
              since_id: str, until: str = "", page_budget: int | None = None, deadline: float | None = None,
              not_before: datetime | None = None) -> FetchResult: ...


@dataclass
class Descent:
    """What ``descend`` read: items newest first, whether it reached the cursor, and why it stopped if not."""

    items: list[Any]
    complete: bool
    pages: int
    last_token: str | None = None
    error: SourceError | None = None
    stopped_by: str = ""  # "pages", "time", "rate limit" or "error" when not complete


def descend(fetch_page: Callable[[str | None], tuple[list[Any], str | None, bool]], *,
            reached: Callable[[Any], bool], max_pages: int, deadline: float | None = None,
            first_token: str | None = None) -> Descent:
    """Page a newest-first listing back until it reaches the cursor (``reached(item)``), runs out of pages, or
    the page budget, the time bound or the rate limit stops it first.

    ``fetch_page(token)`` returns (items, token of the next older page or None at the end, rate limit spent).
    A page that fails after others came in ends the descent with ``error`` set: what was read is kept, and the
    caller resumes from it next time. A failure on the first page is raised as it is.
    """
    items: list[Any] = []
    seen_tokens: set[str] = set()
    token = first_token
    pages = 0
    while True:
        if pages >= max_pages:
            return Descent(items, False, pages, token, stopped_by="pages")
        if deadline is not None and pages and time.monotonic() > deadline:
            return Descent(items, False, pages, token, stopped_by="time")
        try:
            batch, next_token, spent = fetch_page(token)
        except SourceError as exc:
            if not pages:
                raise
            return Descent(items, False, pages, token, error=exc, stopped_by="error")
        pages += 1
        kept = [item for item in batch if not reached(item)]
        items.extend(kept)
        if len(kept) < len(batch) or not batch or not next_token or next_token in seen_tokens:
            # Reached the cursor, an empty page, the end of the listing, or a token already followed (never pay
            # for the same page twice).
            return Descent(items, True, pages, next_token)
        seen_tokens.add(next_token)
        token = next_token
        if spent:
            return Descent(items, False, pages, token, stopped_by="rate limit")


# The settings each platform needs.# The settings each platform needs. Mastodon's token is optional for public timelines, required for mentions.
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "x": ("X_BEARER_TOKEN",),
    "mastodon": ("MASTODON_API_BASE_URL",),
    "bluesky": ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD"),
    "feed": (),
    "reddit": ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT"),
}


def missing_settings(platform: str) -> list[str]:
    if platform not in REQUIRED_SETTINGS:
        raise ValueError(f"Hotline has no client for platform {platform!r}")
    return [name for name in REQUIRED_SETTINGS[platform] if not getattr(settings, name, "")]


def configuration_status(platform: str) -> tuple[bool, str]:
    """(True, "configured") or (False, "not configured: needs X_BEARER_TOKEN") for the source's page."""
    try:
        missing = missing_settings(platform)
    except ValueError as exc:
        return False, str(exc)
    if missing:
        return False, f"not configured: needs {', '.join(missing)}"
    return True, "configured"


def http_timeout() -> float:
    return float(settings.HTTP_TIMEOUT_SECONDS)


def utc(value: datetime) -> datetime:
    """Platforms send offsets or naive UTC; Hotline stores timezone-aware UTC (METRICS.md §1)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso_datetime(value: str) -> datetime:
    """ISO-8601 with "Z" or an offset, as X, Mastodon and Bluesky write it."""
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def epoch_to_utc(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(float(value)), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def json_safe(value: Any) -> Any:
    """Platform payloads as plain JSON for Post.raw (library objects carry datetimes)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class _TextExtractor(HTMLParser):
    """Collects text only; tags, scripts and styles are dropped, never interpreted."""

    _BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BREAKS and tag != "br":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text from post HTML: tags stripped, paragraphs and <br> kept as line breaks, entities decoded."""
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def is_numeric_id(value: str) -> bool:
    """An X or Mastodon id: ASCII digits only. ``str.isdigit()`` alone also takes "²" or "٣", which ``int()``
    then refuses or reads as another number."""
    return bool(value) and value.isascii() and value.isdigit()


def newest_numeric_id(ids: list[str], since_id: str) -> str:
    """The largest snowflake id among ``ids`` and ``since_id`` (X and Mastodon ids grow with time)."""
    candidates = [i for i in [*ids, since_id] if is_numeric_id(i)]
    if not candidates:
        return since_id
    return max(candidates, key=int)


def is_newer_id(candidate: str, since_id: str) -> bool:
    if not is_numeric_id(since_id) or not is_numeric_id(candidate):
        return True
    return int(candidate) > int(since_id)
