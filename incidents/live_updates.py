"""Light live updates of the board: each refresh sends only what changed since the one before.

Every board endpoint's JSON is *versioned*: its version is a hash of its content. A page that already holds
version V asks again with ``?since=V`` (and ``If-None-Match: "V"``) and gets

- ``304 Not Modified`` and no body when nothing changed;
- ``{"version": W, "base": V, "patch": P}`` when V is still known here: P turns V into W (new buckets appended to
  the series, changed buckets, tiles and queue rows replaced; everything else left out);
- ``{"version": W, "full": payload}`` otherwise (first load, an unknown or expired V, or a patch that would be
  bigger than the payload itself).

The page applies patches with the same rules as :func:`patch_apply` (static/js/board.js). Payloads are computed
once per ``BOARD_SHARED_SECONDS`` for everyone watching the same incident (:func:`shared_for_a_moment`), and the
versions people hold are kept in the cache for ``SNAPSHOT_SECONDS``. With the cache down, every answer is full.

Patch format, by the shape of what changed:

- ``{"$v": value}`` replace with value;
- ``{"$o": {key: patch}, "$del": [key]}`` a dict with some keys changed (and some removed);
- ``{"$r": "id", "order": [ids], "rows": {id: patch}}`` a list of rows keyed by ``id`` (or ``key``): the new
  order, and a patch for each row that is new or changed;
- ``{"$l": length, "at": {index: patch}}`` any other list: its new length and the indexes that changed.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation

logger = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 180  # how long a version stays patchable: three missed minutes of refreshes
_MISSING = object()
ROW_KEYS = ("id", "key")
_VERSION = re.compile(r"^[0-9a-f]{16}$")


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def version_of(payload) -> str:
    return hashlib.sha1(_dumps(payload).encode()).hexdigest()[:16]


def _row_key(old: list, new: list) -> str | None:
    for key in ROW_KEYS:
        if all(isinstance(row, dict) and key in row for row in (*old, *new)) and (old or new):
            ids = [row[key] for row in new]
            if len(set(map(str, ids))) == len(ids):
                return key
    return None


def _same(a, b) -> bool:
    """Equal as JSON: 1, 1.0 and True are three different values on the page."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def patch_between(old, new):
    """A patch turning ``old`` into ``new`` (None when they are equal)."""
    if old is _MISSING:
        return {"$v": new}
    if _same(old, new):
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        changed = {}
        for key, value in new.items():
            patch = patch_between(old.get(key, _MISSING), value)
            if patch is not None:
                changed[key] = patch
        removed = [key for key in old if key not in new]
        return {"$o": changed, **({"$del": removed} if removed else {})}
    if isinstance(old, list) and isinstance(new, list):
        key = _row_key(old, new)
        if key:
            before = {str(row[key]): row for row in old}
            rows = {}
            for row in new:
                patch = patch_between(before.get(str(row[key]), _MISSING), row)
                if patch is not None:
                    rows[str(row[key])] = patch
            return {"$r": key, "order": [row[key] for row in new], "rows": rows}
        at = {}
        for index, value in enumerate(new):
            patch = patch_between(old[index] if index < len(old) else _MISSING, value)
            if patch is not None:
                at[str(index)] = patch
        if len(at) > max(len(new) // 2, 4):
            return {"$v": new}  # most of it changed (the buckets grew): the list itself is shorter
        return {"$l": len(new), "at": at}
    return {"$v": new}


def patch_apply(old, patch):
    """What the board's script does with a patch: ``patch_apply(old, patch_between(old, new)) == new``."""
    if patch is None:
        return old
    if "$v" in patch:
        return patch["$v"]
    if "$o" in patch:
        out = dict(old)
        for key, sub in patch["$o"].items():
            out[key] = patch_apply(out.get(key), sub)
        for key in patch.get("$del", []):
            out.pop(key, None)
        return out
    if "$r" in patch:
        key = patch["$r"]
        before = {str(row[key]): row for row in old}
        return [patch_apply(before.get(str(i)), patch["rows"][str(i)]) if str(i) in patch["rows"]
                else before[str(i)] for i in patch["order"]]
    if "$l" in patch:
        out = list(old[:patch["$l"]]) + [None] * max(0, patch["$l"] - len(old))
        for index, sub in patch["at"].items():
            out[int(index)] = patch_apply(out[int(index)], sub)
        return out
    raise ValueError(f"not a patch: {patch!r:.80}")


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - a dead cache only costs full answers
        logger.warning("board cache unreachable; answering %s in full", key)
        return None


def _cache_set(key: str, value, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("board cache unreachable; %s not kept", key)


def shared_for_a_moment(key: str, build: Callable[[], object]):
    """The board's JSON, computed once per ``BOARD_SHARED_SECONDS`` for everyone watching the same incident.

    During an outage a whole comms team (and managers) keep the board open, each tab polling every 5 s; without
    this each poll recomputes the same figures. Access is checked before this is called, and the key holds the
    incident, the endpoint and the language the tiles are worded in, so nobody sees a payload they could not
    have computed. If the cache (Redis) is down, the figures are computed from the database as usual.
    """
    seconds = settings.BOARD_SHARED_SECONDS
    if seconds <= 0:
        return build()
    key = f"hotline:board:{key}:{translation.get_language()}"
    payload = _cache_get(key)
    if payload is None:
        payload = build()
        _cache_set(key, payload, seconds)
    return payload


def generation(name: str) -> int:
    """A counter that writes bump (:func:`bump_generation`), for keys that must not be shared across a change:
    after a comms user marks mentions handled, their next queue read is computed afresh, not the one of a
    moment ago."""
    value = _cache_get(f"hotline:board:gen:{name}")
    return value if isinstance(value, int) else 0


def bump_generation(name: str) -> None:
    _cache_set(f"hotline:board:gen:{name}", generation(name) + 1, 24 * 3600)


def _snapshot_key(key: str, version: str) -> str:
    return f"hotline:board:snap:{key}:{translation.get_language()}:{version}"


def live_response(request: HttpRequest, key: str, build: Callable[[], dict]) -> HttpResponse:
    """Answer a board endpoint with a 304, a patch or the full payload (see the module's docstring)."""

    def versioned() -> dict:
        payload = build()
        entry = {"version": version_of(payload), "payload": payload, "size": len(_dumps(payload))}
        _cache_set(_snapshot_key(key, entry["version"]), payload, SNAPSHOT_SECONDS)
        return entry

    entry = shared_for_a_moment(key, versioned)
    version = entry["version"]
    since = request.GET.get("since", "")
    if not since:
        since = request.headers.get("If-None-Match", "").strip().removeprefix("W/").strip('"')
    if since == version:
        response = HttpResponse(status=304)
    else:
        body = {"version": version, "full": entry["payload"]}
        base = _cache_get(_snapshot_key(key, since)) if _VERSION.match(since) else None
        if base is not None:
            patch = patch_between(base, entry["payload"])
            if len(_dumps(patch)) < entry["size"]:
                body = {"version": version, "base": since, "patch": patch}
        response = JsonResponse(body, json_dumps_params={"separators": (",", ":"), "ensure_ascii": False})
    response["ETag"] = f'"{version}"'
    response["Cache-Control"] = "no-store"
    return response
