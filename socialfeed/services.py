"""Writes of the socialfeed app: storing posts exactly once and keeping mentions and first responses true.

``posts_ingest`` is the one door every poller, importer and the demo replay goes through:

1. store each post once (unique platform + platform id; a post seen again with new text is an edit);
2. give it a conversation (METRICS.md §1): the platform's own id, otherwise the root reached through stored reply
   links, re-rooting posts that were waiting for a missing parent when that parent arrives;
3. mark official posts as reply or broadcast (METRICS.md §1) and create (post, brand) mentions (METRICS.md §2);
4. recompute the first response (METRICS.md §3) of every (brand, conversation, author) group the batch touched.

Step 4 recomputes whole groups from stored rows instead of patching single mentions, which is what makes the
result independent of arrival order: the stored outcome always equals a full recomputation
(``responses_recompute``), whatever order posts arrive in.
"""
from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from socialfeed import tone
from socialfeed.locks import mention_writes_serialise
from socialfeed.matching import BrandDirectory
from socialfeed.models import Mention, Post, PostAlias, RejectedPost, Source
from socialfeed.normalised import NormalisedPost, Unstorable, json_clean, post_fit
from socialfeed.post_links import web_link
from socialfeed.rollups import rollups_refresh
from socialfeed.signals import posts_ingested

logger = logging.getLogger(__name__)

# The fields matching and linking read; loading only these keeps big batches light.
_MATCH_FIELDS = (
    "id", "platform", "platform_id", "author_id", "author_handle", "created_at", "text", "in_reply_to_id",
    "in_reply_to_author_id", "conversation_id", "is_repost", "official_brand_id", "official_kind",
    "sentiment_score", "sentiment_label", "tone_analyser", "lang", "category", "is_public", "edited_at",
)

# Group key for METRICS.md §3: (brand id, platform, conversation id, author id).
GroupKey = tuple[int, str, str, str]


@dataclass(frozen=True)
class RejectedItem:
    """A post set aside instead of stored: what it was and why (``line``: its row in an imported file)."""

    platform: str
    platform_id: str
    reason: str
    line: int | None = None


@dataclass
class IngestResult:
    read: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    mentions_created: int = 0
    rejected: int = 0
    rejects: list[RejectedItem] = field(default_factory=list)
    # Brands whose mentions or official posts the batch created or changed (announced by posts_ingested).
    brand_ids: set[int] = field(default_factory=set)

    def __iadd__(self, other: IngestResult) -> IngestResult:
        self.read += other.read
        self.stored += other.stored
        self.updated += other.updated
        self.duplicates += other.duplicates
        self.mentions_created += other.mentions_created
        self.rejected += other.rejected
        self.rejects += other.rejects
        self.brand_ids |= other.brand_ids
        return self


# Errors that one post's data can cause while its batch is written (a value PostgreSQL refuses, a constraint, a
# conversion that overflows). A batch failing with one of these is stored again post by post, so that only the
# posts that cause it are set aside. Anything else (the database going away, a bug) fails the whole batch, which
# is then retried as a whole: it is not the posts' fault.
_POISON_ERRORS: tuple[type[BaseException], ...] = (DataError, IntegrityError, ValueError, TypeError, OverflowError,
                                                   UnicodeError)
try:  # rows written through psycopg's COPY raise psycopg's own classes, not Django's wrappers
    import psycopg

    _POISON_ERRORS += (psycopg.DataError, psycopg.IntegrityError)
except ImportError:  # pragma: no cover - psycopg is a requirement; SQLite runs raise Django's classes
    pass


