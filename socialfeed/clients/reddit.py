"""Reddit through PRAW: a search (across Reddit or in one subreddit) and a brand account's comments and
submissions, with the same paging, rate-limit and error rules as the other platforms.

Listings are read newest first, 100 items a page, with Reddit's ``after`` token, back to the cursor (the newest
``created_utc`` stored); a poll that must stop first keeps the next ``after`` so the gap is resumed. A comment
replies to its ``parent_id`` and belongs to the conversation of its submission (``link_id``). Reddit has no
@-mentions: people write ``u/name``, which is what METRICS.md §2 (a) reads as a handle here.

The source's query: ``r/<subreddit> <terms>`` searches one subreddit, anything else searches all of Reddit.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import praw
import prawcore
import requests
from django.conf import settings
from praw.endpoints import API_PATH

from socialfeed.clients.base import (
    FetchResult,
    NotConfigured,
    SourceError,
    descend,
    http_timeout,
    json_safe,
    parse_iso_datetime,
)
from socialfeed.normalised import NormalisedPost

PLATFORM = "reddit"
PAGE_SIZE = 100  # Reddit's largest listing page
MAX_PAGES = 5
# Stop paging while this many requests are left in Reddit's window: PRAW would otherwise sleep inside a worker.
RATE_LIMIT_RESERVE = 1
_SUBREDDIT_QUERY = re.compile(r"^\s*/?r/(?P<sub>[A-Za-z0-9_]{2,21})(?:\s+(?P<terms>.*))?$", re.S)
_USER_MENTION = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})\b")
_GONE = ("[deleted]", "[removed]")


def thing_to_post(thing: Any) -> NormalisedPost | None:
    """A PRAW Comment or Submission as Hotline's post shape; None for one deleted or removed (nothing to read)."""
    # PRAW objects are lazy: reading an attribute Reddit did not send makes PRAW fetch the item again. Only
    # what the listing sent is read (``vars``), so a page costs one request whatever its items hold.
    data = vars(thing)
    fullname = str(data.get("name") or "")
    if not fullname:
        raise SourceError("Reddit sent an item without a name; nothing was stored.")
    author = data.get("author")
    author_name = str(getattr(author, "name", "") or "") if author is not None else ""
    is_comment = fullname.startswith("t1_")
    if is_comment:
        text = str(data.get("body") or "")
        in_reply_to = str(data.get("parent_id") or "")
        conversation = str(data.get("link_id") or "")
    else:
        title = str(data.get("title") or "")
        body = str(data.get("selftext") or "")
        text = "\n\n".join(part for part in (title, body) if part and part not in _GONE)
        in_reply_to = ""
        conversation = fullname
    if not author_name and text.strip() in _GONE:
        return None
    created = data.get("created_utc")
    try:
        created_at = datetime.fromtimestamp(float(created), tz=UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SourceError(f"Reddit sent {fullname} without a readable time; nothing was stored.") from exc
    edited = data.get("edited", False)
    edited_at = None
    if edited not in (False, None, True):
        try:
            edited_at = datetime.fromtimestamp(float(edited), tz=UTC)
        except (TypeError, ValueError, OverflowError):
            edited_at = None
    permalink = str(data.get("permalink") or "")
    raw = {k: v for k, v in data.items() if not k.startswith("_") and k not in ("author", "subreddit")}
    raw["author"] = author_name
    raw["subreddit"] = str(data.get("subreddit") or "")
    return NormalisedPost(
        platform=PLATFORM,
        platform_id=fullname,
        author_id=str(data.get("author_fullname") or author_name),
        author_handle=author_name,
        created_at=created_at,
        text=text,
        in_reply_to_id=in_reply_to,
        conversation_id=conversation,
        # A crosspost is someone else's submission shared again: a repost (never a mention, never official).
        is_repost=bool(data.get("crosspost_parent")),
        url=f"https://www.reddit.com{permalink}" if permalink.startswith("/") else "",
        raw=json_safe(raw),
        edited_at=edited_at,
        mentioned_handles=tuple(m.lower() for m in _USER_MENTION.findall(text)),
    )


class RedditClient:
    platform = PLATFORM

    def __init__(self, *, client_id: str, client_secret: str, user_agent: str, timeout: float | None = None,
                 max_pages: int = MAX_PAGES, session: requests.Session | None = None, **site: str) -> None:
        missing = [name for name, value in (("REDDIT_CLIENT_ID", client_id), ("REDDIT_CLIENT_SECRET", client_secret),
                                            ("REDDIT_USER_AGENT", user_agent)) if not value]
        if missing:
            raise NotConfigured(PLATFORM, missing)
        self.timeout = timeout or http_timeout()
        self.max_pages = max_pages
        self.session = session or requests.Session()
        self._reset_at: datetime | None = None
        self.session.hooks["response"].append(self._note_rate_limit)
        # check_for_updates: PRAW would ask PyPI at start-up; Hotline never downloads anything at run time.
        self.api = praw.Reddit(client_id=client_id, client_secret=client_secret, user_agent=user_agent,
                               check_for_updates=False, timeout=self.timeout,
                               requestor_kwargs={"session": self.session}, **site)
        self.api.read_only = True

    @classmethod
    def from_settings(cls) -> RedditClient:
        return cls(client_id=settings.REDDIT_CLIENT_ID, client_secret=settings.REDDIT_CLIENT_SECRET,
                   user_agent=settings.REDDIT_USER_AGENT)

    def fetch(self, *, kind: str, query: str = "", account_handle: str = "", account_user_id: str = "",
              since_id: str = "", until: str = "", page_budget: int | None = None, deadline: float | None = None,
              not_before: datetime | None = None) -> FetchResult:
        """Newest first (or from ``until``, the ``after`` token where an open gap resumes) back to ``since_id``,
        the creation time of the newest item stored."""
        since = parse_iso_datetime(since_id) if since_id else None
        floor = since or not_before
        budget = self.max_pages if page_budget is None else page_budget
        if kind == "search":
            match = _SUBREDDIT_QUERY.match(query or "")
            subreddit, terms = (match.group("sub"), (match.group("terms") or "").strip()) if match else ("all", query)
            if not terms.strip():
                raise SourceError("A Reddit search needs words to look for (r/<subreddit> is optional).",
                                  permanent=True)
            path = API_PATH["search"].format(subreddit=subreddit)
            params = {"q": terms.strip(), "sort": "new", "t": "all", "restrict_sr": subreddit != "all",
                      "syntax": "lucene"}
        elif kind == "account_posts":
            name = account_handle.strip().lstrip("@").removeprefix("u/")
            if not name:
                raise SourceError("A Reddit account source needs the official account's user name.", permanent=True)
            # The account's comments and submissions, in one listing, newest first.
            path = API_PATH["user"].format(user=name) + "overview"
            params = {"sort": "new"}
        else:
            raise SourceError(f"Reddit sources cannot follow {kind!r}; use search or account_posts.",
                              permanent=True)

        def page(after: str | None) -> tuple[list[Any], str | None, bool]:
            listing = self._call(lambda: self.api.get(path, params={**params, "limit": PAGE_SIZE,
                                                                    **({"after": after} if after else {})}))
            children = list(getattr(listing, "children", None) or [])
            if not hasattr(listing, "children"):
                raise SourceError("Reddit sent a malformed listing; nothing was stored.")
            remaining = self.api.auth.limits.get("remaining")
            spent = remaining is not None and remaining <= RATE_LIMIT_RESERVE
            return children, getattr(listing, "after", None), spent

        def reached(thing: Any) -> bool:
            created = vars(thing).get("created_utc")
            try:
                return floor is not None and datetime.fromtimestamp(float(created), tz=UTC) < floor
            except (TypeError, ValueError, OverflowError):
                return False

        descent = descend(page, reached=reached, max_pages=max(budget, 0), deadline=deadline,
                          first_token=until or None)
        posts = [p for p in (thing_to_post(t) for t in descent.items) if p is not None]
        newest = max((p.created_at for p in posts), default=None)
        if since is not None and newest is not None:
            newest = max(newest, since)
        remaining = self.api.auth.limits.get("remaining")
        result = FetchResult(
            posts=posts, cursor=newest.isoformat().replace("+00:00", "Z") if newest else since_id,
            rate_limit_remaining=0 if remaining is not None and remaining <= RATE_LIMIT_RESERVE else (
                int(remaining) if remaining is not None else None),
            rate_limit_reset=self._reset_at, requests_made=descent.pages, complete=descent.complete,
            error=descent.error)
        if not descent.complete:
            result.resume = descent.last_token or until
            result.notes.append(f"stopped after {descent.pages} pages ({descent.stopped_by})")
        return result

    def _note_rate_limit(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        reset = response.headers.get("x-ratelimit-reset")
        try:
            self._reset_at = datetime.fromtimestamp(datetime.now(tz=UTC).timestamp() + float(reset), tz=UTC) \
                if reset is not None else self._reset_at
        except (TypeError, ValueError, OverflowError):
            pass

    def _call(self, call: Any) -> Any:
        try:
            return call()
        except prawcore.exceptions.TooManyRequests as exc:
            raise SourceError("Reddit rate limit reached; will wait for its reset.",
                              retry_at=self._reset_at) from exc
        except (prawcore.exceptions.InvalidToken, prawcore.exceptions.OAuthException,
                prawcore.exceptions.Forbidden, prawcore.exceptions.InsufficientScope) as exc:
            raise SourceError(f"Reddit refused Hotline's credentials ({exc}). Check REDDIT_CLIENT_ID, "
                              "REDDIT_CLIENT_SECRET and the app's type.", permanent=True) from exc
        except (prawcore.exceptions.NotFound, prawcore.exceptions.Redirect,
                prawcore.exceptions.UnavailableForLegalReasons) as exc:
            raise SourceError(f"Reddit has no such subreddit or account ({exc}).", permanent=True) from exc
        except prawcore.exceptions.BadJSON as exc:
            raise SourceError("Reddit sent a malformed response; nothing was stored; will retry.") from exc
        except prawcore.exceptions.ServerError as exc:
            raise SourceError(f"Reddit server error ({exc}); will retry.") from exc
        except prawcore.exceptions.ResponseException as exc:
            status = exc.response.status_code if exc.response is not None else None
            permanent = status is not None and 400 <= status < 500
            raise SourceError(f"Reddit answered {status} ({exc}){'' if permanent else '; will retry'}.",
                              permanent=permanent) from exc
        except prawcore.exceptions.RequestException as exc:
            original = getattr(exc, "original_exception", exc)
            if isinstance(original, requests.Timeout):
                raise SourceError(f"Reddit did not answer within {self.timeout:g} s; will retry.") from exc
            raise SourceError(f"Could not reach Reddit ({original}); will retry.") from exc
        except (praw.exceptions.PRAWException, prawcore.exceptions.PrawcoreException, ValueError, KeyError) as exc:
            raise SourceError(f"Reddit sent a malformed response; nothing was stored ({type(exc).__name__}: "
                              f"{exc}).") from exc
