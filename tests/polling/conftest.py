"""A real status feed served over HTTP on 127.0.0.1, which the real status-feed client polls.

The test writes the feed (entries can be added between polls) and decides how the server answers: the feed,
429 with Retry-After, 500, 401, garbage, or a request held open until the test releases it (a slow fetch).
The server counts requests and the most requests it ever had in flight at once.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest

from tests.platform_servers import MastodonServer, XServer

BASE_TIME = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
HOLD_LIMIT_SECONDS = 60  # a held request never outlives a test run


@dataclass
class FeedEntry:
    entry_id: str
    title: str
    published: datetime

    def atom(self) -> str:
        stamp = self.published.isoformat().replace("+00:00", "Z")
        return (f"<entry><id>{escape(self.entry_id)}</id><title>{escape(self.title)}</title>"
                f"<published>{stamp}</published><updated>{stamp}</updated>"
                f"<summary>{escape(self.title)}</summary>"
                f'<link href="https://status.example.test/{escape(self.entry_id)}"/></entry>')


class FeedServer:
    def __init__(self) -> None:
        self.entries: list[FeedEntry] = []
        self.mode = "ok"  # ok | 429 | 500 | 401 | garbage
        self.retry_after_seconds = 120
        self.delay_seconds = 0.0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_request_seen = threading.Event()
        self._hold = threading.Event()
        self._hold.set()  # set = requests pass
        self._count_lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/status.atom"

    def add_entries(self, count: int) -> list[FeedEntry]:
        added = []
        for _ in range(count):
            number = len(self.entries) + 1
            entry = FeedEntry(entry_id=f"urn:ondine-status:{number}", title=f"Update {number}: mobile data outage",
                              published=BASE_TIME + timedelta(minutes=10 * number))
            self.entries.append(entry)
            added.append(entry)
        return added

    @property
    def newest_cursor(self) -> str:
        return max(e.published for e in self.entries).isoformat().replace("+00:00", "Z")

    def hold(self) -> None:
        """Requests from now on wait (up to HOLD_LIMIT_SECONDS) until ``release``: a slow platform."""
        self._hold.clear()

    def release(self) -> None:
        self._hold.set()

    def body(self) -> bytes:
        entries = "".join(e.atom() for e in reversed(self.entries))
        updated = (max(e.published for e in self.entries) if self.entries else BASE_TIME).isoformat()
        return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>Ondine Mobile status</title><id>urn:ondine-status</id><updated>{updated}</updated>"
                f"{entries}</feed>").encode()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                with server._count_lock:
                    server.requests += 1
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                server.first_request_seen.set()
                try:
                    server._hold.wait(HOLD_LIMIT_SECONDS)
                    if server.delay_seconds:
                        threading.Event().wait(server.delay_seconds)
                    self._answer()
                except OSError:
                    pass  # the client died mid-request (a killed worker): nothing to answer
                finally:
                    with server._count_lock:
                        server.in_flight -= 1

            def _answer(self):
                mode = server.mode
                if mode == "ok":
                    self._send(200, server.body(), "application/atom+xml")
                elif mode == "429":
                    self._send(429, b"slow down", "text/plain", {"Retry-After": str(server.retry_after_seconds)})
                elif mode == "garbage":
                    self._send(200, b'{"this": is not a feed <<<', "application/atom+xml")
                else:
                    self._send(int(mode), b"error", "text/plain")

            def _send(self, status, body, content_type, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):  # noqa: A002 - http.server's signature
                pass

        return Handler

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def feed_server():
    """Start status-feed servers on 127.0.0.1 (call it once per feed); all are stopped after the test."""
    servers: list[FeedServer] = []

    def _start() -> FeedServer:
        server = FeedServer().start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


@pytest.fixture
def make_feed_source(make_brand):
    """A status-feed source of a brand, following ``url``."""
    from socialfeed.models import Source

    def _make(url: str, *, brand=None, name="Ondine status page", interval_seconds=60):
        brand = brand or make_brand()
        return Source.objects.create(name=name, platform="feed", kind="status_feed", brand=brand, query=url,
                                     interval_seconds=interval_seconds)

    return _make


# --- X and Mastodon servers that page as the platforms document (tests/platform_servers.py) -------------------

BRAND_X_ID = "900"


@pytest.fixture
def x_server(settings):
    server = XServer().start()
    server.add_user(BRAND_X_ID, "ondine_mobile")
    settings.X_BEARER_TOKEN = "test-bearer"
    settings.X_API_BASE_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def mastodon_server(settings):
    server = MastodonServer().start()
    server.add_account("7", "ondine")
    settings.MASTODON_API_BASE_URL = server.url
    settings.MASTODON_ACCESS_TOKEN = "test-token"
    yield server
    server.stop()


@pytest.fixture
def brand(db):
    from incidents.models import Brand

    return Brand.objects.create(name="Ondine Mobile", slug="ondine", time_zone="Europe/Paris", languages=["fr"])