def posts_ingest(*, posts: Iterable[NormalisedPost], source: Source | None = None,
                 directory: BrandDirectory | None = None, origin: str = "",
                 lines: dict[tuple[str, str], int] | None = None, announce: bool = True) -> IngestResult:
    """Store a batch of posts in one transaction and bring mentions and first responses up to date.

    Idempotent: the same batch ingested twice, by two workers at once, or again after a crash stores each post
    once. Callers keep batches bounded (importers and pollers use a few thousand posts at most).

    One bad post never costs the others: every post is first made to fit (``normalised.post_fit``); one that
    cannot is set aside, and if the batch still fails on a post's data it is stored post by post. Each post set
    aside is recorded as a ``RejectedPost`` with its reason (``origin`` and ``lines`` name an imported file's
    rows) and returned in ``IngestResult.rejects``.

    Once the batch has committed, ``socialfeed.signals.posts_ingested`` names the brands it touched (their alerts
    are checked at once). ``announce=False`` for bulk loads of history, where a check per batch would raise and
    clear alerts on a half-loaded past.
    """
    batch: dict[tuple[str, str], NormalisedPost] = {}
    rejects: list[RejectedItem] = []
    raw_of: dict[tuple[str, str], dict] = {}
    read = 0
    lines = lines or {}
    for post in posts:
        read += 1
        try:
            fitted = post_fit(post)
        except Unstorable as exc:
            key = (str(post.platform), str(post.platform_id))
            rejects.append(RejectedItem(key[0], key[1][:128], str(exc), lines.get(key)))
            raw_of[key] = _raw_of(post)
            continue
        batch[(fitted.platform, fitted.platform_id)] = fitted  # the last copy of a post in a batch wins
    result = IngestResult(read=read, duplicates=read - len(batch) - len(rejects))
    if batch:
        directory = directory or BrandDirectory.load()
        try:
            _ingest_atomic(batch=batch, source=source, directory=directory, result=result)
        except _POISON_ERRORS as exc:
            if len(batch) == 1:
                (key, post), = batch.items()
                rejects.append(RejectedItem(key[0], key[1], _db_reason(exc), lines.get(key)))
                raw_of[key] = _raw_of(post)
            else:
                logger.warning("a batch of %s posts failed on a post's data (%s); storing it post by post",
                               len(batch), _db_reason(exc))
                for key, post in batch.items():
                    one = posts_ingest(posts=[post], source=source, directory=directory, origin=origin,
                                       lines={key: lines[key]} if key in lines else None, announce=False)
                    result.stored += one.stored
                    result.updated += one.updated
                    result.duplicates += one.duplicates
                    result.mentions_created += one.mentions_created
                    result.rejected += one.rejected
                    result.rejects += one.rejects
                    result.brand_ids |= one.brand_ids
    if rejects:
        _rejects_record(rejects, raw_of=raw_of, source=source, origin=origin)
        result.rejected += len(rejects)
        result.rejects += rejects
    if announce and result.brand_ids:
        # After commit (now, or when the caller's own transaction commits): listeners see the stored batch.
        transaction.on_commit(partial(_announce, sorted(result.brand_ids)), robust=True)
    return result


def _ingest_atomic(*, batch: dict[tuple[str, str], NormalisedPost], source: Source | None,
                   directory: BrandDirectory, result: IngestResult) -> None:
    # METRICS.md §6: the whole batch is scored in one matrix product (same results as post by post), before the
    # transaction: scoring needs no database, so another worker can store its batch meanwhile.
    keys = list(batch)
    scores = dict(zip(keys, tone.analyse_many([batch[k].text or "" for k in keys],
                                              [batch[k].lang or "" for k in keys]), strict=True))
    counts = IngestResult()
    with transaction.atomic():
        mention_writes_serialise()  # concurrent workers each see the batches committed before theirs
        _ingest_batch(batch=batch, source=source, directory=directory, result=counts, scores=scores)
    # Counted only once committed: a batch that fails and is stored again post by post is not counted twice.
    result.stored += counts.stored
    result.updated += counts.updated
    result.duplicates += counts.duplicates
    result.mentions_created += counts.mentions_created
    result.brand_ids |= counts.brand_ids


def _db_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"could not be stored: {text[:500]}"


def _raw_of(post: object) -> dict:
    raw = getattr(post, "raw", None)
    return json_clean(raw) if isinstance(raw, dict) else {}


def rejects_record_rows(rejects: list, *, origin: str, source: Source | None = None) -> None:
    """Keep rows an importer could not read at all (bad CSV, bad JSON...) with their line and reason."""
    rows = [RejectedPost(source=source, origin=origin[:255], line=r.line or None, reason=r.reason,
                         raw={"line": r.line}) for r in rejects]
    RejectedPost.objects.bulk_create(rows, batch_size=500)


def _rejects_record(rejects: list[RejectedItem], *, raw_of: dict, source: Source | None, origin: str) -> None:
    """Keep every post set aside, with its reason, for the admin's list and the source's page."""
    rows = [RejectedPost(source=source, origin=origin[:255], line=r.line, platform=r.platform[:16],
                         platform_id=r.platform_id[:128], reason=r.reason, raw=raw_of.get((r.platform, r.platform_id), {}))
            for r in rejects]
    with transaction.atomic():
        RejectedPost.objects.bulk_create(rows, batch_size=500)
        if source is not None:
            Source.objects.filter(pk=source.pk).update(posts_rejected=F("posts_rejected") + len(rows))
    for r in rejects:
        logger.warning("post %s:%s set aside: %s", r.platform, r.platform_id, r.reason)


def _announce(brand_ids: list[int]) -> None:
    for receiver, response in posts_ingested.send_robust(sender=posts_ingest, brand_ids=brand_ids):
        if isinstance(response, Exception):
            # Storing succeeded; a listener failing (the broker is down) only delays alerts to the next beat.
            logger.warning("posts_ingested listener %s failed: %s", getattr(receiver, "__name__", receiver),
                           response)


