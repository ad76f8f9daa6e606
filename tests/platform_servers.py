"""Local HTTP servers that page exactly as X API v2 and Mastodon document it, for the real tweepy and Mastodon.py
clients to poll (a burst of hundreds of posts, a rate limit running out, a cursor older than the search window).

X (developer.x.com, "Pagination" and the timelines / recent search references): results newest first,
``max_results`` 5–100 (10–100 for search), ``since_id`` / ``until_id`` exclusive, ``start_time`` inclusive, an
opaque ``meta.next_token`` passed back as ``pagination_token`` (timelines) or ``next_token`` (search), only the
fields asked for in ``tweet.fields`` besides the defaults (id, text, edit_history_tweet_ids), ``includes.users``
for ``expansions=author_id``, ``x-rate-limit-*`` headers and 429 once the window is spent, 400 for a
``since_id`` older than search's 7 days.

Mastodon (docs.joinmastodon.org, "Paginating through API responses"): results newest first, ``limit`` up to 40,
``max_id`` / ``since_id`` exclusive, a ``Link`` header with ``rel="next"`` (``max_id``) and ``rel="prev"``
(``min_id``) that keeps the request's other parameters but not ``since_id``, ``X-RateLimit-*`` headers.

Every wait is bounded and the servers run on 127.0.0.1 only.
"""
from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

SNOWFLAKE_EPOCH_MS = 1288834974657


