"""The one shape every platform client, importer and the demo replay hands to ingestion, and the pass that makes
each post fit what Hotline stores (``post_fit``).

A platform can send anything: NUL characters, control characters, an author id of 300 characters, a language
tag such as ``en-GB-oxendict``, a date in the year 30000. ``post_fit`` cleans what can be cleaned (characters
stripped, text cut at its column's size with the full value kept in ``raw``) and refuses what cannot (a date
outside the range Hotline stores), naming the field, so that one bad post is set aside with its reason and
never costs the rest of its batch.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class NormalisedPost:
    """A post as METRICS.md §1 describes it, independent of the platform it came from.

    ``created_at`` is timezone-aware UTC. ``in_reply_to_id`` and ``conversation_id`` are platform ids ("" when
    the platform gives none). ``raw`` is the platform's own payload, kept for audits and re-processing.

    Optional readings a platform may give:

    - ``edited_at``: when the text carried was written, for a post the platform marks as edited; a post already
      stored is only overwritten by a later edit.
    - ``aliases``: other platform ids of the same post (X gives an edited post a new id per version; they all
      name this one post, so a reply to any version is a reply to it).
    - ``mentioned_handles`` / ``mentioned_ids``: the accounts the platform itself lists as mentioned (Mastodon's
      ``mentions``, Bluesky's mention facets, X's entities). ``None``: the platform gave no list, and handles are
      read from the text (METRICS.md §2 a).
    - ``is_public``: False for direct and followers-only messages, which are never mentions (METRICS.md §2).
    """

    platform: str
    platform_id: str
    author_id: str
    author_handle: str
    created_at: datetime
    text: str
    lang: str = ""
    in_reply_to_id: str = ""
    in_reply_to_author_id: str = ""
    conversation_id: str = ""
    is_repost: bool = False
    url: str = ""
    raw: dict = field(default_factory=dict, hash=False, compare=False)
    edited_at: datetime | None = None
    aliases: tuple[str, ...] = ()
    mentioned_handles: tuple[str, ...] | None = None
    mentioned_ids: tuple[str, ...] = ()
    is_public: bool = True


# Column sizes of socialfeed.Post (kept here so that normalisation needs no database; a test checks they agree).
FIELD_SIZES = {
    "platform_id": 128, "author_id": 128, "author_handle": 255, "lang": 12, "in_reply_to_id": 128,
    "in_reply_to_author_id": 128, "conversation_id": 128, "url": 500,
}
# Identifiers cannot be cut: a shortened id would name another post. A post whose id does not fit is refused.
_ID_FIELDS = ("platform_id",)
# The dates Hotline stores: from the X era's first days to well past any incident it will watch. Outside it a date
# is a platform or file error (and Python's datetime overflows converting the year 9999 to UTC with an offset).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# NUL cannot be stored by PostgreSQL; other C0/C1 controls (but tab, line feed, carriage return) and lone
# surrogates are noise that breaks exports and pages. Removed everywhere.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # one-line fields keep no line breaks either


class Unstorable(ValueError):
    """A post that cannot be made to fit; the message names the field and the value."""


def clean_text(value: str) -> str:
    return _CONTROL.sub("", value) if value else value


def clean_line(value: str) -> str:
    return _CONTROL_IN_LINE.sub("", value) if value else value


def post_fit(post: NormalisedPost) -> NormalisedPost:
    """The post with every field made storable, or Unstorable naming what cannot be.

    Text fields lose NUL and control characters; fields longer than their column are cut, and the full value is
    kept in ``raw["hotline_full"]`` (with a note of the fields that were cut); dates must be timezone-aware and
    within [2000, 2100).
    """
    if not isinstance(post.platform_id, str) or not post.platform_id.strip():
        raise Unstorable("platform_id is empty")
    changes: dict = {}
    full: dict[str, str] = {}
    for name in ("text",):
        value = getattr(post, name) or ""
        if not isinstance(value, str):
            raise Unstorable(f"{name} is not text ({type(value).__name__})")
        cleaned = clean_text(value)
        if cleaned != value:
            changes[name] = cleaned
    for name, size in FIELD_SIZES.items():
        value = getattr(post, name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise Unstorable(f"{name} is not text ({type(value).__name__})")
        cleaned = clean_line(value)
        if name == "lang" and len(cleaned) > size:
            # A language tag keeps its leading subtags ("en-GB-oxendict" -> "en-GB"), never half of one.
            full[name] = cleaned
            subtags = cleaned.split("-")
            while len(subtags) > 1 and len("-".join(subtags)) > size:
                subtags.pop()
            cleaned = "-".join(subtags)[:size]
        if len(cleaned) > size:
            if name in _ID_FIELDS:
                raise Unstorable(f"{name} is {len(cleaned)} characters long; Hotline stores ids of at most {size}")
            full[name] = cleaned
            cleaned = cleaned[:size]
        if cleaned != value:
            changes[name] = cleaned
    for name in ("created_at", "edited_at"):
        value = getattr(post, name)
        if value is None and name == "edited_at":
            continue
        changes_value = _fit_date(name, value)
        if changes_value is not value:
            changes[name] = changes_value
    aliases = tuple(a for a in (clean_line(str(a)) for a in post.aliases) if a and len(a) <= 128
                    and a != post.platform_id)
    if aliases != post.aliases:
        changes["aliases"] = aliases
    if post.mentioned_handles is not None:
        changes["mentioned_handles"] = tuple(clean_line(str(h)).lower().lstrip("@")[:255]
                                             for h in post.mentioned_handles if h)
    if post.mentioned_ids:
        changes["mentioned_ids"] = tuple(clean_line(str(i))[:128] for i in post.mentioned_ids if i)
    raw = json_clean(post.raw) if isinstance(post.raw, dict) else {"value": clean_text(str(post.raw))}
    if full or raw != post.raw:
        raw = dict(raw)
        if full:
            raw["hotline_full"] = full
        changes["raw"] = raw
    return dataclasses.replace(post, **changes) if changes else post


def json_clean(value: object) -> object:
    """``value`` as JSON PostgreSQL's jsonb accepts: no NUL or lone surrogate in strings, no NaN or infinity, string
    keys. Everything else is kept as it is, so ``raw`` stays the platform's own payload."""
    if isinstance(value, dict):
        return {_json_str(k): json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_clean(v) for v in value]
    if isinstance(value, str):
        return _json_str(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    return _json_str(str(value))


_JSON_BAD = re.compile("[\x00\ud800-\udfff]")


def _json_str(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    return _JSON_BAD.sub("", text)


def _fit_date(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise Unstorable(f"{name} is not a date ({value!r})")
    if value.tzinfo is None or value.utcoffset() is None:
        raise Unstorable(f"{name} {value.isoformat()} has no time zone")
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Unstorable(f"{name} {value.isoformat()} cannot be converted to UTC") from None
    if not EARLIEST <= in_utc < LATEST:
        raise Unstorable(f"{name} {in_utc.isoformat()} is outside the dates Hotline stores "
                         f"({EARLIEST.year}–{LATEST.year - 1})")
    return value if value.tzinfo is UTC else in_utc