def _ingest_batch(*, batch: dict[tuple[str, str], NormalisedPost], source: Source | None,
                  directory: BrandDirectory, result: IngestResult,
                  scores: dict[tuple[str, str], tone.ToneResult]) -> None:
    by_platform: dict[str, dict[str, NormalisedPost]] = defaultdict(dict)
    for (platform, platform_id), post in batch.items():
        by_platform[platform][platform_id] = post
    affected: set[GroupKey] = set()
    touched: set[tuple[int, datetime]] = set()  # (brand, created_at) of mentions created or changed
    for platform, posts in by_platform.items():
        affected |= _ingest_platform(platform=platform, posts=posts, source=source, directory=directory,
                                     result=result, touched=touched,
                                     scores={pid: scores[(platform, pid)] for pid in posts})
    _groups_recompute(affected, touched=touched)
    # The board's per-minute rollups follow the mentions in the same transaction, so they never disagree.
    rollups_refresh(brand_ids_minutes=touched)
    result.brand_ids |= {brand_id for brand_id, _moment in touched}


def _ingest_platform(*, platform: str, posts: dict[str, NormalisedPost], source: Source | None,
                     directory: BrandDirectory, result: IngestResult,
                     touched: set[tuple[int, datetime]], scores: dict[str, tone.ToneResult]) -> set[GroupKey]:
    posts = _aliases_resolve(platform=platform, posts=posts)
    existing = {
        p.platform_id: p
        for p in Post.objects.filter(platform=platform, platform_id__in=list(posts)).only(*_MATCH_FIELDS)
    }
    now = timezone.now()
    # ``scores``: every post of the batch, scored by posts_ingest before the transaction (METRICS.md §6).

    # Edits: a post seen again with other text keeps its row and its mentions; its text and tone change. A post
    # the platform dates its edits for (``edited_at``) only takes a later version: an older copy changes nothing.
    edited: list[Post] = []
    for platform_id, stored in existing.items():
        incoming = posts[platform_id]
        if _edit_applies(stored=stored, incoming=incoming):
            stored.text = incoming.text
            if incoming.edited_at is None:
                stored.edited_at = now
            elif incoming.edited_at > stored.created_at:
                stored.edited_at = incoming.edited_at
            _apply_tone(stored, incoming, scores[platform_id])
            edited.append(stored)
        else:
            result.duplicates += 1
    if edited:
        Post.objects.bulk_update(
            edited, ["text", "edited_at", "sentiment_score", "sentiment_label", "tone_analyser", "lang", "category"]
        )
        result.updated += len(edited)

    fresh = {pid: post for pid, post in posts.items() if pid not in existing}
    conversations = _conversations_for(platform=platform, posts=fresh)
    parents = _stored_parents(platform=platform, posts=fresh)
    # A status-feed source belongs to its brand: its entries are that brand's broadcasts (METRICS.md §1).
    feed_brand_id = source.brand_id if source is not None and source.kind == Source.Kind.STATUS_FEED else None
    rows: list[Post] = []
    for platform_id, incoming in fresh.items():
        edited_at = incoming.edited_at if incoming.edited_at and incoming.edited_at > incoming.created_at else None
        row = Post(
            platform=platform, platform_id=platform_id, author_id=incoming.author_id,
            author_handle=incoming.author_handle, created_at=incoming.created_at, text=incoming.text,
            lang=incoming.lang, in_reply_to_id=incoming.in_reply_to_id,
            in_reply_to_author_id=incoming.in_reply_to_author_id, conversation_id=conversations[platform_id],
            is_repost=incoming.is_repost, url=web_link(incoming.url), raw=incoming.raw, source=source,
            is_public=incoming.is_public, edited_at=edited_at,
        )
        # METRICS.md §1: a repost by a brand's account is not the brand's own word: neither reply nor broadcast.
        official = None if incoming.is_repost else directory.official_account_of(
            platform=platform, author_id=incoming.author_id, author_handle=incoming.author_handle)
        if official:
            row.official_account_id, row.official_brand_id = official
            row.official_kind = _official_kind(row=row, fresh=fresh, parents=parents, directory=directory)
        elif feed_brand_id is not None:
            row.official_brand_id, row.official_kind = feed_brand_id, Post.OfficialKind.BROADCAST
        _apply_tone(row, incoming, scores[platform_id])
        rows.append(row)
    # ignore_conflicts: a racing worker may have stored some of these since we looked; theirs stands.
    inserted = _posts_insert(rows)
    stored: dict[str, Post] = {}
    for row in rows:
        if row.platform_id in inserted:  # our rows, now with their ids: no need to read them back
            row.pk = inserted[row.platform_id]
            row._state.adding, row._state.db = False, connection.alias
            stored[row.platform_id] = row
    missing = [pid for pid in fresh if pid not in stored]  # SQLite, or rows another writer stored first
    if missing:
        stored.update({
            p.platform_id: p
            for p in Post.objects.filter(platform=platform, platform_id__in=missing).only(*_MATCH_FIELDS)
        })
    result.stored += len(fresh)
    # An official post can acknowledge an incident or be its update (METRICS.md §5): its brand's alerts change.
    result.brand_ids.update(row.official_brand_id for row in [*rows, *edited] if row.official_brand_id)

    affected: set[GroupKey] = set()
    affected |= _aliases_record(platform=platform, posts=posts, stored={**stored, **{p.platform_id: p for p in
                                                                                 existing.values()}})
    affected |= _reroot_waiting_posts(platform=platform, arrived=stored)
    affected |= _official_children_update(platform=platform, arrived=stored, directory=directory)
    listed = {pid: (p.mentioned_handles, p.mentioned_ids) for pid, p in posts.items()
              if p.mentioned_handles is not None or p.mentioned_ids}
    new_mentions = _mentions_for(platform=platform, candidates=list(stored.values()) + edited,
                                 parents=parents, directory=directory, listed=listed)
    if new_mentions:
        Mention.objects.bulk_create(new_mentions, batch_size=1000, ignore_conflicts=True)
        result.mentions_created += len(new_mentions)
        touched.update((m.brand_id, m.created_at) for m in new_mentions)
    if source is not None and fresh:
        # F(): two workers storing for one source must not overwrite each other's counts.
        Source.objects.filter(pk=source.pk).update(posts_stored=F("posts_stored") + len(fresh))

    # Every group the arrivals can change: groups of the arriving posts' authors in their conversations, and
    # groups of the posts the arriving official replies answer.
    triples = {(p.conversation_id, p.author_id) for p in stored.values()}
    triples |= {(p.conversation_id, p.author_id) for p in edited}
    affected |= _groups_with_mentions(platform=platform, triples=triples)
    reply_targets = [p.in_reply_to_id for p in stored.values()
                     if p.official_kind == Post.OfficialKind.REPLY and p.in_reply_to_id]
    if reply_targets:
        targets = set(Post.objects.filter(platform=platform, platform_id__in=reply_targets).values_list(
            "conversation_id", "author_id"))
        affected |= _groups_with_mentions(platform=platform, triples=targets)
    return affected


