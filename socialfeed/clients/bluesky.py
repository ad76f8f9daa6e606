"""Bluesky through the atproto SDK: the official account's notifications (mentions, replies, quotes), search
(with the ``mentions`` filter for other accounts' mentions), official accounts' author feeds.

Search pages by time: the cursor is the newest ``sortAt`` seen (the earlier of createdAt and indexedAt, what
search's ``since`` / ``until`` filter on); notifications and author feeds by the platform's own cursor. A post's
time is its ``createdAt`` unless that is more than 2 minutes from ``indexedAt``. The reply ``root`` is the
conversation, the reply ``parent`` what it answers. One login is kept and refreshed across polls.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
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
from django.core.cache import cache

from socialfeed.clients.base import (
    FetchResult,
    NotConfigured,
    SourceError,
    descend,
    epoch_to_utc,
    http_timeout,
    json_safe,
    parse_iso_datetime,
)
from socialfeed.normalised import NormalisedPost

logger = logging.getLogger(__name__)

PLATFORM = "bluesky"
DEFAULT_SERVICE = "https://bsky.social"
PAGE_SIZE = 100
MAX_PAGES = 5
# What Bluesky's own guidance calls a reasonable clock-skew window between createdAt and indexedAt.
CLOCK_SKEW = timedelta(minutes=2)
# Notifications that are posts addressed to the account (replies and quotes of its posts included).
MENTION_REASONS = ("mention", "reply", "quote")
SESSION_KEPT_SECONDS = 30 * 24 * 3600


def _cache_get(key: str) -> str | None:
    try:
        return cache.get(key)
    except Exception:
        return None


def _cache_set(key: str, value: str) -> None:
    cache.set(key, value, SESSION_KEPT_SECONDS)


def _cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        pass


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
    """An app.bsky.feed.defs#postView (or a notification, which carries the same uri, author, record and
    indexedAt) as Hotline's post shape.

    The post's time is its ``createdAt`` unless that is more than ``CLOCK_SKEW`` away from ``indexedAt`` (when
    Bluesky first saw it): clients may write any ``createdAt``, and a backdated or future one would put a
    complaint outside the outage or give a brand a negative response time. The declared value stays in ``raw``.
    """
    uri = str(_get(view, "uri") or "")
    if not uri.startswith("at://"):
        raise SourceError("Bluesky sent a post without an at:// uri; nothing was stored.")
    author = _get(view, "author")
    record = _get(view, "record")
    handle = str(_get(author, "handle") or "")
    reply = _get(record, "reply")
    langs = _get(record, "langs") or []
    raw = view.model_dump(mode="json", by_alias=True, exclude_none=True) if hasattr(view, "model_dump") else view
    return NormalisedPost(
        platform=PLATFORM,
        platform_id=uri,
        author_id=str(_get(author, "did") or ""),
        author_handle=handle,
        created_at=trusted_time(view),
        text=str(_get(record, "text") or ""),
        lang=str(langs[0]) if langs else "",
        in_reply_to_id=str(_get(_get(reply, "parent"), "uri") or ""),
        # Bluesky names the author of the parent only by the DID inside its uri.
        in_reply_to_author_id=_did_of(str(_get(_get(reply, "parent"), "uri") or "")),
        conversation_id=str(_get(_get(reply, "root"), "uri") or ""),
        is_repost=False,
        url=post_url(handle=handle or str(_get(author, "did") or ""), uri=uri),
        raw=json_safe(raw) if isinstance(raw, dict) else {},
        mentioned_ids=tuple(_facet_mentions(record)),
    )


def _facet_mentions(record: Any) -> list[str]:
    """DIDs of the accounts a post mentions, from its rich-text facets (what the app links as @handle)."""
    dids = []
    for facet in _get(record, "facets") or []:
        for feature in _get(facet, "features") or []:
            kind = _get(feature, "py_type", "$type") or ""
            did = _get(feature, "did")
            if did and str(kind).endswith("#mention"):
                dids.append(str(did))
    return dids


def _did_of(uri: str) -> str:
    if not uri.startswith("at://"):
        return ""
    return uri[len("at://"):].split("/", 1)[0]


def _times(view: Any) -> tuple[datetime | None, datetime | None]:
    created = indexed = None
    raw_created = _get(_get(view, "record"), "created_at", "createdAt")
    raw_indexed = _get(view, "indexed_at", "indexedAt")
    try:
        created = parse_iso_datetime(str(raw_created)) if raw_created else None
    except (TypeError, ValueError, OverflowError):
        created = None
    try:
        indexed = parse_iso_datetime(str(raw_indexed)) if raw_indexed else None
    except (TypeError, ValueError, OverflowError):
        indexed = None
    return created, indexed


def trusted_time(view: Any) -> datetime:
    created, indexed = _times(view)
    if indexed is None and created is None:
        raise SourceError("Bluesky sent a post without a readable time; nothing was stored.")
    if indexed is None:
        return created
    if created is None or abs(created - indexed) > CLOCK_SKEW:
        return indexed
    return created


def sort_at(view: Any) -> datetime:
    """Bluesky's own ``sortAt``: the earlier of createdAt and indexedAt, what search's since/until filter on."""
    created, indexed = _times(view)
    known = [t for t in (created, indexed) if t is not None]
    if not known:
        raise SourceError("Bluesky sent a post without a readable time; nothing was stored.")
    return min(known)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _session_key(service: str, handle: str) -> str:
    return f"hotline:bluesky:session:{service.rstrip('/')}:{handle.lower().lstrip('@')}"


class BlueskyClient:
    """One Bluesky login kept and refreshed across polls and workers.

    Bluesky allows 30 logins per 5 minutes and 300 a day per account: the session (access and refresh tokens)
    is kept in Hotline's cache (Redis when configured) and refreshed by the SDK when its access token expires;
    the password is sent again only when no session is kept or the kept one is refused.
    """

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
        self.session_key = _session_key(base_url, handle)
        self.api.on_session_change(self._session_changed)
        self._logged_in = False
        self._imported = False  # the session came from the cache, not from a login of this client

    @classmethod
    def from_settings(cls) -> BlueskyClient:
        return cls(handle=settings.BLUESKY_HANDLE, app_password=settings.BLUESKY_APP_PASSWORD,
                   base_url=getattr(settings, "BLUESKY_SERVICE_URL", "") or DEFAULT_SERVICE)

    def fetch(self, *, kind: str, query: str = "", account_handle: str = "", account_user_id: str = "",
              since_id: str = "", until: str = "", page_budget: int | None = None, deadline: float | None = None,
              not_before: datetime | None = None) -> FetchResult:
        """Newest first back to ``since_id`` (a time: search's ``sortAt``, or ``indexedAt`` for notifications).

        Mentions of the logged-in account come from its notifications (mention, reply and quote); mentions of
        another account from search's ``mentions`` filter, which matches the app's @-links, not the text.
        """
        since = parse_iso_datetime(since_id) if since_id else None
        floor = since or not_before
        budget = self.max_pages if page_budget is None else page_budget
        self._login()
        requests_made = 0
        by_time = False  # search pages on since/until (times); the others on the platform's cursor
        account = account_handle.lstrip("@")
        if kind == "mentions" and not account:
            raise SourceError("A Bluesky mentions source needs the official account's handle.", permanent=True)
        if kind == "mentions" and self._is_logged_in_account(account, account_user_id):
            def page(cursor: str | None) -> tuple[list[Any], str | None, bool]:
                p: dict[str, Any] = {"limit": PAGE_SIZE, "reasons": list(MENTION_REASONS)}
                if cursor:
                    p["cursor"] = cursor
                response = self._call(lambda: self.api.app.bsky.notification.list_notifications(params=p))
                items = [n for n in response.notifications or [] if _get(n, "reason") in MENTION_REASONS]
                # A page whose notifications are all other kinds still moves on: keep the page's own length.
                return items or list(response.notifications or []), response.cursor, False

            key = lambda item: _times(item)[1] or sort_at(item)  # noqa: E731 - notifications sort by indexedAt
        elif kind in ("search", "mentions", "hashtag"):
            if kind == "mentions":
                params: dict[str, Any] = {"q": "*", "mentions": account, "sort": "latest", "limit": PAGE_SIZE}
            else:
                q = query.strip() or (f"@{account}" if account else "")
                if not q:
                    raise SourceError("A Bluesky search needs a query or the official account's handle.",
                                      permanent=True)
                params = {"q": q, "sort": "latest", "limit": PAGE_SIZE}
            if floor is not None:
                params["since"] = _iso(floor)
            if until:
                params["until"] = until
            by_time = True

            def page(cursor: str | None) -> tuple[list[Any], str | None, bool]:
                response = self._call(lambda: self.api.app.bsky.feed.search_posts(
                    params={**params, **({"cursor": cursor} if cursor else {})}))
                return list(response.posts or []), response.cursor, False

            key = sort_at
        elif kind == "account_posts":
            actor = account_user_id or account
            if not actor:
                raise SourceError("A Bluesky author feed needs the official account's handle or DID.",
                                  permanent=True)

            def page(cursor: str | None) -> tuple[list[Any], str | None, bool]:
                p: dict[str, Any] = {"actor": actor, "limit": PAGE_SIZE, "filter": "posts_with_replies"}
                if cursor:
                    p["cursor"] = cursor
                response = self._call(lambda: self.api.app.bsky.feed.get_author_feed(params=p))
                # Reposts carry someone else's post under its own uri: storing them here would claim the
                # original author's words as the brand's own post. They are skipped.
                views = [item.post for item in response.feed or [] if not _get(item, "reason")]
                return views, response.cursor, False

            key = sort_at
        else:
            raise SourceError(f"Bluesky sources cannot follow {kind!r}.", permanent=True)

        def reached(view: Any) -> bool:
            try:
                at = key(view)
            except SourceError:
                raise
            return floor is not None and at <= floor

        first = None if by_time else (until or None)
        descent = descend(page, reached=reached, max_pages=max(budget, 0), deadline=deadline, first_token=first)
        requests_made += descent.pages
        posts: list[NormalisedPost] = []
        newest = since
        oldest = None
        seen_uris: set[str] = set()
        for view in descent.items:
            at = key(view)
            post = post_view_to_post(view)
            if post.platform_id in seen_uris:
                continue
            seen_uris.add(post.platform_id)
            posts.append(post)
            newest = at if newest is None or at > newest else newest
            oldest = at if oldest is None or at < oldest else oldest
        cursor_out = _iso(newest) if newest and posts else since_id
        result = FetchResult(posts=posts, cursor=cursor_out, requests_made=requests_made, complete=descent.complete,
                             error=descent.error)
        if not descent.complete:
            if by_time:
                # until is exclusive: one millisecond past the oldest read, so posts sharing its time are kept.
                result.resume = _iso(oldest + timedelta(milliseconds=1)) if oldest else until
            else:
                result.resume = descent.last_token or until
            result.notes.append(f"stopped after {descent.pages} pages ({descent.stopped_by})")
        return result

    def _is_logged_in_account(self, handle: str, did: str) -> bool:
        session = getattr(self.api, "_session", None)
        own_did = str(getattr(session, "did", "") or "")
        return handle.lower() == self.handle.lower().lstrip("@") or bool(did and did == own_did)

    def _login(self) -> None:
        if self._logged_in:
            return
        kept = _cache_get(self.session_key)
        if kept:
            try:
                self.api.login(session_string=kept, fetch_bsky_profile=False)
                self._logged_in = self._imported = True
                return
            except Exception:  # a kept session that cannot be read: log in again
                logger.info("the kept Bluesky session for %s could not be used; logging in", self.handle)
                _cache_delete(self.session_key)
        self._call(lambda: self.api.login(self.handle, self.app_password, fetch_bsky_profile=False),
                   during_login=True)
        self._logged_in = True

    def _session_changed(self, event: Any, session: Any) -> None:
        """Keep every new or refreshed session so the next poll, on any worker, reuses it."""
        try:
            _cache_set(self.session_key, self.api.export_session_string())
        except Exception:  # the cache being away costs one login later, never the poll
            logger.warning("could not keep the Bluesky session for %s", self.handle)

    def _call(self, call: Any, *, during_login: bool = False) -> Any:
        try:
            return self._call_once(call, during_login=during_login)
        except SourceError as exc:
            if during_login or not self._imported or not exc.permanent:
                raise
            # The kept session was refused (revoked, or its refresh token expired): log in once and go on.
            logger.info("the kept Bluesky session for %s was refused (%s); logging in", self.handle, exc)
            self._imported = False
            self._call_once(lambda: self.api.login(self.handle, self.app_password, fetch_bsky_profile=False),
                            during_login=True)
            return self._call_once(call, during_login=False)

    def _call_once(self, call: Any, *, during_login: bool = False) -> Any:
        try:
            return call()
        except RateLimitExceededError as exc:
            retry_at = exc.reset_at or epoch_to_utc(exc._get_header("ratelimit-reset"))
            when = retry_at.isoformat() if retry_at else "an unknown time"
            raise SourceError(f"Bluesky rate limit reached; it resets at {when}.", retry_at=retry_at) from exc
        except (UnauthorizedError, LoginRequiredError) as exc:
            _cache_delete(self.session_key)  # the kept session is refused: the next poll logs in afresh
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
