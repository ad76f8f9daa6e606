"""The accurate tone tier's background re-read (METRICS.md §6): stored posts read again by the encoder, newest
incident first, on the Celery queue ``tone``.

Every post is scored inline by the fast tier as it is stored. When the accurate tier is on (``TONE_ACCURATE``,
by default whenever its optional extra is installed), ``tone_reread_dispatch`` claims the next posts that no
accurate analyser of this version has read, newest incident first, a few batches ahead of the workers, and
queues one ``tone_reread`` task per batch. Each task embeds its batch OUTSIDE any transaction (about a second
per 32 posts), then stores the new scores, the mentions' labels and complaints and the board's minute rollups
in one transaction (:func:`tone_results_store`, which ``rescore_tone`` uses too), so the board never shows a
post's new label beside its old count.

Claims are a timestamp on the post (``tone_queued_at``), taken with SELECT … FOR UPDATE SKIP LOCKED so two
dispatchers never hand out the same post; a worker that dies leaves its claim to expire after
:data:`CLAIM_SECONDS`, and the post is claimed again. A post edited meanwhile is rescored inline by the fast
tier and simply claimed again later: the re-read never writes over a text it did not read.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from socialfeed.locks import mention_writes_serialise
from socialfeed.models import Mention, Post
from socialfeed.rollups import rollups_refresh

BATCH = 32
# How many batches are claimed ahead of the workers: enough to keep two workers busy between dispatches, few
# enough that a new incident's posts overtake an old backlog within a few seconds.
LOOKAHEAD_BATCHES = 4
CLAIM_SECONDS = 300
# How many of the newest incidents are looked at before the rest of the backlog, newest post first.
INCIDENTS_FIRST = 20
# Posts older than this are left to ``rescore_tone --analyser accurate --since …`` (an imported history, say):
# the background re-read follows what is being stored now, and never walks the whole table.
REREAD_DAYS = 14
_POST_FIELDS = ("pk", "text", "lang", "official_kind", "tone_analyser", "category")


def enabled() -> bool:
    """Whether stored posts are re-read by the accurate tier: the ``TONE_ACCURATE`` setting (default: when the
    optional extra is installed)."""
    return bool(getattr(settings, "TONE_ACCURATE", False))


def tone_results_store(posts: Sequence[Post], results: Sequence) -> None:
    """Store tone results (METRICS.md §6) on posts, their mentions' labels and complaints, and refresh the
    board's minute rollups those mentions count in, in ONE transaction. The posts must carry pk, text, lang and
    official_kind; a post whose text changed since it was read is left alone (an edit is rescored inline)."""
    from socialfeed.tone import categorise, is_complaint

    by_id = {post.pk: (post, result) for post, result in zip(posts, results, strict=True)}
    with transaction.atomic():
        mention_writes_serialise()  # ingestion, rescoring and the re-read write mentions one at a time
        current = dict(Post.objects.filter(pk__in=by_id).values_list("pk", "text"))
        changed = []
        for pk, (post, result) in list(by_id.items()):
            if current.get(pk) != post.text:
                del by_id[pk]
                continue
            post.sentiment_score = result.score
            post.sentiment_label = result.label
            post.tone_analyser = result.analyser
            post.tone_queued_at = None
            if post.official_kind:
                post.category = categorise(post.text, result.lang)
            changed.append(post)
        Post.objects.bulk_update(changed, ["sentiment_score", "sentiment_label", "tone_analyser", "category",
                                           "tone_queued_at"])
        mentions = list(Mention.objects.filter(post_id__in=by_id).only("pk", "post_id", "brand_id", "created_at"))
        for mention in mentions:
            post, result = by_id[mention.post_id]
            mention.sentiment_label = result.label
            mention.complaint = is_complaint(post.text, label=result.label, lang=result.lang)
        Mention.objects.bulk_update(mentions, ["sentiment_label", "complaint"])
        # The board's minute rollups count complaints and sentiment labels: they follow in the same transaction.
        rollups_refresh(brand_ids_minutes={(m.brand_id, m.created_at) for m in mentions})


def _unread(analyser_id: str, now: datetime):
    """Posts of the last REREAD_DAYS no analyser of this version has read, and not claimed by a live re-read."""
    return (Post.objects.filter(created_at__gte=now - timedelta(days=REREAD_DAYS)).exclude(tone_analyser=analyser_id)
            .filter(Q(tone_queued_at__isnull=True) | Q(tone_queued_at__lt=now - timedelta(seconds=CLAIM_SECONDS))))


def _candidates(analyser_id: str, now: datetime, limit: int) -> list[int]:
    """Up to ``limit`` unread post ids, newest incident first: within an incident's window, its brand's
    mentions and official posts, newest first; then the rest of the backlog, newest first."""
    from incidents.models import Incident

    chosen: list[int] = []
    unread = _unread(analyser_id, now)
    recent = Q(ended_at__isnull=True) | Q(ended_at__gte=now - timedelta(days=REREAD_DAYS))
    for incident in Incident.objects.filter(recent).order_by("-started_at", "-pk")[:INCIDENTS_FIRST]:
        if len(chosen) >= limit:
            break
        window = Q(created_at__gte=incident.started_at, created_at__lt=incident.window_end(now))
        mentioned = Mention.objects.filter(brand_id=incident.brand_id).values("post_id")
        about = Q(pk__in=mentioned) | Q(official_brand_id=incident.brand_id)
        ids = (unread.filter(window & about).exclude(pk__in=chosen).order_by("-created_at", "-pk")
               .values_list("pk", flat=True)[: limit - len(chosen)])
        chosen.extend(ids)
    if len(chosen) < limit:
        rest = unread.exclude(pk__in=chosen).order_by("-created_at", "-pk").values_list("pk", flat=True)
        chosen.extend(rest[: limit - len(chosen)])
    return chosen


def claim_next(*, analyser_id: str, now: datetime, batches: int = LOOKAHEAD_BATCHES) -> list[list[int]]:
    """Claim the next posts to re-read, as batches of up to BATCH ids, keeping at most ``batches`` batches
    claimed at any time (claims of other dispatchers count)."""
    live = (Post.objects.exclude(tone_analyser=analyser_id)
            .filter(tone_queued_at__gte=now - timedelta(seconds=CLAIM_SECONDS)).count())
    room = batches * BATCH - live
    if room <= 0:
        return []
    with transaction.atomic():
        candidates = _candidates(analyser_id, now, room)
        # Locked rows are another dispatcher's claim in the making: skipped, never claimed twice.
        locked = set(_unread(analyser_id, now).filter(pk__in=candidates).select_for_update(skip_locked=True)
                     .values_list("pk", flat=True))
        claimed = [pk for pk in candidates if pk in locked]
        Post.objects.filter(pk__in=claimed).update(tone_queued_at=now)
    return [claimed[i : i + BATCH] for i in range(0, len(claimed), BATCH)]


def reread(post_ids: Sequence[int], analyser) -> int:
    """Score these posts with ``analyser`` and store the results (:func:`tone_results_store`); posts it has
    already read are skipped. Returns how many posts were scored."""
    posts = list(Post.objects.filter(pk__in=list(post_ids)).exclude(tone_analyser=analyser.analyser_id)
                 .order_by("pk").only(*_POST_FIELDS))
    if not posts:
        return 0
    results = analyser.analyse_many([p.text for p in posts], [p.lang for p in posts])  # no transaction held
    tone_results_store(posts, results)
    return len(posts)


def backlog(analyser_id: str, now: datetime) -> int:
    """Posts of the last REREAD_DAYS still waiting for the accurate tier (what operations watch)."""
    return Post.objects.filter(created_at__gte=now - timedelta(days=REREAD_DAYS)).exclude(
        tone_analyser=analyser_id).count()