def _edit_applies(*, stored: Post, incoming: NormalisedPost) -> bool:
    """A post seen again replaces the stored text when it is a later version: a copy that says when it was
    edited replaces an older version; a copy that says nothing (an unedited original, or a platform that dates
    no edits) replaces only a post never edited, so an older copy seen again never undoes an edit."""
    if incoming.edited_at is None:
        return incoming.text != stored.text and stored.edited_at is None
    if stored.edited_at is not None and incoming.edited_at <= stored.edited_at:
        return False  # an older copy (or the same version) of a post stored at a later version
    return incoming.text != stored.text or (incoming.edited_at > stored.created_at and stored.edited_at is None)


def _aliases_resolve(*, platform: str, posts: dict[str, NormalisedPost]) -> dict[str, NormalisedPost]:
    """Replies to another version of a post (X edits) reply to the post itself: rewrite their links."""
    in_batch = {alias: pid for pid, p in posts.items() for alias in p.aliases}
    linked = {v for p in posts.values() for v in (p.in_reply_to_id, p.conversation_id) if v}
    unknown = [v for v in linked if v not in in_batch and v not in posts]
    known = dict(PostAlias.objects.filter(platform=platform, alias_id__in=unknown).values_list(
        "alias_id", "post__platform_id")) if unknown else {}
    canonical = {**known, **in_batch}
    if not canonical:
        return posts
    out = {}
    for pid, post in posts.items():
        reply_to = canonical.get(post.in_reply_to_id, post.in_reply_to_id)
        conversation = canonical.get(post.conversation_id, post.conversation_id)
        if (reply_to, conversation) != (post.in_reply_to_id, post.conversation_id):
            post = dataclasses.replace(post, in_reply_to_id=reply_to, conversation_id=conversation)
        out[pid] = post
    return out


def _aliases_record(*, platform: str, posts: dict[str, NormalisedPost], stored: dict[str, Post]) -> set[GroupKey]:
    """Remember every other id of the arriving posts, and re-point replies stored before their version was known.

    Returns the §3 groups those re-pointed replies can change.
    """
    wanted = {alias: stored[pid] for pid, p in posts.items() if pid in stored for alias in p.aliases}
    if not wanted:
        return set()
    PostAlias.objects.bulk_create([PostAlias(platform=platform, alias_id=a, post_id=p.pk) for a, p in wanted.items()],
                                  ignore_conflicts=True)
    children = list(Post.objects.filter(platform=platform, in_reply_to_id__in=list(wanted)).only(
        "id", "in_reply_to_id", "conversation_id"))
    for child in children:
        child.in_reply_to_id = wanted[child.in_reply_to_id].platform_id
    if children:
        Post.objects.bulk_update(children, ["in_reply_to_id"], batch_size=1000)
    targets = {(p.conversation_id, p.author_id) for p in wanted.values()}
    return _groups_with_mentions(platform=platform, triples=targets) if children else set()


