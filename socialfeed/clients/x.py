"""X (Twitter API v2) through tweepy.Client: mentions timelines, recent search, official accounts' own posts.

X access is scarce and priced, so this client reads the rate-limit headers of every response, never sleeps on
a 429 (the poller reschedules at the reset time), pages with ``since_id`` and stops at ``MAX_PAGES``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy
from django.conf import settings

from socialfeed.clients.base import (
    FetchResult,
    LostRange,
    NotConfigured,
    SourceError,
    descend,
    epoch_to_utc,
    http_timeout,
    is_newer_id,
    is_numeric_id,
    newest_numeric_id,
    parse_iso_datetime,
)
from socialfeed.normalised import NormalisedPost

PLATFORM = "x"
API_HOST = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "lang",
                "edit_history_tweet_ids", "note_tweet", "entities"]
USER_FIELDS = ["username"]
EXPANSIONS = ["author_id"]
MAX_RESULTS = 100
# Bounded so one poll of a busy search cannot drain the month's read quota; the rest is kept as a gap that the
# next poll resumes (socialfeed.polling), so nothing is skipped.
MAX_PAGES = 5
# Recent search reaches this far back; X refuses a since_id or start_time older than that (400).
SEARCH_WINDOW = timedelta(days=7)
SEARCH_WINDOW_MARGIN = timedelta(minutes=2)
_NOTHING_LEFT = "-"
_WINDOW_START_SAID = re.compile(r"created after (\d{4}-\d\d-\d\dT[\d:.]+Z)")
# X search rejects queries over 512 characters (Basic/Pro recent search).
MAX_QUERY_LENGTH = 512
SNOWFLAKE_EPOCH_MS = 1288834974657


class _HotlineSession(requests.Session):
    """tweepy builds its own requests without a timeout; this session adds one to every call.

    ``api_host`` lets tests point the real tweepy client at a local server (timeouts cannot be recorded).
    """

    def __init__(self, *, timeout: float, api_host: str = API_HOST) -> None:
        super().__init__()
        self.timeout = timeout
        self.api_host = api_host.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        if self.api_host != API_HOST and url.startswith(API_HOST):
            url = self.api_host + url[len(API_HOST):]
        return super().request(method, url, *args, **kwargs)


def _search_window(*, since_id: str, until: str, not_before: datetime | None,
                   window_start: datetime) -> tuple[str, str, datetime | None, list[LostRange]]:
    """Fit a search into X's 7-day window: a cursor older than the window becomes the window's start, and the
    stretch between the two is lost (recorded, never silently skipped)."""
    reason = ("X recent search only reaches 7 days back; posts from before "
              f"{window_start:%Y-%m-%d %H:%M} UTC could not be read")
    lost: list[LostRange] = []
    since_at = snowflake_time(since_id) if is_numeric_id(since_id) else not_before
    until_at = snowflake_time(until) if is_numeric_id(until) else None
    if until_at is not None and until_at <= window_start:
        # Even the rest of an open gap is out of reach now.
        return since_id, _NOTHING_LEFT, None, [LostRange(since_at, until_at, reason)]
    if since_at is not None and since_at < window_start:
        lost.append(LostRange(since_at, window_start, reason))
        return "", until, window_start, lost
    return since_id, until, not_before, lost


def search_query(*, handles: Iterable[str], terms: Iterable[str]) -> str:
    """The recent-search query for a brand: its handles (as mentions) and tracking terms, no reposts.

    >>> search_query(handles=["ondine_mobile"], terms=["ondine down", "#ondinepanne"])
    '(@ondine_mobile OR "ondine down" OR #ondinepanne) -is:retweet'
    """
    parts: list[str] = []
    for handle in handles:
        handle = handle.strip().lstrip("@")
        if handle and f"@{handle}" not in parts:
            parts.append(f"@{handle}")
    for term in terms:
        term = term.strip()
        if not term:
            continue
        # Multi-word terms must be exact phrases, otherwise X ANDs their words anywhere in the post.
        part = f'"{term.replace(chr(34), "")}"' if " " in term else term
        if part not in parts:
            parts.append(part)
    if not parts:
        raise SourceError("Nothing to search for: the brand has no handle or tracking term.", permanent=True)
    query = f"({' OR '.join(parts)}) -is:retweet"
    if len(query) > MAX_QUERY_LENGTH:
        raise SourceError(
            f"The X search query is {len(query)} characters; X accepts at most {MAX_QUERY_LENGTH}. "
            "Split the tracking terms over several sources.",
            permanent=True,
        )
    return query


def snowflake_at(moment: datetime) -> str:
    """The smallest X id created at ``moment``: a since_id that means "after this time"."""
    return str(max(0, int(moment.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS) << 22)


def snowflake_time(tweet_id: str) -> datetime:
    """Creation time encoded in an X id, for payloads that come without created_at."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC)


