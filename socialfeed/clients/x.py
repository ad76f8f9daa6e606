"""X (Twitter API v2) through tweepy.Client: mentions timelines, recent search, official accounts' own posts.

X access is scarce and priced, so this client reads the rate-limit headers of every response, never sleeps on
a 429 (the poller reschedules at the reset time), pages with ``since_id`` and stops at ``MAX_PAGES``.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy
from django.conf import settings

from socialfeed.clients.base import (
    FetchResult,
    NotConfigured,
    SourceError,
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
TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "lang"]
USER_FIELDS = ["username"]
EXPANSIONS = ["author_id"]
MAX_RESULTS = 100
# Bounded so one poll of a busy search cannot drain the month's read quota; the rest comes next poll.
MAX_PAGES = 5
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


def snowflake_time(tweet_id: str) -> datetime:
    """Creation time encoded in an X id, for payloads that come without created_at."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC)


def tweet_to_post(tweet: dict[str, Any], users: dict[str, dict[str, Any]]) -> NormalisedPost:
    """One API v2 tweet object (with the page's ``includes.users`` by id) as Hotline's post shape."""
    tweet_id = str(tweet["id"])
    if not is_numeric_id(tweet_id):
        raise ValueError(f"tweet id {tweet_id[:40]!r} is not a tweet id (ASCII digits)")
    author_id = str(tweet.get("author_id") or "")
    handle = str(users.get(author_id, {}).get("username") or "")
    in_reply_to_id = ""
    is_repost = False
    for ref in tweet.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to":
            in_reply_to_id = str(ref.get("id") or "")
        elif ref.get("type") == "retweeted":
            is_repost = True
    created = tweet.get("created_at")
    return NormalisedPost(
        platform=PLATFORM,
        platform_id=tweet_id,
        author_id=author_id,
        author_handle=handle,
        created_at=parse_iso_datetime(created) if created else snowflake_time(tweet_id),
        text=str(tweet.get("text") or ""),
        lang=str(tweet.get("lang") or ""),
        in_reply_to_id=in_reply_to_id,
        in_reply_to_author_id=str(tweet.get("in_reply_to_user_id") or ""),
        conversation_id=str(tweet.get("conversation_id") or ""),
        is_repost=is_repost,
        url=f"https://x.com/{handle or 'i'}/status/{tweet_id}",
        raw=tweet,
    )


def _http_error_message(exc: tweepy.HTTPException) -> str:
    detail = "; ".join(str(m) for m in exc.api_messages) or exc.response.reason or ""
    return f"X answered {exc.response.status_code}{': ' + detail if detail else ''}"


class XClient:
    platform = PLATFORM

    def __init__(self, *, bearer_token: str, timeout: float | None = None, api_host: str = API_HOST,
                 max_pages: int = MAX_PAGES) -> None:
        if not bearer_token:
            raise NotConfigured(PLATFORM, ["X_BEARER_TOKEN"])
        self.max_pages = max_pages
        self.api = tweepy.Client(bearer_token=bearer_token, return_type=requests.Response,
                                 wait_on_rate_limit=False)
        self.api.session = _HotlineSession(timeout=timeout or http_timeout(), api_host=api_host)

    @classmethod
    def from_settings(cls) -> XClient:
        return cls(bearer_token=settings.X_BEARER_TOKEN)

    def fetch(self, *, kind: str, query: str = "", account_handle: str = "", account_user_id: str = "",
              since_id: str = "") -> FetchResult:
        common = {"tweet_fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user_fields": USER_FIELDS,
                  "max_results": MAX_RESULTS}
        if since_id:
            common["since_id"] = since_id
        if kind == "search":
            if not query:
                raise SourceError("An X search source needs a query.", permanent=True)
            return self._paged(self.api.search_recent_tweets, query, token_param="next_token",
                               since_id=since_id, params=common)
        if kind in ("mentions", "account_posts"):
            user_id = account_user_id or self._user_id(account_handle)
            method = self.api.get_users_mentions if kind == "mentions" else self.api.get_users_tweets
            return self._paged(method, user_id, token_param="pagination_token", since_id=since_id,
                               params=common)
        raise SourceError(f"X sources cannot follow {kind!r}; use mentions, search or account_posts.",
                          permanent=True)

    def _user_id(self, handle: str) -> str:
        if not handle:
            raise SourceError("This X source needs the official account's handle or user id.", permanent=True)
        response = self._call(self.api.get_user, username=handle.lstrip("@"))
        payload = self._json(response)
        user_id = str((payload.get("data") or {}).get("id") or "")
        if not user_id:
            raise SourceError(f"X has no user @{handle}.", permanent=True)
        return user_id

    def _paged(self, method: Any, first_arg: str, *, token_param: str, since_id: str,
               params: dict[str, Any]) -> FetchResult:
        posts: list[NormalisedPost] = []
        seen_tokens: set[str] = set()
        token = ""
        remaining: int | None = None
        reset: datetime | None = None
        requests_made = 0
        notes: list[str] = []
        for _page in range(self.max_pages):
            page_params = dict(params)
            if token:
                page_params[token_param] = token
            response = self._call(method, first_arg, **page_params)
            requests_made += 1
            remaining, reset = _rate_limit(response)
            payload = self._json(response)
            users = {str(u.get("id")): u for u in (payload.get("includes") or {}).get("users") or []}
            for tweet in payload.get("data") or []:
                if not isinstance(tweet, dict) or "id" not in tweet:
                    raise SourceError("X sent a tweet without an id; the page was not stored.")
                if not is_numeric_id(str(tweet["id"])):
                    raise SourceError(f"X sent a tweet whose id {str(tweet['id'])[:40]!r} is not a number; "
                                      "the page was not stored.")
                # X honours since_id, but a replayed or raced page must never move the cursor backwards.
                if is_newer_id(str(tweet["id"]), since_id):
                    posts.append(tweet_to_post(tweet, users))
            token = str((payload.get("meta") or {}).get("next_token") or "")
            if not token:
                break
            if token in seen_tokens:
                # Never pay for the same page twice, even if X hands back a token we already followed.
                break
            seen_tokens.add(token)
            if remaining == 0:
                notes.append("stopped paging: rate limit reached")
                break
        else:
            if token:
                notes.append(f"stopped after {self.max_pages} pages; older posts come next poll")
        cursor = newest_numeric_id([p.platform_id for p in posts], since_id)
        return FetchResult(posts=posts, cursor=cursor, rate_limit_remaining=remaining, rate_limit_reset=reset,
                           requests_made=requests_made, notes=notes)

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