# Columns written by _posts_insert, in table order of the COPY below.
_INSERT_FIELDS = [f for f in Post._meta.concrete_fields if not f.primary_key]
# Fields whose Python value psycopg writes as it is (text, numbers, booleans, foreign key ids): asking Django to
# prepare each of them, for every cell, took a tenth of ingestion time. The others (JSON, dates) are prepared.
_AS_IS_TYPES = {"CharField", "TextField", "BooleanField", "FloatField", "IntegerField", "BigIntegerField",
                "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField", "ForeignKey"}
_INSERT_PLAN = [(f, f.get_internal_type() not in _AS_IS_TYPES) for f in _INSERT_FIELDS]


def _posts_insert(rows: list[Post]) -> dict[str, int]:
    """Insert new posts, leaving alone any a racing worker stored meanwhile (its row stands). Returns the ids of
    the rows inserted, by platform id (empty on SQLite, whose bulk insert does not return them).

    On PostgreSQL the rows go through COPY into a temporary table and one INSERT ... ON CONFLICT DO NOTHING:
    several times faster than a multi-row INSERT with a parameter per cell, which dominated ingestion time.
    """
    if not rows:
        return {}
    if connection.vendor != "postgresql":
        Post.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        return {}
    now = timezone.now()
    table = Post._meta.db_table
    columns = [f.column for f in _INSERT_FIELDS]
    column_list = ", ".join(f'"{c}"' for c in columns)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS hotline_post_in ON COMMIT DELETE ROWS AS "
                       f'SELECT {column_list} FROM "{table}" WITH NO DATA')
        cursor.execute("TRUNCATE hotline_post_in")
        with cursor.cursor.copy(f"COPY hotline_post_in ({column_list}) FROM STDIN") as copy:
            for row in rows:
                if row.first_seen_at is None:
                    row.first_seen_at = now
                copy.write_row([f.get_db_prep_save(getattr(row, f.attname), connection) if prepare
                                else getattr(row, f.attname) for f, prepare in _INSERT_PLAN])
        cursor.execute(f'INSERT INTO "{table}" ({column_list}) SELECT {column_list} FROM hotline_post_in '
                       "ON CONFLICT (platform, platform_id) DO NOTHING RETURNING platform_id, id")
        return dict(cursor.fetchall())


def _apply_tone(row: Post, incoming: NormalisedPost, result: tone.ToneResult) -> None:
    """METRICS.md §6: store the default analyser's score of every post; categorise official posts."""
    row.sentiment_score = result.score
    row.sentiment_label = result.label
    row.tone_analyser = result.analyser
    if not row.lang and result.lang:
        row.lang = result.lang
    if row.official_brand_id:
        row.category = tone.categorise(incoming.text, lang=row.lang)


def _conversations_for(*, platform: str, posts: dict[str, NormalisedPost]) -> dict[str, str]:
    """METRICS.md §1 conversation: the platform's id where given, else the root reached through stored links.

    A chain whose top is not stored yet is keyed by the id of its first missing ancestor; when that ancestor
    arrives, ``_reroot_waiting_posts`` moves the chain under the ancestor's own conversation.
    """
    resolved: dict[str, str] = {}
    missing_parent_ids = {
        p.in_reply_to_id for p in posts.values()
        if not p.conversation_id and p.in_reply_to_id and p.in_reply_to_id not in posts
    }
    stored_parent_conv = dict(
        Post.objects.filter(platform=platform, platform_id__in=list(missing_parent_ids)).values_list(
            "platform_id", "conversation_id")
    ) if missing_parent_ids else {}

    def resolve(platform_id: str, depth: int = 0) -> str:
        if platform_id in resolved:
            return resolved[platform_id]
        post = posts[platform_id]
        if post.conversation_id:
            conv = post.conversation_id
        elif not post.in_reply_to_id or depth > 500:
            conv = platform_id
        elif post.in_reply_to_id in posts:
            conv = resolve(post.in_reply_to_id, depth + 1)
        else:
            conv = stored_parent_conv.get(post.in_reply_to_id) or post.in_reply_to_id
        resolved[platform_id] = conv
        return conv

    for platform_id in posts:
        resolve(platform_id)
    return resolved


def _stored_parents(*, platform: str, posts: dict[str, NormalisedPost]) -> dict[str, Post]:
    """Parents of the batch's replies, whether in the database already or in the batch itself (not yet saved)."""
    parent_ids = {p.in_reply_to_id for p in posts.values() if p.in_reply_to_id}
    if not parent_ids:
        return {}
    return {
        p.platform_id: p
        for p in Post.objects.filter(platform=platform, platform_id__in=list(parent_ids)).only(
            "id", "platform_id", "author_id", "official_brand_id", "conversation_id")
    }


