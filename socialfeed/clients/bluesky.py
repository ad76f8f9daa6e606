"""Bluesky through the atproto SDK: searchPosts for a brand's handles and terms, official accounts' author feeds.

Bluesky search pages by time, not by id, so the cursor is the newest ``indexedAt`` seen (ISO-8601) and posts
not newer than it are dropped. The reply ``root`` is the conversation, the reply ``parent`` what it answers.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from atproto import Client
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request
from django.conf import settings

from socialfeed.clients.base import (
    FetchResult,
    NotConfigured,
    SourceError,
    epoch_to_utc,
    http_timeout,
    json_safe,
    parse_iso_datetime,
)
from socialfeed.normalised import NormalisedPost

PLATFORM = "bluesky"
DEFAULT_SERVICE = "https://bsky.social"
PAGE_SIZE = 100
MAX_PAGES = 5


def _get(obj: Any, *names: str) -> Any:
    """Read a field from an SDK model or a plain dict (unknown record types stay dicts), camel or snake."""
    for name in names:
        if obj is None:
            return None
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def post_url(*, handle: str, uri: str) -> str:
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    return f"https://bsky.app/profile/{handle}/post/{rkey}"


def post_view_to_post(view: Any) -> NormalisedPost:
    """An app.bsky.feed.defs#postView as Hotline's post shape."""
    uri = str(_get(view, "uri") or "")
    if not uri.startswith("at://"):
        raise SourceError("Bluesky sent a post without an at:// uri; nothing was stored.")
    author = _get(view, "author")
    record = _get(view, "record")
    handle = str(_get(author, "handle") or "")
    reply = _get(record, "reply")
    created = _get(record, "created_at", "createdAt") or _get(view, "indexed_at", "indexedAt")
    langs = _get(record, "langs") or []
    raw = view.model_dump(mode="json", by_alias=True, exclude_none=True) if hasattr(view, "model_dump") else view
    return NormalisedPost(
        platform=PLATFORM,
        platform_id=uri,
        author_id=str(_get(author, "did") or ""),
        author_handle=handle,
        created_at=parse_iso_datetime(str(created)),
        text=str(_get(record, "text") or ""),
        lang=str(langs[0]) if langs else "",
        in_reply_to_id=str(_get(_get(reply, "parent"), "uri") or ""),
        # Bluesky names the author of the parent only by the DID inside its uri.
        in_reply_to_author_id=_did_of(str(_get(_get(reply, "parent"), "uri") or "")),
        conversation_id=str(_get(_get(reply, "root"), "uri") or ""),
        is_repost=False,
        url=post_url(handle=handle or str(_get(author, "did") or ""), uri=uri),
        raw=json_safe(raw) if isinstance(raw, dict) else {},
    )


def _did_of(uri: str) -> str:
    if not uri.startswith("at://"):
        return ""
    return uri[len("at://"):].split("/", 1)[0]


def _sort_key(view: Any) -> datetime:
    return parse_iso_datetime(str(_get(view, "indexed_at", "indexedAt") or _get(_get(view, "record"),
                                                                                 "created_at", "createdAt")))


