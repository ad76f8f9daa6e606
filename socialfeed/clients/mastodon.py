"""Mastodon through Mastodon.py: an official account's statuses, its mentions, hashtag timelines and search.

Mastodon gives no conversation id in a status, so ``conversation_id`` stays "" and ingestion follows the
reply links (``in_reply_to_id``) instead.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from socialfeed.clients.base import (
    Descent,
    FetchResult,
    NotConfigured,
    SourceError,
    descend,
    epoch_to_utc,
    html_to_text,
    http_timeout,
    is_newer_id,
    json_safe,
    newest_numeric_id,
    parse_iso_datetime,
    utc,
)
from socialfeed.normalised import NormalisedPost

PLATFORM = "mastodon"
PAGE_SIZE = 40  # Mastodon's maximum for timelines and notifications
MAX_PAGES = 5
# METRICS.md §2: only public posts are mentions; "unlisted" is public (only left out of public timelines).
PUBLIC_VISIBILITIES = ("public", "unlisted")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return utc(value)
    return parse_iso_datetime(str(value))


def status_to_post(status: Any) -> NormalisedPost:
    """A Mastodon Status as Hotline's post shape. A reblog keeps the reblogger as author, flagged as repost.

    Mentions come from the status's own ``mentions`` list (account id and ``acct``), not from the HTML; direct
    and followers-only statuses are kept but flagged non-public (never mentions, METRICS.md §2); ``edited_at``
    is the platform's time of the version carried.
    """
    account = _get(status, "account") or {}
    reblog = _get(status, "reblog")
    shown = reblog or status
    text = html_to_text(str(_get(shown, "content") or ""))
    spoiler = str(_get(shown, "spoiler_text") or "")
    if spoiler:
        # A content warning is what followers read first; keep it ahead of the body.
        text = f"{spoiler}\n\n{text}" if text else spoiler
    mentions = [m for m in _get(shown, "mentions") or [] if m]
    edited = _get(shown, "edited_at")
    visibility = str(_get(status, "visibility") or "public")
    return NormalisedPost(
        platform=PLATFORM,
        platform_id=str(_get(status, "id")),
        author_id=str(_get(account, "id") or ""),
        author_handle=str(_get(account, "acct") or _get(account, "username") or ""),
        created_at=_as_datetime(_get(status, "created_at")),
        text=text,
        lang=str(_get(shown, "language") or ""),
        in_reply_to_id=str(_get(status, "in_reply_to_id") or ""),
        in_reply_to_author_id=str(_get(status, "in_reply_to_account_id") or ""),
        conversation_id="",
        is_repost=bool(reblog),
        url=str(_get(status, "url") or _get(shown, "url") or _get(status, "uri") or ""),
        raw=json_safe(dict(status)) if isinstance(status, dict) else {},
        edited_at=_as_datetime(edited) if edited else None,
        mentioned_handles=tuple(str(_get(m, "acct") or _get(m, "username") or "") for m in mentions),
        mentioned_ids=tuple(str(_get(m, "id")) for m in mentions if _get(m, "id")),
        is_public=visibility in PUBLIC_VISIBILITIES,
    )


class MastodonClient:
    platform = PLATFORM

    def __init__(self, *, api_base_url: str, access_token: str = "", timeout: float | None = None,
                 max_pages: int = MAX_PAGES) -> None:
        if not api_base_url:
            raise NotConfigured(PLATFORM, ["MASTODON_API_BASE_URL"])
        self.has_token = bool(access_token)
        self.max_pages = max_pages
        self.timeout = timeout or http_timeout()
        # "throw": Mastodon.py must never sleep inside a worker; the poller waits for the reset time instead.
        self.api = Mastodon(api_base_url=api_base_url, access_token=access_token or None,
                            request_timeout=self.timeout, ratelimit_method="throw", version_check_mode="none")

    @classmethod
    def from_settings(cls) -> MastodonClient:
        return cls(api_base_url=settings.MASTODON_API_BASE_URL, access_token=settings.MASTODON_ACCESS_TOKEN)

    def fetch(self, *, kind: str, query: str = "", account_handle: str = "", account_user_id: str = "",
              since_id: str = "", until: str = "", page_budget: int | None = None, deadline: float | None = None,
              not_before: datetime | None = None) -> FetchResult:
        """Newest first (or below ``until``, the ``max_id`` where an open gap resumes) back to ``since_id``,
        following the Link headers Mastodon sends."""
        budget = self.max_pages if page_budget is None else page_budget
        learnt = ""
        if kind == "account_posts":
            account_id = account_user_id
            if not account_id:
                account_id = learnt = self._account_id(account_handle)  # stored by the poller, asked once
            method = lambda **kw: self.api.account_statuses(account_id, **kw)  # noqa: E731
        elif kind == "mentions":
            if not self.has_token:
                raise SourceError("Mastodon mentions need MASTODON_ACCESS_TOKEN for the official account.",
                                  permanent=True)
            method = lambda **kw: self.api.notifications(types=["mention"], **kw)  # noqa: E731
        elif kind == "hashtag":
            tag = query.strip().lstrip("#")
            if not tag:
                raise SourceError("A Mastodon hashtag source needs a hashtag.", permanent=True)
            method = lambda **kw: self.api.timeline_hashtag(tag, **kw)  # noqa: E731
        elif kind == "search":
            if not query.strip():
                raise SourceError("A Mastodon search source needs a query.", permanent=True)
            # Search has no since_id; the filter below drops anything already seen. min_id and
            # exclude_unreviewed would make Mastodon.py probe the server version first, and recurse without
            # end when that probe fails: one extra call per poll and a crash risk for little gain.
            found = self._call(lambda: self.api.search_v2(query.strip(), result_type="statuses",
                                                          exclude_unreviewed=False))
            statuses = list(_get(found, "statuses") or [])
            posts = [status_to_post(s) for s in statuses if is_newer_id(str(_get(s, "id")), since_id)]
            cursor = newest_numeric_id([p.platform_id for p in posts], since_id)
            return self._result(posts, cursor, 1, complete=True)
        else:
            raise SourceError(f"Mastodon sources cannot follow {kind!r}.", permanent=True)

        descent = self._paged(method, since_id=since_id, until=until, budget=max(budget, 0), deadline=deadline,
                              not_before=not_before)
        # The cursor of a mentions source is the newest notification id: that is what since_id pages on.
        ids = [str(_get(item, "id")) for item in descent.items]
        statuses = [_get(item, "status") for item in descent.items] if kind == "mentions" else descent.items
        posts = [status_to_post(s) for s in statuses if s]
        result = self._result(posts, newest_numeric_id(ids, since_id), descent.pages + (1 if learnt else 0),
                              complete=descent.complete)
        result.error = descent.error
        result.account_user_id = learnt
        if not descent.complete:
            result.resume = min(ids, key=int) if ids else until  # max_id is exclusive
            result.notes.append(f"stopped after {descent.pages} pages ({descent.stopped_by})")
        return result

    def _result(self, posts: list[NormalisedPost], cursor: str, requests_made: int, *,
                complete: bool) -> FetchResult:
        remaining = self.api.ratelimit_remaining
        return FetchResult(posts=posts, cursor=cursor,
                           rate_limit_remaining=int(remaining) if remaining is not None else None,
                           rate_limit_reset=epoch_to_utc(self.api.ratelimit_reset),
                           requests_made=requests_made, complete=complete)

    def _paged(self, method: Any, *, since_id: str, until: str, budget: int, deadline: float | None,
               not_before: datetime | None) -> Descent:
        """Newest page first, then older pages down to since_id: ``max_id`` from the page's Link header (what
        Mastodon documents), or the oldest id of a full page when a server sends none."""

        def page(max_id: str | None) -> tuple[list[Any], str | None, bool]:
            items = self._call(lambda: method(since_id=since_id or None, max_id=max_id, limit=PAGE_SIZE))
            if not isinstance(items, list):
                raise SourceError("Mastodon sent a malformed page (expected a list); nothing was stored.")
            following = getattr(items, "_pagination_next", None) or {}
            next_max = following.get("max_id") if isinstance(following, dict) else None
            if next_max is None and len(items) >= PAGE_SIZE:
                next_max = _get(items[-1], "id")
            if len(items) < PAGE_SIZE:
                next_max = None  # a short page is the last one above since_id
            remaining = self.api.ratelimit_remaining
            return list(items), str(next_max) if next_max is not None else None, remaining == 0

        def reached(item: Any) -> bool:
            if since_id and not is_newer_id(str(_get(item, "id")), since_id):
                return True
            if not_before is not None:
                created = _get(item, "created_at") or _get(_get(item, "status"), "created_at")
                return created is not None and _as_datetime(created) < not_before
            return False

        return descend(page, reached=reached, max_pages=budget, deadline=deadline, first_token=until or None)

    def _account_id(self, handle: str) -> str:
        if not handle:
            raise SourceError("This Mastodon source needs the official account's handle or id.", permanent=True)
        account = self._call(lambda: self.api.account_lookup(handle.lstrip("@")))
        return str(_get(account, "id"))

    def _call(self, call: Any) -> Any:
        try:
            return call()
        except MastodonRatelimitError as exc:
            retry_at = epoch_to_utc(self.api.ratelimit_reset)
            when = retry_at.isoformat() if retry_at else "an unknown time"
            raise SourceError(f"Mastodon rate limit reached; it resets at {when}.", retry_at=retry_at) from exc
        except MastodonUnauthorizedError as exc:
            raise SourceError(f"Mastodon refused the access token ({_detail(exc)}). "
                              "Check MASTODON_ACCESS_TOKEN.", permanent=True) from exc
        except MastodonNotFoundError as exc:
            raise SourceError(f"Mastodon has no such account, tag or endpoint ({_detail(exc)}).",
                              permanent=True) from exc
        except MastodonServerError as exc:
            raise SourceError(f"Mastodon server error ({_detail(exc)}); will retry.") from exc
        except MastodonNetworkError as exc:
            raise SourceError(f"Could not reach Mastodon within {self.timeout:g} s ({exc}); will retry.") from exc
        except MastodonAPIError as exc:
            status = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
            if status is None:
                # Mastodon.py raises this with no status when the body is not JSON.
                raise SourceError(f"Mastodon sent a malformed response; nothing was stored ({exc.args[0]})") from exc
            raise SourceError(f"Mastodon answered {status} ({_detail(exc)}).", permanent=400 <= status < 500) from exc
        except MastodonError as exc:
            raise SourceError(f"Mastodon request failed: {exc}") from exc


def _detail(exc: Exception) -> str:
    parts = [str(a) for a in exc.args[1:] if a]
    return " ".join(parts) or str(exc)