def _official_kind(*, row: Post, fresh: dict[str, NormalisedPost], parents: dict[str, Post],
                   directory: BrandDirectory) -> str:
    """METRICS.md §1: an official post is a reply when it replies to a post that is not the brand's own."""
    if not row.in_reply_to_id:
        return Post.OfficialKind.BROADCAST
    brand_id = row.official_brand_id
    parent = parents.get(row.in_reply_to_id)
    if parent is not None:
        own = parent.official_brand_id == brand_id
    elif row.in_reply_to_id in fresh:
        p = fresh[row.in_reply_to_id]
        found = directory.official_account_of(platform=row.platform, author_id=p.author_id,
                                              author_handle=p.author_handle)
        own = bool(found) and found[1] == brand_id
    else:
        own = directory.is_brand_user(brand_id=brand_id, platform=row.platform, user_id=row.in_reply_to_author_id)
    return Post.OfficialKind.BROADCAST if own else Post.OfficialKind.REPLY


def _reroot_waiting_posts(*, platform: str, arrived: dict[str, Post]) -> set[GroupKey]:
    """Posts keyed by a missing parent's id join that parent's conversation once it arrives."""
    moves = {pid: p.conversation_id for pid, p in arrived.items() if p.conversation_id != pid}
    if not moves:
        return set()
    waiting = list(Post.objects.filter(platform=platform, conversation_id__in=list(moves)).only(
        "id", "conversation_id", "author_id"))
    if not waiting:
        return set()
    triples = set()
    for post in waiting:
        post.conversation_id = moves[post.conversation_id]
        triples.add((post.conversation_id, post.author_id))
    Post.objects.bulk_update(waiting, ["conversation_id"], batch_size=1000)
    return _groups_with_mentions(platform=platform, triples=triples)


def _official_children_update(*, platform: str, arrived: dict[str, Post],
                              directory: BrandDirectory) -> set[GroupKey]:
    """When an official post arrives after its replies: its brand's own follow-ups become broadcasts."""
    official_ids = {pid: p.official_brand_id for pid, p in arrived.items() if p.official_brand_id}
    if not official_ids:
        return set()
    children = Post.objects.filter(platform=platform, in_reply_to_id__in=list(official_ids)).only(
        "id", "in_reply_to_id", "official_brand_id", "official_kind")
    changed = []
    for child in children:
        if child.official_brand_id and child.official_brand_id == official_ids[child.in_reply_to_id] \
                and child.official_kind == Post.OfficialKind.REPLY:
            child.official_kind = Post.OfficialKind.BROADCAST
            changed.append(child)
    if changed:
        Post.objects.bulk_update(changed, ["official_kind"])
    return set()


def _mentions_for(*, platform: str, candidates: list[Post], parents: dict[str, Post],
                  directory: BrandDirectory,
                  listed: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...]]] | None = None) -> list[Mention]:
    """METRICS.md §2: (post, brand) mentions for the arriving posts, plus stored replies to arriving official posts.

    ``listed``: the accounts a platform itself lists as mentioned in a post (by platform id); for those posts
    §2 (a) reads the list instead of the text.
    """
    listed = listed or {}
    mentions: list[Mention] = []
    seen: set[tuple[int, int]] = set()
    existing = set(Mention.objects.filter(post__in=[c.pk for c in candidates]).values_list("post_id", "brand_id"))

    def add(post: Post, brand_id: int, matched_by: str) -> None:
        key = (post.pk, brand_id)
        if (key in seen or key in existing or post.official_brand_id == brand_id or post.is_repost
                or not post.is_public):  # §2: direct and followers-only messages are not mentions
            return
        seen.add(key)
        complaint = tone.is_complaint(post.text, label=post.sentiment_label, lang=post.lang)
        mentions.append(Mention(post_id=post.pk, brand_id=brand_id, created_at=post.created_at,
                                matched_by=matched_by, complaint=complaint, sentiment_label=post.sentiment_label))

    official_parent_brand = {pid: p.official_brand_id for pid, p in parents.items() if p.official_brand_id}
    by_platform_id = {c.platform_id: c for c in candidates}
    for post in candidates:
        handles, ids = listed.get(post.platform_id, (None, ()))
        if handles is not None or ids:
            by_handle = directory.brands_by_listed(platform=platform, handles=handles or (), ids=ids)
        else:
            by_handle = directory.brands_by_handle(platform=platform, text=post.text)
        for brand_id in by_handle:
            add(post, brand_id, Mention.MatchedBy.HANDLE)
        if post.in_reply_to_id:
            parent_brand = official_parent_brand.get(post.in_reply_to_id)
            if parent_brand is None and post.in_reply_to_id in by_platform_id:
                parent_brand = by_platform_id[post.in_reply_to_id].official_brand_id
            if parent_brand is None and post.in_reply_to_author_id:
                found = directory.by_user_id.get((platform, post.in_reply_to_author_id))
                parent_brand = found[1] if found else None
            if parent_brand:
                add(post, parent_brand, Mention.MatchedBy.REPLY)
        for brand_id in directory.brands_by_term(text=post.text):
            add(post, brand_id, Mention.MatchedBy.TERM)

    # Replies stored before the official post they answer become mentions now (§2 b).
    arrived_official = {c.platform_id: c.official_brand_id for c in candidates if c.official_brand_id}
    if arrived_official:
        late = list(Post.objects.filter(platform=platform, in_reply_to_id__in=list(arrived_official)).exclude(
            pk__in=[c.pk for c in candidates]).only(*_MATCH_FIELDS))
        existing |= set(Mention.objects.filter(post__in=[p.pk for p in late]).values_list("post_id", "brand_id"))
        for post in late:
            add(post, arrived_official[post.in_reply_to_id], Mention.MatchedBy.REPLY)
    return mentions


