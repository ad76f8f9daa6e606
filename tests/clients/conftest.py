"""Replay helpers for the platform clients: vcrpy over the shared recorded cassettes, and a real local HTTP
server for what cannot be recorded (timeouts, 429s with their reset header, 5xx, malformed bodies).

Nothing here mocks a client object: every response goes through the real library's HTTP layer.
"""
from __future__ import annotations

import copy
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import vcr
import yaml


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


class LocalServer:
    """A real HTTP server on 127.0.0.1. ``routes[(method, path)]`` is a Reply or a list played in order."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Reply | list[Reply] | Callable[[Seen], Reply]] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, parts.path, parse_qs(parts.query), self.rfile.read(length))
                server.seen.append(seen)
                reply = server._reply_for(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                headers = dict(reply.headers)
                if isinstance(body, dict | list):
                    body = json.dumps(body).encode()
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                elif isinstance(body, str):
                    body = body.encode()
                try:
                    self.send_response(reply.status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _reply_for(self, seen: Seen) -> Reply:
        route = self.routes.get((seen.method, seen.path))
        if route is None:
            return Reply(404, {"error": "NotFound", "message": f"no route for {seen.method} {seen.path}"})
        if callable(route):
            return route(seen)
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        return route


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


# --- vcrpy over the shared cassettes ------------------------------------------------------------------------

def load_cassette(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def response_json(interaction: dict[str, Any]) -> Any:
    """The JSON body of a recorded response (tweepy's are gzip bytes)."""
    body = interaction["response"]["body"]["string"]
    if isinstance(body, bytes):
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        body = body.decode()
    return json.loads(body)


def set_response_json(interaction: dict[str, Any], payload: Any) -> None:
    """Replace a recorded body, keeping the recorded headers (encoding adjusted to the plain body)."""
    response = interaction["response"]
    response["body"]["string"] = json.dumps(payload)
    headers = response["headers"]
    for key in [k for k in headers if k.lower() in ("content-encoding", "content-length")]:
        del headers[key]


def write_cassette(tmp_path: Path, name: str, interactions: list[dict[str, Any]]) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    return path


def derive(interaction: dict[str, Any], *, status: int | None = None, reason: str = "",
           headers: dict[str, str] | None = None, body: Any = None, raw_body: str | None = None,
           uri: str | None = None) -> dict[str, Any]:
    """A modified copy of a recorded interaction (same request and headers unless told otherwise)."""
    copied = copy.deepcopy(interaction)
    if uri:
        copied["request"]["uri"] = uri
    if status is not None:
        copied["response"]["status"] = {"code": status, "message": reason or str(status)}
    if body is not None:
        set_response_json(copied, body)
    if raw_body is not None:
        copied["response"]["body"]["string"] = raw_body
        for key in [k for k in copied["response"]["headers"] if k.lower() in ("content-encoding", "content-length")]:
            del copied["response"]["headers"][key]
    for key, value in (headers or {}).items():
        for existing in [k for k in copied["response"]["headers"] if k.lower() == key.lower()]:
            del copied["response"]["headers"][existing]
        copied["response"]["headers"][key] = [value]
    return copied


def replay(path: Path, *, match_on: tuple[str, ...] = ("method", "path")):
    """Play a cassette back through the real HTTP stack; an unrecorded request fails the test."""
    # tweepy's cassettes hold gzip bodies; vcrpy's urllib3 stub hands them back undecoded unless asked to
    # decode them when the cassette is loaded (it then drops content-encoding, like a real server would).
    return vcr.VCR(record_mode="none", match_on=list(match_on), decode_compressed_response=True).use_cassette(
        str(path), allow_playback_repeats=False)