def snowflake(moment: datetime, sequence: int = 0) -> str:
    return str(((int(moment.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS) << 22) + sequence)


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Server:
    """A ThreadingHTTPServer with a request log; subclasses answer in ``answer(method, path, query)``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    server.requests.append((self.command, parts.path, query))
                    status, payload, headers = server.answer(self.command, parts.path, query, body)
                data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _serve  # noqa: N815 - http.server's naming

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes):  # pragma: no cover
        raise NotImplementedError

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self) -> list[str]:
        return [path for _method, path, _query in self.requests]


# --- X API v2 ------------------------------------------------------------------------------------------------

X_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")


@dataclass
class XServer(_Server):
    """Tweets by timeline: ``mentions[user_id]``, ``tweets[user_id]`` and ``search`` (every tweet, filtered by a
    plain substring of the query's first term). ``now`` is the server's clock (the 7-day window)."""

    now: datetime = field(default_factory=lambda: datetime.now(tz=UTC))
    rate_limit: int = 450
    remaining: int = 450
    reset_in_seconds: int = 900

    def __post_init__(self) -> None:
        super().__init__()
        self.users: dict[str, dict[str, Any]] = {}
        self.mentions: dict[str, list[dict[str, Any]]] = {}
        self.tweets: dict[str, list[dict[str, Any]]] = {}
        self.all_tweets: list[dict[str, Any]] = []
        self._sequence = 0

    def add_user(self, user_id: str, username: str) -> None:
        self.users[user_id] = {"id": user_id, "name": username.replace("_", " ").title(), "username": username}

    def post(self, *, author_id: str, text: str, at: datetime, mention_of: str | None = None, **fields: Any) -> dict:
        """A tweet as X stores it (every field); ``mention_of`` also puts it on that user's mentions timeline."""
        self._sequence += 1
        tweet_id = fields.pop("id", None) or snowflake(at, self._sequence % 4096)
        tweet = {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id], "author_id": author_id,
                 "created_at": iso_ms(at), "conversation_id": fields.pop("conversation_id", tweet_id), "lang": "en",
                 **fields}
        self.all_tweets.append(tweet)
        self.tweets.setdefault(author_id, []).append(tweet)
        if mention_of:
            self.mentions.setdefault(mention_of, []).append(tweet)
        return tweet

    def burst(self, count: int, *, mention_of: str, start: datetime, every: timedelta = timedelta(seconds=2),
              author_prefix: str = "c") -> list[dict]:
        handle = self.users[mention_of]["username"]
        out = []
        for n in range(count):
            author = f"{author_prefix}{n % 97}"
            self.users.setdefault(author, {"id": author, "name": f"Customer {author}", "username": f"cust_{author}"})
            out.append(self.post(author_id=author, text=f"@{handle} still no network ({n})", at=start + every * n,
                                 mention_of=mention_of))
        return out

    # -- answering --

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes):
        headers = {"x-rate-limit-limit": str(self.rate_limit),
                   "x-rate-limit-reset": str(int(self.now.timestamp()) + self.reset_in_seconds)}
        if self.remaining <= 0:
            headers["x-rate-limit-remaining"] = "0"
            return 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                         "status": 429}, headers
        self.remaining -= 1
        headers["x-rate-limit-remaining"] = str(self.remaining)
        parts = path.strip("/").split("/")
        one = {k: v[0] for k, v in query.items()}
        if parts[:3] == ["2", "users", "by"] and len(parts) == 5:
            user = next((u for u in self.users.values() if u["username"].lower() == parts[4].lower()), None)
            if user is None:
                return 200, {"errors": [{"detail": f"Could not find user with username: [{parts[4]}].",
                                         "title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found"}]}, headers
            return 200, {"data": dict(user)}, headers
        if parts[:2] == ["2", "users"] and len(parts) == 4 and parts[3] in ("mentions", "tweets"):
            pool = (self.mentions if parts[3] == "mentions" else self.tweets).get(parts[2], [])
            return self._page(pool, one, token_param="pagination_token", minimum=5, headers=headers,
                              key=path)
        if path == "/2/tweets/search/recent":
            if "since_id" in one:
                since_at = datetime.fromtimestamp(((int(one["since_id"]) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC)
                if since_at < self.now - timedelta(days=7):
                    floor = iso_ms(self.now - timedelta(days=7))
                    return 400, {"errors": [{"parameters": {"since_id": [one["since_id"]]},
                                             "message": f"Invalid 'since_id':'{one['since_id']}'. 'since_id' must be "
                                                        f"a tweet id created after {floor}."}],
                                 "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                                 "type": "https://api.twitter.com/2/problems/invalid-request"}, headers
            if "start_time" in one and _parse(one["start_time"]) < self.now - timedelta(days=7):
                return 400, {"errors": [{"parameters": {"start_time": [one["start_time"]]},
                                         "message": "Invalid 'start_time':'...'. 'start_time' must be on or after "
                                                    f"{iso_ms(self.now - timedelta(days=7))}"}],
                             "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                             "type": "https://api.twitter.com/2/problems/invalid-request"}, headers
            term = one.get("query", "").strip("()").split(" OR ")[0].split(")")[0].strip().strip('"').lower()
            window = [t for t in self.all_tweets if term in t["text"].lower()
                      and _parse(t["created_at"]) >= self.now - timedelta(days=7)]
            return self._page(window, one, token_param="next_token", minimum=10, headers=headers, key=path)
        return 404, {"title": "Not Found Error", "detail": f"no route {path}", "status": 404}, headers

    def _page(self, pool: list[dict], params: dict[str, str], *, token_param: str, minimum: int,
              headers: dict[str, str], key: str):
        wrong = "next_token" if token_param == "pagination_token" else "pagination_token"
        if wrong in params:
            return 400, {"errors": [{"message": f"The query parameter [{wrong}] is not one of [...]"}],
                         "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                         "type": "https://api.twitter.com/2/problems/invalid-request"}, headers
        size = int(params.get("max_results", 10))
        if not minimum <= size <= 100:
            return 400, {"errors": [{"message": f"The `max_results` query parameter value [{size}] is not between "
                                                f"{minimum} and 100"}], "title": "Invalid Request",
                         "type": "https://api.twitter.com/2/problems/invalid-request"}, headers
        rows = sorted(pool, key=lambda t: int(t["id"]), reverse=True)
        if "since_id" in params:
            rows = [t for t in rows if int(t["id"]) > int(params["since_id"])]
        if "until_id" in params:
            rows = [t for t in rows if int(t["id"]) < int(params["until_id"])]
        if "start_time" in params:
            rows = [t for t in rows if _parse(t["created_at"]) >= _parse(params["start_time"])]
        offset = 0
        filters = {k: v for k, v in params.items() if k not in (token_param, "tweet.fields", "expansions",
                                                                  "user.fields")}
        if token_param in params:
            offset, bound = _decode_token(params[token_param])
            if bound != _filters_key(key, filters):
                return 400, {"errors": [{"message": "The pagination token is not valid for this request."}],
                             "title": "Invalid Request", "type": "https://api.twitter.com/2/problems/invalid-request"}, headers
        chunk = rows[offset:offset + size]
        fields = set(X_DEFAULT_FIELDS) | set(params.get("tweet.fields", "").split(",")) - {""}
        data = [{k: v for k, v in t.items() if k in fields} for t in chunk]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if chunk:
            meta.update(newest_id=chunk[0]["id"], oldest_id=chunk[-1]["id"])
        if offset + size < len(rows):
            meta["next_token"] = _encode_token(offset + size, _filters_key(key, filters))
        payload: dict[str, Any] = {"meta": meta}
        if data:
            payload["data"] = data
            if "author_id" in params.get("expansions", ""):
                users = {t["author_id"] for t in chunk if t.get("author_id") in self.users}
                user_fields = {"id", "name", "username"} | set(params.get("user.fields", "").split(","))
                payload["includes"] = {"users": [{k: v for k, v in self.users[u].items() if k in user_fields}
                                                 for u in sorted(users)]}
        return 200, payload, headers


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _filters_key(path: str, filters: dict[str, str]) -> str:
    return json.dumps([path, sorted(filters.items())])


def _encode_token(offset: int, bound: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, bound]).encode()).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, str]:
    padded = token + "=" * (-len(token) % 4)
    offset, bound = json.loads(base64.urlsafe_b64decode(padded))
    return int(offset), bound


# --- Mastodon ------------------------------------------------------------------------------------------------

def mastodon_account(account_id: str, username: str, *, domain: str = "") -> dict[str, Any]:
    acct = f"{username}@{domain}" if domain else username
    return {"id": account_id, "username": username, "acct": acct, "display_name": username.title(),
            "locked": False, "bot": False, "discoverable": True, "group": False,
            "created_at": "2024-01-01T00:00:00.000Z", "note": "", "url": f"https://{domain or 'ondine.social'}/@{username}",
            "uri": f"https://{domain or 'ondine.social'}/users/{username}", "avatar": "", "avatar_static": "",
            "header": "", "header_static": "", "followers_count": 0, "following_count": 0, "statuses_count": 0,
            "last_status_at": None, "emojis": [], "fields": []}


@dataclass
class MastodonServer(_Server):
    """Statuses by account, and the official account's notifications (``notifications``)."""

    rate_limit: int = 300
    remaining: int = 300

    def __post_init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self._next = 1

    def add_account(self, account_id: str, username: str, *, domain: str = "") -> dict[str, Any]:
        self.accounts[account_id] = mastodon_account(account_id, username, domain=domain)
        return self.accounts[account_id]

    def status(self, *, account_id: str, content: str, at: datetime, mentions: list[str] = (),
               visibility: str = "public", notify: bool = True, **fields: Any) -> dict[str, Any]:
        """A status as the Mastodon API returns it; mentioning an account also notifies it (type mention)."""
        status_id = fields.pop("id", None) or snowflake(at, self._next % 65536)
        self._next += 1
        mentioned = [self.accounts[m] for m in mentions]
        status = {"id": status_id, "uri": f"https://ondine.social/users/x/statuses/{status_id}",
                  "url": f"https://ondine.social/@{self.accounts[account_id]['username']}/{status_id}",
                  "created_at": iso_ms(at), "account": self.accounts[account_id], "content": content,
                  "visibility": visibility, "sensitive": False, "spoiler_text": "", "media_attachments": [],
                  "application": None, "mentions": [{"id": m["id"], "username": m["username"], "acct": m["acct"],
                                                     "url": m["url"]} for m in mentioned],
                  "tags": [], "emojis": [], "reblogs_count": 0, "favourites_count": 0, "replies_count": 0,
                  "in_reply_to_id": None, "in_reply_to_account_id": None, "reblog": None, "poll": None,
                  "card": None, "language": "fr", "text": None, "edited_at": None, "filtered": [], **fields}
        self.statuses.append(status)
        if notify:
            for m in mentioned:
                self._notify(m["id"], status, at)
        return status

    def _notify(self, account_id: str, status: dict[str, Any], at: datetime) -> None:
        self.notifications.append({"id": str(len(self.notifications) + 1), "type": "mention",
                                   "created_at": iso_ms(at), "account": status["account"], "status": status,
                                   "group_key": f"ungrouped-{len(self.notifications) + 1}", "_for": account_id})

    def burst(self, count: int, *, mention: str, start: datetime, every: timedelta = timedelta(seconds=2)) -> list:
        handle = self.accounts[mention]["acct"]
        out = []
        for n in range(count):
            author = f"c{n % 89}"
            if author not in self.accounts:
                self.add_account(author, f"client{n % 89}", domain="autre.example")
            out.append(self.status(account_id=author, at=start + every * n, mentions=[mention],
                                   content=f'<p><span class="h-card"><a href="https://ondine.social/@{handle}" '
                                           f'class="u-url mention">@<span>{handle}</span></a></span> toujours '
                                           f"pas de réseau ({n})</p>"))
        return out

    # -- answering --

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes):
        headers = {"X-RateLimit-Limit": str(self.rate_limit),
                   "X-RateLimit-Reset": iso_ms(datetime.now(tz=UTC) + timedelta(minutes=5))}
        if self.remaining <= 0:
            headers["X-RateLimit-Remaining"] = "0"
            return 429, {"error": "Too many requests"}, headers
        self.remaining -= 1
        headers["X-RateLimit-Remaining"] = str(self.remaining)
        parts = path.strip("/").split("/")
        if path in ("/api/v1/instance", "/api/v2/instance"):
            return 200, {"uri": "ondine.social", "domain": "ondine.social", "title": "Ondine", "version": "4.3.0"}, headers
        if path == "/api/v1/accounts/lookup":
            acct = query.get("acct", [""])[0]
            found = next((a for a in self.accounts.values() if a["acct"] == acct), None)
            return (200, found, headers) if found else (404, {"error": "Record not found"}, headers)
        if path == "/api/v1/notifications":
            types = query.get("types[]", [])
            rows = [n for n in self.notifications if not types or n["type"] in types]
            return self._page([{k: v for k, v in n.items() if k != "_for"} for n in rows], query, headers, path)
        if parts[:3] == ["api", "v1", "accounts"] and len(parts) == 5 and parts[4] == "statuses":
            rows = [s for s in self.statuses if s["account"]["id"] == parts[3]]
            return self._page(rows, query, headers, path)
        return 404, {"error": "Record not found"}, headers

    def _page(self, rows: list[dict], query: dict[str, list[str]], headers: dict[str, str], path: str):
        one = {k: v[0] for k, v in query.items()}
        limit = min(int(one.get("limit", 20)), 40)
        ordered = sorted(rows, key=lambda r: int(r["id"]), reverse=True)
        if "since_id" in one:
            ordered = [r for r in ordered if int(r["id"]) > int(one["since_id"])]
        if "max_id" in one:
            ordered = [r for r in ordered if int(r["id"]) < int(one["max_id"])]
        if "min_id" in one:
            ordered = sorted((r for r in ordered if int(r["id"]) > int(one["min_id"])), key=lambda r: int(r["id"]))
            ordered = list(reversed(ordered[:limit]))
        chunk = ordered[:limit]
        if chunk:
            # The next and prev links keep the request's parameters, without since_id / max_id / min_id.
            kept = [(k, v) for k, values in query.items() if k not in ("since_id", "max_id", "min_id") for v in values]
            base = f"{self.url}{path}?"
            links = []
            if len(chunk) == limit:
                links.append(f'<{base}{urlencode(kept + [("max_id", chunk[-1]["id"])])}>; rel="next"')
            links.append(f'<{base}{urlencode(kept + [("min_id", chunk[0]["id"])])}>; rel="prev"')
            headers["Link"] = ", ".join(links)
        return 200, chunk, headers


def started(server) -> Iterator:
    server.start()
    try:
        yield server
    finally:
        server.stop()