def tweet_to_post(tweet: dict[str, Any], users: dict[str, dict[str, Any]]) -> NormalisedPost:
    """One API v2 tweet object (with the page's ``includes.users`` by id) as Hotline's post shape.

    - An edited post has a new id per version (``edit_history_tweet_ids``, oldest first, the latest last): it
      stays one post, under its original id, with the latest text; the other ids are its ``aliases``, so a reply
      to any version answers it (METRICS.md §3). Its creation time is the original's.
    - A long post's full text is in ``note_tweet`` (``text`` stops at 280 characters).
    - Links: X writes t.co addresses in the text; their destinations (``entities.urls``) replace them.
    - Mentions: the accounts X lists in ``entities.mentions`` (by id and user name).
    """
    raw_id = str(tweet["id"])
    if not is_numeric_id(raw_id):
        raise ValueError(f"tweet id {raw_id[:40]!r} is not a tweet id (ASCII digits)")
    author_id = str(tweet.get("author_id") or "")
    handle = str(users.get(author_id, {}).get("username") or "")
    in_reply_to_id = ""
    is_repost = False
    for ref in tweet.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to":
            in_reply_to_id = str(ref.get("id") or "")
        elif ref.get("type") == "retweeted":
            is_repost = True
    history = [str(i) for i in tweet.get("edit_history_tweet_ids") or [] if is_numeric_id(str(i))]
    canonical = history[0] if history else raw_id
    aliases = tuple(dict.fromkeys(i for i in [*history, raw_id] if i != canonical))
    created = tweet.get("created_at")
    version_at = parse_iso_datetime(created) if created else snowflake_time(raw_id)
    edited_at = None
    created_at = version_at
    if len(history) > 1:
        created_at = snowflake_time(canonical) if canonical != raw_id else version_at
        edited_at = version_at  # the time of the version carried: an older copy never overwrites a later one
    note = tweet.get("note_tweet") if isinstance(tweet.get("note_tweet"), dict) else {}
    text = str(note.get("text") or tweet.get("text") or "")
    entities = note.get("entities") if note.get("text") else tweet.get("entities")
    mentioned_handles: tuple[str, ...] | None = None
    mentioned_ids: tuple[str, ...] = ()
    if isinstance(entities, dict):
        text = _links_expanded(text, entities.get("urls") or [])
        mentions = [m for m in entities.get("mentions") or [] if isinstance(m, dict)]
        mentioned_handles = tuple(str(m.get("username") or "") for m in mentions if m.get("username"))
        mentioned_ids = tuple(str(m.get("id")) for m in mentions if m.get("id"))
    return NormalisedPost(
        platform=PLATFORM,
        platform_id=canonical,
        author_id=author_id,
        author_handle=handle,
        created_at=created_at,
        text=text,
        lang=str(tweet.get("lang") or ""),
        in_reply_to_id=in_reply_to_id,
        in_reply_to_author_id=str(tweet.get("in_reply_to_user_id") or ""),
        conversation_id=str(tweet.get("conversation_id") or ""),
        is_repost=is_repost,
        url=f"https://x.com/{handle or 'i'}/status/{canonical}",
        raw=tweet,
        edited_at=edited_at,
        aliases=aliases,
        mentioned_handles=mentioned_handles,
        mentioned_ids=mentioned_ids,
    )


def _links_expanded(text: str, urls: list[Any]) -> str:
    for entity in urls:
        if not isinstance(entity, dict):
            continue
        short = str(entity.get("url") or "")
        target = str(entity.get("unwound_url") or entity.get("expanded_url") or "")
        if short and target.startswith(("http://", "https://")):
            text = text.replace(short, target)
    return text


def _http_error_message(exc: tweepy.HTTPException) -> str:
    detail = "; ".join(str(m) for m in exc.api_messages) or exc.response.reason or ""
    return f"X answered {exc.response.status_code}{': ' + detail if detail else ''}"