def _groups_with_mentions(*, platform: str, triples: set[tuple[str, str]]) -> set[GroupKey]:
    """The (brand, platform, conversation, author) groups that hold mentions for these (conversation, author)s."""
    if not triples:
        return set()
    groups: set[GroupKey] = set()
    conversations = {c for c, _ in triples}
    for chunk in _chunks(sorted(conversations), 500):
        # Posts first, through their (platform, conversation, author) index; then their mentions by post id.
        posts = {
            pk: (conv, author)
            # Filtering authors in Python: an IN list on both columns makes SQLite's planner scan the table.
            for pk, conv, author in Post.objects.filter(
                platform=platform, conversation_id__in=chunk
            ).values_list("id", "conversation_id", "author_id")
            if (conv, author) in triples
        }
        for ids in _chunks(list(posts), 1000):
            for post_id, brand_id in Mention.objects.filter(post_id__in=ids).values_list("post_id", "brand_id"):
                conv, author = posts[post_id]
                groups.add((brand_id, platform, conv, author))
    return groups


def _groups_recompute(groups: set[GroupKey], *, touched: set[tuple[int, datetime]] | None = None) -> int:
    """METRICS.md §3 first response, recomputed for whole groups. Returns how many mentions changed.

    For a mention M of brand B, the responses are B's official replies created at or after M that reply to a
    post by M's author in M's conversation created at or after M (M itself included). The first response is the
    earliest; ties are broken by platform id so that the answer never depends on arrival order.
    """
    if not groups:
        return 0
    changed: list[Mention] = []
    by_platform: dict[str, set[GroupKey]] = defaultdict(set)
    for key in groups:
        by_platform[key[1]].add(key)
    for platform, keys in by_platform.items():
        for chunk in _chunks(sorted(keys), 300):
            changed += _recompute_chunk(platform=platform, keys=set(chunk))
    if changed:
        _mentions_save_responses(changed)
        if touched is not None:
            touched.update((m.brand_id, m.created_at) for m in changed)
    return len(changed)


def _recompute_chunk(*, platform: str, keys: set[GroupKey]) -> list[Mention]:
    conv_author = {(k[2], k[3]) for k in keys}
    brand_ids = {k[0] for k in keys}
    conversations = list({c for c, _ in conv_author})
    author_posts: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for conv, author, created, pid in Post.objects.filter(
            platform=platform, conversation_id__in=conversations
    ).values_list("conversation_id", "author_id", "created_at", "platform_id"):
        if (conv, author) in conv_author:
            author_posts[(conv, author)].append((created, pid))
    target_ids = [pid for posts in author_posts.values() for _, pid in posts]
    # Official replies of the brands concerned, to any of those authors' posts.
    replies_to: dict[tuple[int, str], list[tuple[datetime, str, int]]] = defaultdict(list)
    for chunk in _chunks(target_ids, 1000):
        for brand_id, parent, created, pid, pk in Post.objects.filter(
                platform=platform, official_kind=Post.OfficialKind.REPLY, official_brand_id__in=brand_ids,
                in_reply_to_id__in=chunk,
        ).values_list("official_brand_id", "in_reply_to_id", "created_at", "platform_id", "id"):
            replies_to[(brand_id, parent)].append((created, pid, pk))
    changed = []
    mentions = Mention.objects.filter(
        brand_id__in=brand_ids, post__platform=platform, post__conversation_id__in=conversations,
    ).select_related("post").only(
        "id", "brand_id", "created_at", "first_response_id", "first_response_at", "frt_seconds", "answered",
        "post__conversation_id", "post__author_id", "post__created_at",
    )
    for mention in mentions:
        key = (mention.brand_id, platform, mention.post.conversation_id, mention.post.author_id)
        if key not in keys:
            continue
        best = first_response_of(
            mention_created_at=mention.post.created_at,
            author_posts=author_posts[(key[2], key[3])],
            replies=lambda parent, b=mention.brand_id: replies_to.get((b, parent), ()),
        )
        if best is None:
            values = (None, None, None, False)
        else:
            created, _pid, pk = best
            values = (pk, created, (created - mention.post.created_at).total_seconds(), True)
        current = (mention.first_response_id, mention.first_response_at, mention.frt_seconds, mention.answered)
        if current != values:
            (mention.first_response_id, mention.first_response_at, mention.frt_seconds, mention.answered) = values
            changed.append(mention)
    return changed


