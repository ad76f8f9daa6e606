"""File importers: read a file as a stream of posts, reporting every bad row with its line number and reason.

Each reader yields ``Row`` items: a post, or a rejection naming the line and what is wrong. Readers never hold the
file in memory; ``posts_import`` groups good rows into bounded batches for ``posts_ingest``.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from incidents.models import Brand, OfficialAccount
from socialfeed.clients.base import is_numeric_id
from socialfeed.clients.x import snowflake_time, tweet_to_post
from socialfeed.normalised import NormalisedPost
from socialfeed.services import IngestResult, posts_ingest, rejects_record_rows

FORMATS = ("twcs", "x-jsonl", "ibm-cdp")
BATCH_SIZE = 2000
# A line longer than this is refused rather than buffered: no real post row comes close.
MAX_LINE_BYTES = 1_000_000


class ImportFileError(Exception):
    """The file as a whole cannot be read in this format (wrong header, not text, not JSON...)."""


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass(frozen=True)
class Row:
    line: int
    post: NormalisedPost | None = None
    rejected: Rejected | None = None


@dataclass
class ImportSummary:
    read: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    brands_created: int = 0

    def line(self) -> str:
        return (f"read {self.read}, stored {self.stored}, updated {self.updated}, duplicates {self.duplicates}, "
                f"rejected {self.rejected}, brands created {self.brands_created}")


# --- shared helpers -----------------------------------------------------------------------------------------------

def _text_lines(path: Path) -> Iterator[tuple[int, str | None, str]]:
    """(line number, text or None, reason) per physical line; broken UTF-8 and huge lines are reported, not fatal."""
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                # Skip the rest of this line without holding it.
                while True:
                    more = handle.readline(MAX_LINE_BYTES)
                    if not more or more.endswith(b"\n"):
                        break
                yield number, None, f"line is longer than {MAX_LINE_BYTES:,} bytes"
                continue
            try:
                yield number, raw.decode("utf-8"), ""
            except UnicodeDecodeError as exc:
                yield number, None, f"not valid UTF-8 (byte {exc.start})"


def _csv_records(path: Path, *, required: tuple[str, ...]) -> Iterator[tuple[int, dict | None, str]]:
    """(line number, record or None, reason) for a CSV whose header must hold ``required`` columns.

    Multi-line quoted cells are supported: the line number is the line where the record starts.
    """
    lines = _text_lines(path)
    try:
        first_no, first, reason = next(lines)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    if first is None:
        raise ImportFileError(f"line {first_no}: {reason}")
    header = next(csv.reader([first.lstrip("\ufeff")]))
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFileError(
            f"line 1: missing column(s) {', '.join(missing)}; expected {', '.join(required)}; found "
            f"{', '.join(header[:12]) or 'nothing'}"
        )
    pending: list[str] = []
    start = 0
    for number, text, reason in lines:
        if text is None:
            if pending:
                yield start, None, "a quoted cell is not closed"
                pending = []
            yield number, None, reason
            continue
        if not pending:
            start = number
        pending.append(text)
        joined = "".join(pending)
        if joined.count('"') % 2:  # inside a quoted cell that continues on the next line
            if len(pending) > 200:
                yield start, None, "a quoted cell is not closed"
                pending = []
            continue
        pending = []
        if not joined.strip():
            continue
        try:
            values = next(csv.reader(io.StringIO(joined)))
        except csv.Error as exc:
            yield start, None, f"not valid CSV ({exc})"
            continue
        if len(values) != len(header):
            yield start, None, f"expected {len(header)} columns, found {len(values)}"
            continue
        yield start, dict(zip(header, values, strict=True)), ""
    if pending:
        yield start, None, "a quoted cell is not closed at the end of the file"


def _tweet_id(value: str, column: str) -> str:
    value = value.strip()
    if value.endswith(".0"):  # the Kaggle file writes some ids as floats ("3.0")
        value = value[:-2]
    if not is_numeric_id(value):  # ASCII digits: "²" and "١٢" are not tweet ids
        raise ValueError(f"{column} {value!r} is not a tweet id")
    return value


# --- Kaggle "Customer Support on Twitter" (twcs) ------------------------------------------------------------------

TWCS_COLUMNS = ("tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
                "in_response_to_tweet_id")


def _twcs_time(value: str) -> datetime:
    try:
        return datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        raise ValueError(f"created_at {value!r} is not a date like 'Tue Oct 31 22:10:47 +0000 2017'") from None


def read_twcs(path: Path) -> Iterator[Row]:
    """Kaggle TWCS rows. Outbound authors are brands' official accounts (handle = author id)."""
    for line, record, reason in _csv_records(path, required=TWCS_COLUMNS):
        if record is None:
            yield Row(line, rejected=Rejected(line, reason))
            continue
        try:
            tweet_id = _tweet_id(record["tweet_id"], "tweet_id")
            author = record["author_id"].strip()
            if not author:
                raise ValueError("author_id is empty")
            inbound = record["inbound"].strip()
            if inbound not in ("True", "False"):
                raise ValueError(f"inbound {inbound!r} is not True or False")
            parent = record["in_response_to_tweet_id"].strip()
            parent = _tweet_id(parent, "in_response_to_tweet_id") if parent else ""
            created = _twcs_time(record["created_at"])
        except ValueError as exc:
            yield Row(line, rejected=Rejected(line, str(exc)))
            continue
        yield Row(line, post=NormalisedPost(
            platform="x", platform_id=tweet_id, author_id=author, author_handle=author, created_at=created,
            text=record["text"], in_reply_to_id=parent, url=f"https://x.com/i/status/{tweet_id}",
            raw={"inbound": inbound == "True", "format": "twcs"},
        ))