class XClient:
    platform = PLATFORM

    def __init__(self, *, bearer_token: str, timeout: float | None = None, api_host: str = API_HOST,
                 max_pages: int = MAX_PAGES, now: Callable[[], datetime] | None = None) -> None:
        if not bearer_token:
            raise NotConfigured(PLATFORM, ["X_BEARER_TOKEN"])
        self.max_pages = max_pages
        self.now = now or (lambda: datetime.now(tz=UTC))  # where the 7-day search window starts
        self.api = tweepy.Client(bearer_token=bearer_token, return_type=requests.Response,
                                 wait_on_rate_limit=False)
        self.api.session = _HotlineSession(timeout=timeout or http_timeout(), api_host=api_host)

    @classmethod
    def from_settings(cls) -> XClient:
        return cls(bearer_token=settings.X_BEARER_TOKEN, api_host=settings.X_API_BASE_URL or API_HOST)

    def fetch(self, *, kind: str, query: str = "", account_handle: str = "", account_user_id: str = "",
              since_id: str = "", until: str = "", page_budget: int | None = None, deadline: float | None = None,
              not_before: datetime | None = None) -> FetchResult:
        """Page newest first from the top (or from ``until``, exclusive, when resuming a gap) back to ``since_id``.

        Recent search only reaches 7 days back: a ``since_id`` older than that is replaced by the window's start
        and the stretch before it is reported as lost (``FetchResult.lost``) instead of failing the source.
        """
        common: dict[str, Any] = {"tweet_fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user_fields": USER_FIELDS,
                                  "max_results": MAX_RESULTS}
        budget = self.max_pages if page_budget is None else page_budget
        lost: list[LostRange] = []
        learnt_user_id = ""
        if kind == "search":
            if not query:
                raise SourceError("An X search source needs a query.", permanent=True)
            window_start = self.now() - SEARCH_WINDOW + SEARCH_WINDOW_MARGIN
            since_id, until, not_before, lost = _search_window(since_id=since_id, until=until,
                                                               not_before=not_before, window_start=window_start)
            if until == _NOTHING_LEFT:
                return FetchResult(posts=[], cursor=since_id, complete=True, lost=lost)
            if lost:
                not_before = window_start
            method, first_arg, token_param = self.api.search_recent_tweets, query, "next_token"
        elif kind in ("mentions", "account_posts"):
            user_id = account_user_id
            if not user_id:
                user_id = learnt_user_id = self._user_id(account_handle)  # stored by the poller, asked once
            method = self.api.get_users_mentions if kind == "mentions" else self.api.get_users_tweets
            first_arg, token_param = user_id, "pagination_token"
        else:
            raise SourceError(f"X sources cannot follow {kind!r}; use mentions, search or account_posts.",
                              permanent=True)
        if since_id:
            common["since_id"] = since_id
        elif not_before is not None:
            common["start_time"] = not_before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if until:
            common["until_id"] = until
        floor = since_id or (snowflake_at(not_before) if not_before is not None else "")
        try:
            result = self._paged(method, first_arg, token_param=token_param, since_id=since_id, floor=floor,
                                 params=common, budget=max(budget, 0), deadline=deadline)
        except SourceError as exc:
            if not (kind == "search" and since_id and exc.permanent and "since_id" in str(exc)):
                raise
            # X's clock and ours disagree on where the window starts: read from X's start (its message says
            # where: "'since_id' must be a tweet id created after <time>"), record the rest as lost.
            said = _WINDOW_START_SAID.search(str(exc))
            try:
                window_start = parse_iso_datetime(said.group(1)) if said else window_start + 4 * SEARCH_WINDOW_MARGIN
            except ValueError:
                window_start += 4 * SEARCH_WINDOW_MARGIN
            window_start += SEARCH_WINDOW_MARGIN
            lost.append(LostRange(snowflake_time(since_id), window_start, f"{exc}; read from the 7-day window's start"))
            common.pop("since_id", None)
            common["start_time"] = window_start.strftime("%Y-%m-%dT%H:%M:%SZ")
            result = self._paged(method, first_arg, token_param=token_param, since_id="",
                                 floor=snowflake_at(window_start), params=common, budget=max(budget - 1, 0),
                                 deadline=deadline)
            result.requests_made += 1
        result.lost = lost + result.lost
        result.account_user_id = learnt_user_id
        result.requests_made += 1 if learnt_user_id else 0
        if not result.complete and not result.resume:
            result.resume = until  # nothing read: resume where this fetch was asked to
        return result

    def _user_id(self, handle: str) -> str:
        if not handle:
            raise SourceError("This X source needs the official account's handle or user id.", permanent=True)
        response = self._call(self.api.get_user, username=handle.lstrip("@"))
        payload = self._json(response)
        user_id = str((payload.get("data") or {}).get("id") or "")
        if not user_id:
            raise SourceError(f"X has no user @{handle}.", permanent=True)
        return user_id

    def _paged(self, method: Any, first_arg: str, *, token_param: str, since_id: str, floor: str,
               params: dict[str, Any], budget: int, deadline: float | None) -> FetchResult:
        state: dict[str, Any] = {"remaining": None, "reset": None}

        def page(token: str | None) -> tuple[list[tuple[dict, dict]], str | None, bool]:
            page_params = dict(params)
            if token:
                page_params[token_param] = token
            try:
                response = self._call(method, first_arg, **page_params)
            except SourceError as exc:
                if exc.retry_at is not None:
                    state["remaining"], state["reset"] = 0, exc.retry_at
                raise
            state["remaining"], state["reset"] = _rate_limit(response)
            payload = self._json(response)
            users = {str(u.get("id")): u for u in (payload.get("includes") or {}).get("users") or []}
            tweets = []
            for tweet in payload.get("data") or []:
                if not isinstance(tweet, dict) or "id" not in tweet:
                    raise SourceError("X sent a tweet without an id; the page was not stored.")
                if not is_numeric_id(str(tweet["id"])):
                    raise SourceError(f"X sent a tweet whose id {str(tweet['id'])[:40]!r} is not a number; "
                                      "the page was not stored.")
                tweets.append((tweet, users))
            token = str((payload.get("meta") or {}).get("next_token") or "") or None
            return tweets, token, state["remaining"] == 0

        # X honours since_id, but a replayed or raced page must never move the cursor backwards.
        descent = descend(page, reached=lambda item: not is_newer_id(str(item[0]["id"]), since_id),
                          max_pages=budget, deadline=deadline)
        posts = [tweet_to_post(tweet, users) for tweet, users in descent.items]
        raw_ids = [str(tweet["id"]) for tweet, _users in descent.items]
        notes = []
        if not descent.complete:
            notes.append({"pages": f"stopped after {descent.pages} pages", "time": "stopped: poll time bound",
                          "rate limit": "stopped paging: rate limit reached",
                          "error": f"stopped: {descent.error}"}.get(descent.stopped_by, "stopped"))
        # The oldest id read is where the next poll resumes (until_id is exclusive).
        resume = min(raw_ids, key=int) if raw_ids and not descent.complete else ""
        # ``floor``: the cursor when nothing newer came in (the window's start when the old cursor was out of reach).
        return FetchResult(posts=posts, cursor=newest_numeric_id(raw_ids, floor),
                           rate_limit_remaining=state["remaining"], rate_limit_reset=state["reset"],
                           requests_made=descent.pages, notes=notes, complete=descent.complete, resume=resume,
                           error=descent.error)

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> requests.Response:
        try:
            return method(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            _remaining, reset = _rate_limit(exc.response)
            raise SourceError(
                f"X rate limit reached; it resets at {reset.isoformat() if reset else 'an unknown time'}.",
                retry_at=reset,
            ) from exc
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise SourceError(f"{_http_error_message(exc)}. Check X_BEARER_TOKEN and the app's access level.",
                              permanent=True) from exc
        except (tweepy.BadRequest, tweepy.NotFound) as exc:
            raise SourceError(f"{_http_error_message(exc)}. Check the source's query or account.",
                              permanent=True) from exc
        except tweepy.TwitterServerError as exc:
            raise SourceError(f"{_http_error_message(exc)}; will retry.") from exc
        except tweepy.HTTPException as exc:
            status = exc.response.status_code
            raise SourceError(_http_error_message(exc), permanent=400 <= status < 500) from exc
        except requests.Timeout as exc:
            raise SourceError(f"X did not answer within {self.api.session.timeout:g} s; will retry.") from exc
        except requests.RequestException as exc:
            raise SourceError(f"Could not reach X: {exc}; will retry.") from exc

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            payload = response.json()
        except (ValueError, json.JSONDecodeError) as exc:
            raise SourceError(
                f"X sent a malformed page (not JSON, status {response.status_code}, "
                f"{len(response.content)} bytes); nothing was stored."
            ) from exc
        if not isinstance(payload, dict):
            raise SourceError("X sent a malformed page (JSON but not an object); nothing was stored.")
        return payload


def _rate_limit(response: requests.Response | None) -> tuple[int | None, datetime | None]:
    if response is None:
        return None, None
    remaining_header = response.headers.get("x-rate-limit-remaining")
    try:
        remaining = int(remaining_header) if remaining_header is not None else None
    except ValueError:
        remaining = None
    return remaining, epoch_to_utc(response.headers.get("x-rate-limit-reset"))