def _mentions_save_responses(mentions: list[Mention]) -> None:
    """Write first-response fields. On PostgreSQL one UPDATE ... FROM (VALUES ...) per 1,000 rows: Django's
    bulk_update builds a CASE per column and row, which dominated ingestion time at 100k posts."""
    if connection.vendor != "postgresql":
        Mention.objects.bulk_update(mentions, ["first_response", "first_response_at", "frt_seconds", "answered"],
                                    batch_size=1000)
        return
    table = Mention._meta.db_table
    with connection.cursor() as cursor:
        for chunk in _chunks(mentions, 1000):
            values = ", ".join(["(%s, %s, %s::timestamptz, %s::double precision, %s)"] * len(chunk))
            params = []
            for m in chunk:
                params += [m.pk, m.first_response_id, m.first_response_at, m.frt_seconds, m.answered]
            cursor.execute(
                f"UPDATE {table} AS m SET first_response_id = v.fr::bigint, first_response_at = v.fra, "
                f"frt_seconds = v.frt, answered = v.answered "
                f"FROM (VALUES {values}) AS v(id, fr, fra, frt, answered) WHERE m.id = v.id",
                params,
            )


def first_response_of(*, mention_created_at: datetime, author_posts: Iterable[tuple[datetime, str]],
                      replies) -> tuple[datetime, str, int] | None:
    """METRICS.md §3 first response: the earliest official reply, at or after M, to a post by M's author in M's
    conversation created at or after M. ``replies(parent_platform_id)`` gives (created, platform id, pk)."""
    best = None
    for created, pid in author_posts:
        if created < mention_created_at:
            continue
        for reply in replies(pid):
            if reply[0] >= mention_created_at and (best is None or reply[:2] < best[:2]):
                best = reply
    return best


def responses_recompute(*, brand_ids: Iterable[int] | None = None, progress=None) -> int:
    """Recompute every first response from scratch (``manage.py recompute_responses``). Returns mentions changed.

    Bounded work per step: groups are processed in chunks of 300, each in its own transaction.
    """
    qs = Mention.objects.all()
    if brand_ids is not None:
        qs = qs.filter(brand_id__in=list(brand_ids))
    keys = {
        (b, p, c, a)
        for b, p, c, a in qs.values_list("brand_id", "post__platform", "post__conversation_id", "post__author_id")
    }
    changed = 0
    ordered = sorted(keys)
    for chunk in _chunks(ordered, 300):
        with transaction.atomic():
            mention_writes_serialise()
            touched: set[tuple[int, datetime]] = set()
            changed += _groups_recompute(set(chunk), touched=touched)
            rollups_refresh(brand_ids_minutes=touched)
        if progress:
            progress(len(chunk))
    return changed


def mentions_rescan(*, brand_ids: Iterable[int] | None = None) -> int:
    """Match stored posts against brands again, after a brand gained an account or a term. Returns new mentions."""
    directory = BrandDirectory.load()
    created = 0
    qs = Post.objects.order_by("platform", "id")
    for platform in qs.values_list("platform", flat=True).distinct():
        last = 0
        while True:
            batch = list(qs.filter(platform=platform, id__gt=last).only(*_MATCH_FIELDS)[:2000])
            if not batch:
                break
            last = batch[-1].id
            with transaction.atomic():
                mention_writes_serialise()
                parents = {p.platform_id: p for p in Post.objects.filter(
                    platform=platform, platform_id__in=[b.in_reply_to_id for b in batch if b.in_reply_to_id]
                ).only("id", "platform_id", "official_brand_id")}
                new = _mentions_for(platform=platform, candidates=batch, parents=parents, directory=directory)
                if brand_ids is not None:
                    wanted = set(brand_ids)
                    new = [m for m in new if m.brand_id in wanted]
                Mention.objects.bulk_create(new, ignore_conflicts=True)
                created += len(new)
                touched = {(m.brand_id, m.created_at) for m in new}
                _groups_recompute(_groups_with_mentions(
                    platform=platform, triples={(b.conversation_id, b.author_id) for b in batch}), touched=touched)
                rollups_refresh(brand_ids_minutes=touched)
    return created


def _chunks(items: list, size: int) -> Iterator[list]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]