def twcs_brand_handles(path: Path) -> set[str]:
    """First pass: the outbound authors (brands) of a TWCS file, so every customer post can match them."""
    handles = set()
    for _line, record, _reason in _csv_records(path, required=TWCS_COLUMNS):
        if record and record["inbound"].strip() == "False" and record["author_id"].strip():
            handles.add(record["author_id"].strip())
    return handles


# --- X API v2 pages, one JSON object per line (twarc2) ------------------------------------------------------------

def read_x_jsonl(path: Path) -> Iterator[Row]:
    for line, text, reason in _text_lines(path):
        if text is None:
            yield Row(line, rejected=Rejected(line, reason))
            continue
        if not text.strip():
            continue
        try:
            page = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Row(line, rejected=Rejected(line, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(page, dict) or not isinstance(page.get("data", []), list):
            yield Row(line, rejected=Rejected(line, 'expected an X API page: an object with a "data" list'))
            continue
        users = {u.get("id"): u for u in (page.get("includes") or {}).get("users", []) if isinstance(u, dict)}
        for tweet in page.get("data", []):
            try:
                if not isinstance(tweet, dict) or not is_numeric_id(str(tweet.get("id", ""))):
                    raise ValueError(f"tweet id {tweet.get('id') if isinstance(tweet, dict) else tweet!r} is not an id")
                yield Row(line, post=tweet_to_post(tweet, users))
            except (ValueError, KeyError, TypeError) as exc:
                yield Row(line, rejected=Rejected(line, str(exc)))


# --- IBM Twitter customer care (CDP) ------------------------------------------------------------------------------

def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def read_ibm_cdp(path: Path) -> Iterator[Row]:
    """IBM CDP conversations: each turn replies to the one before; the agent's URL reply closes the dialog and is
    credited to the dialog's company (``dialogHeader.company``).

    The file is one JSON array; it is read whole (the published dev split is 0.7 MB).
    """
    try:
        dialogs = json.loads(Path(path).read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(dialogs, list):
        raise ImportFileError("expected a JSON array of conversations")
    for index, dialog in enumerate(dialogs, start=1):
        try:
            company = dialog["dialogHeader"]["company"]
            previous = ""
            previous_author = ""
            turns = dialog["dialogContent"]
            root = turns[0]["tweet_ID"]
            for turn in turns:
                # Customers are "client" (and "client1", "client2"... when several take part); agents "agent".
                author = next((v for k, v in turn.items() if k.startswith(("client", "agent")) and v), "")
                if not author:
                    raise ValueError("a turn names neither a client nor an agent")
                pid = _tweet_id(turn["tweet_ID"], "tweet_ID")
                yield Row(index, post=NormalisedPost(
                    platform="x", platform_id=pid, author_id=author, author_handle=author,
                    created_at=_iso(turn["datetime"]), text=turn.get("message", ""), in_reply_to_id=previous,
                    in_reply_to_author_id=previous_author, conversation_id=root,
                    url=f"https://x.com/{author}/status/{pid}", raw={"format": "ibm-cdp", "company": company},
                ))
                previous, previous_author = pid, author
            agent = dialog["agentURL"]
            agent_id = _tweet_id(agent["tweet_ID"], "agentURL.tweet_ID")
            # The closing reply (the support link) is the dialog's company's: an agent of another brand who
            # answered earlier in the thread (a customer tagging two brands) did not write it.
            agent_handle = company
            yield Row(index, post=NormalisedPost(
                platform="x", platform_id=agent_id, author_id=agent_handle, author_handle=agent_handle,
                # The agent reply has no datetime in the file: its tweet id (a snowflake) carries the time.
                created_at=snowflake_time(agent_id), text=agent.get("url_utterance", ""), in_reply_to_id=previous,
                in_reply_to_author_id=previous_author, conversation_id=root,
                url=f"https://x.com/{agent_handle}/status/{agent_id}", raw={"format": "ibm-cdp", "company": company},
            ))
        except KeyError as exc:
            yield Row(index, rejected=Rejected(index, f"conversation {index}: field {exc.args[0]!r} is missing"))
        except (IndexError, TypeError, ValueError) as exc:
            yield Row(index, rejected=Rejected(index, f"conversation {index}: {exc or 'no turns'}"))


def ibm_cdp_brand_handles(path: Path) -> set[str]:
    handles = set()
    try:
        for dialog in json.loads(Path(path).read_bytes().decode("utf-8")):
            for turn in dialog.get("dialogContent", []):
                if turn.get("agent"):
                    handles.add(turn["agent"])
            handles.add(dialog.get("dialogHeader", {}).get("company", ""))
    except (ValueError, AttributeError, TypeError):
        return set()
    return {h for h in handles if h}


READERS: dict[str, Callable[[Path], Iterator[Row]]] = {
    "twcs": read_twcs, "x-jsonl": read_x_jsonl, "ibm-cdp": read_ibm_cdp,
}


@transaction.atomic
def brands_ensure_for_handles(handles: set[str], *, platform: str = "x") -> int:
    """Create one brand with one official account per handle not yet known (TWCS and IBM files name brands
    only by their support handle). Returns how many brands were created."""
    known = {h.lower() for h in OfficialAccount.objects.filter(platform=platform).values_list("handle", flat=True)}
    created = 0
    for handle in sorted(handles):
        if handle.lower() in known:
            continue
        slug = slugify(handle)[:70] or "brand"
        base, n = slug, 2
        while Brand.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        brand = Brand.objects.create(name=handle, slug=slug, time_zone="UTC", languages=["en"])
        OfficialAccount.objects.create(brand=brand, platform=platform, handle=handle, platform_user_id=handle)
        created += 1
    return created


def posts_import(*, path: Path, fmt: str, on_rejected: Callable[[Rejected], None] = lambda r: None,
                 on_progress: Callable[[int], None] = lambda n: None, batch_size: int = BATCH_SIZE) -> ImportSummary:
    """Import a file: valid rows are stored in batches (one transaction each), bad rows are reported and skipped.

    Rerunning the same file stores nothing new. Raises ImportFileError when the file cannot be read at all.
    """
    if fmt not in READERS:
        raise ImportFileError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path} is not a file")
    summary = ImportSummary()
    if fmt == "twcs":
        summary.brands_created = brands_ensure_for_handles(twcs_brand_handles(path))
    elif fmt == "ibm-cdp":
        summary.brands_created = brands_ensure_for_handles(ibm_cdp_brand_handles(path))
    batch: list[NormalisedPost] = []
    lines: dict[tuple[str, str], int] = {}
    origin = f"import_posts --format {fmt} {path.name}"[:255]
    unreadable: list[Rejected] = []

    def flush() -> None:
        result: IngestResult = posts_ingest(posts=batch, origin=origin, lines=lines)
        summary.stored += result.stored
        summary.updated += result.updated
        summary.duplicates += result.duplicates
        # Posts the file held but Hotline could not store (an impossible date...): reported like bad rows.
        for item in result.rejects:
            summary.rejected += 1
            on_rejected(Rejected(item.line or 0, f"post {item.platform_id}: {item.reason}"))
        on_progress(len(batch))
        batch.clear()
        lines.clear()

    def set_aside() -> None:
        rejects_record_rows(unreadable, origin=origin)
        unreadable.clear()

    for row in READERS[fmt](path):
        summary.read += 1
        if row.rejected is not None:
            summary.rejected += 1
            on_rejected(row.rejected)
            unreadable.append(row.rejected)
            if len(unreadable) >= batch_size:
                set_aside()
            continue
        batch.append(row.post)
        lines[(row.post.platform, row.post.platform_id)] = row.line
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if unreadable:
        set_aside()
    return summary