class BlueskyClient:
    platform = PLATFORM

    def __init__(self, *, handle: str, app_password: str, base_url: str = DEFAULT_SERVICE,
                 timeout: float | None = None, max_pages: int = MAX_PAGES) -> None:
        missing = [name for name, value in (("BLUESKY_HANDLE", handle), ("BLUESKY_APP_PASSWORD", app_password))
                   if not value]
        if missing:
            raise NotConfigured(PLATFORM, missing)
        self.handle = handle
        self.app_password = app_password
        self.timeout = timeout or http_timeout()
        self.max_pages = max_pages
        self.api = Client(base_url=base_url, request=Request(timeout=self.timeout))
        self._logged_in = False

    @classmethod
    def from_settings(cls) -> BlueskyClient:
        return cls(handle=settings.BLUESKY_HANDLE, app_password=settings.BLUESKY_APP_PASSWORD,
                   base_url=getattr(settings, "BLUESKY_SERVICE_URL", "") or DEFAULT_SERVICE)

    def fetch(self, *, kind: str, query: str = "", account_handle: str = "", account_user_id: str = "",
              since_id: str = "") -> FetchResult:
        since = parse_iso_datetime(since_id) if since_id else None
        self._login()
        requests_made = 1
        if kind in ("search", "mentions", "hashtag"):
            q = query.strip() or (f"@{account_handle.lstrip('@')}" if account_handle else "")
            if not q:
                raise SourceError("A Bluesky search needs a query or the official account's handle.",
                                  permanent=True)
            params: dict[str, Any] = {"q": q, "sort": "latest", "limit": PAGE_SIZE}
            if since_id:
                params["since"] = since_id

            def page(cursor: str | None) -> tuple[list[Any], str | None]:
                response = self._call(lambda: self.api.app.bsky.feed.search_posts(
                    params={**params, **({"cursor": cursor} if cursor else {})}))
                return list(response.posts or []), response.cursor
        elif kind == "account_posts":
            actor = account_user_id or account_handle.lstrip("@")
            if not actor:
                raise SourceError("A Bluesky author feed needs the official account's handle or DID.",
                                  permanent=True)

            def page(cursor: str | None) -> tuple[list[Any], str | None]:
                p: dict[str, Any] = {"actor": actor, "limit": PAGE_SIZE, "filter": "posts_with_replies"}
                if cursor:
                    p["cursor"] = cursor
                response = self._call(lambda: self.api.app.bsky.feed.get_author_feed(params=p))
                # Reposts carry someone else's post under its own uri: storing them here would claim the
                # original author's words as the brand's own post. They are skipped.
                views = [item.post for item in response.feed or [] if not _get(item, "reason")]
                return views, response.cursor
        else:
            raise SourceError(f"Bluesky sources cannot follow {kind!r}.", permanent=True)

        views: list[Any] = []
        seen_cursors: set[str] = set()
        cursor: str | None = None
        for _ in range(self.max_pages):
            batch, cursor = page(cursor)
            requests_made += 1
            views.extend(batch)
            older_than_since = since is not None and any(_sort_key(v) <= since for v in batch)
            if not cursor or cursor in seen_cursors or not batch or older_than_since:
                break
            seen_cursors.add(cursor)

        posts: list[NormalisedPost] = []
        newest = since
        seen_uris: set[str] = set()
        for view in views:
            try:
                sort_at = _sort_key(view)
            except (TypeError, ValueError) as exc:
                raise SourceError("Bluesky sent a post without a readable time; nothing was stored.") from exc
            if since is not None and sort_at <= since:
                continue
            post = post_view_to_post(view)
            if post.platform_id in seen_uris:
                continue
            seen_uris.add(post.platform_id)
            posts.append(post)
            if newest is None or sort_at > newest:
                newest = sort_at
        cursor_out = newest.isoformat().replace("+00:00", "Z") if newest else since_id
        return FetchResult(posts=posts, cursor=cursor_out if posts else since_id, requests_made=requests_made)

    def _login(self) -> None:
        if self._logged_in:
            return
        self._call(lambda: self.api.login(self.handle, self.app_password, fetch_bsky_profile=False),
                   during_login=True)
        self._logged_in = True

    def _call(self, call: Any, *, during_login: bool = False) -> Any:
        try:
            return call()
        except RateLimitExceededError as exc:
            retry_at = exc.reset_at or epoch_to_utc(exc._get_header("ratelimit-reset"))
            when = retry_at.isoformat() if retry_at else "an unknown time"
            raise SourceError(f"Bluesky rate limit reached; it resets at {when}.", retry_at=retry_at) from exc
        except (UnauthorizedError, LoginRequiredError) as exc:
            what = "login" if during_login else "request"
            raise SourceError(f"Bluesky refused the {what} ({exc}). Check BLUESKY_HANDLE and "
                              "BLUESKY_APP_PASSWORD.", permanent=True) from exc
        except BadRequestError as exc:
            raise SourceError(f"Bluesky rejected the request ({exc}). Check the source's query or account.",
                              permanent=True) from exc
        except InvokeTimeoutError as exc:
            raise SourceError(f"Bluesky did not answer within {self.timeout:g} s; will retry.") from exc
        except NetworkError as exc:
            raise SourceError(f"Could not reach Bluesky ({exc}); will retry.") from exc
        except RequestException as exc:
            status = exc.response.status_code if exc.response is not None else None
            permanent = status is not None and 400 <= status < 500
            raise SourceError(f"Bluesky answered {status} ({exc}){'' if permanent else '; will retry'}.",
                              permanent=permanent) from exc
        except (ModelError, ValueError) as exc:
            # pydantic's ValidationError is a ValueError: the payload does not match the lexicon.
            raise SourceError(f"Bluesky sent a malformed response; nothing was stored ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0]}).") from exc
        except AtProtocolError as exc:
            raise SourceError(f"Bluesky request failed: {exc}") from exc
