"""Sources Hotline polls, the posts they bring, and the (post, brand) mentions with their first responses.

Vocabulary follows METRICS.md §1–3 and §6.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Brand, OfficialAccount, Platform


class Source(models.Model):
    """Something Hotline polls: a mentions timeline, a search, an account's own posts, a status feed."""

    class Kind(models.TextChoices):
        MENTIONS = "mentions", _("mentions of an official account")
        SEARCH = "search", _("search for handles and terms")
        ACCOUNT_POSTS = "account_posts", _("an official account's own posts")
        HASHTAG = "hashtag", _("hashtag timeline")
        STATUS_FEED = "status_feed", _("status page feed (RSS/Atom)")
        REPLAY = "replay", _("demo replay")

    name = models.CharField(_("name"), max_length=120)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="sources")
    official_account = models.ForeignKey(
        OfficialAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="sources"
    )
    query = models.CharField(
        _("what it follows"), max_length=500, blank=True,
        help_text=_("Search query, hashtag or feed URL; empty for an account's mentions or posts."),
    )
    interval_seconds = models.PositiveIntegerField(_("interval (seconds)"), default=60)
    enabled = models.BooleanField(_("enabled"), default=True)
    cursor = models.CharField(_("cursor"), max_length=255, blank=True, help_text=_("Newest id stored (since_id)."))
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    error_is_permanent = models.BooleanField(default=False)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    posts_stored = models.PositiveBigIntegerField(default=0)
    # Complete polls (socialfeed.polling): ``cursor`` only moves over a contiguous stored range. A poll that had
    # to stop before reaching it (page budget, rate limit, time bound) leaves a gap between ``cursor`` and the
    # oldest post it stored; ``backfill_cursor`` is where the next poll resumes the descent (X until_id, Mastodon
    # max_id, Bluesky until...), ``backfill_head`` the newest position stored above the gap, where ``cursor`` goes
    # once the gap is closed.
    backfill_cursor = models.CharField(_("backfill cursor"), max_length=255, blank=True)
    backfill_head = models.CharField(_("newest stored above the gap"), max_length=255, blank=True)
    complete_up_to = models.DateTimeField(
        _("complete up to"), null=True, blank=True,
        help_text=_("Everything the platform had published before this time has been read (or recorded as lost)."))
    posts_rejected = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["brand__name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(interval_seconds__gte=5), name="source_interval_at_least_5s"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_failing(self) -> bool:
        return bool(self.consecutive_failures) or self.error_is_permanent


class SourceGap(models.Model):
    """A stretch of time a source has not read completely.

    ``recoverable``: Hotline is still fetching it (one open gap per source at most, closed when the backfill
    reaches the cursor). Not recoverable: the platform cannot give those posts any more (X recent search only
    reaches 7 days back; a status feed that holds fewer entries than were published), so figures over that
    stretch may miss posts; it stays listed on the sources page and the board.
    """

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="gaps")
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("to"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    recoverable = models.BooleanField(default=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["source"], condition=Q(recoverable=True, closed_at__isnull=True),
                                    name="source_gap_one_open_backfill"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}: {self.starts_at} – {self.ends_at}"


class RejectedPost(models.Model):
    """A post Hotline could not store, set aside with its reason while the rest of its batch was stored.

    From a poller (``source`` set) or an import (``origin`` names the file and ``line`` the row).
    """

    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="rejects")
    origin = models.CharField(_("origin"), max_length=255, blank=True)
    line = models.PositiveBigIntegerField(_("line"), null=True, blank=True)
    platform = models.CharField(max_length=16, blank=True)
    platform_id = models.CharField(max_length=128, blank=True)
    reason = models.TextField(_("reason"))
    raw = models.JSONField(default=dict, blank=True)
    rejected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-rejected_at", "-id"]
        indexes = [models.Index(fields=["source", "rejected_at"], name="rejected_post_source_idx")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_id or '?'} ({self.reason[:60]})"


class Post(models.Model):
    """One item from a platform, unique by (platform, platform id) (METRICS.md §1)."""

    class OfficialKind(models.TextChoices):
        NONE = "", _("not official")
        REPLY = "reply", _("reply")
        BROADCAST = "broadcast", _("broadcast")

    class Label(models.TextChoices):
        NEGATIVE = "negative", _("negative")
        NEUTRAL = "neutral", _("neutral")
        POSITIVE = "positive", _("positive")

    class Category(models.TextChoices):
        APOLOGY = "apology", _("apology")
        STATUS_UPDATE = "status_update", _("status update")
        WORKAROUND = "workaround", _("workaround")
        RESOLUTION = "resolution", _("resolution")
        PROMOTIONAL = "promotional", _("promotional")
        OTHER = "other", _("other")

    platform = models.CharField(max_length=16, choices=Platform.choices)
    platform_id = models.CharField(max_length=128)
    author_id = models.CharField(max_length=128, blank=True)
    author_handle = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    text = models.TextField(blank=True)
    lang = models.CharField(max_length=12, blank=True)
    in_reply_to_id = models.CharField(max_length=128, blank=True)
    in_reply_to_author_id = models.CharField(max_length=128, blank=True)
    conversation_id = models.CharField(max_length=128, blank=True)
    is_repost = models.BooleanField(default=False)
    url = models.URLField(max_length=500, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # METRICS.md §2: direct and followers-only messages are stored (a brand may answer that way) but never mentions.
    is_public = models.BooleanField(default=True)
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts")

    # METRICS.md §1: set when one of a brand's official accounts wrote it.
    official_account = models.ForeignKey(
        OfficialAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    official_brand = models.ForeignKey(
        Brand, on_delete=models.SET_NULL, null=True, blank=True, related_name="official_posts"
    )
    official_kind = models.CharField(max_length=10, choices=OfficialKind.choices, blank=True)

    # METRICS.md §6 tone, stored with the analyser that produced it.
    sentiment_score = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(max_length=8, choices=Label.choices, blank=True)
    tone_analyser = models.CharField(max_length=64, blank=True)
    # When the accurate tier's re-read claimed this post (socialfeed/tone/reread.py); cleared once it is read.
    tone_queued_at = models.DateTimeField(null=True, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "platform_id"], name="post_unique_platform_id"),
        ]
        indexes = [
            models.Index(fields=["platform", "in_reply_to_id"], name="post_reply_parent_idx"),
            models.Index(fields=["platform", "conversation_id", "author_id"], name="post_conversation_idx"),
            models.Index(fields=["official_brand", "created_at"], name="post_official_time_idx"),
            models.Index(fields=["created_at"], name="post_created_idx"),
            # The accurate tier's live claims (socialfeed/tone/reread.py): few rows at any time, found at once.
            models.Index(fields=["tone_queued_at"], name="post_tone_queued_idx",
                         condition=models.Q(tone_queued_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_id}"


class PostAlias(models.Model):
    """Another platform id of a stored post: X gives each edit of a post a new id (``edit_history_tweet_ids``).

    Ingestion reads a reply to any version as a reply to the post (METRICS.md §3), so the original stays answered.
    """

    platform = models.CharField(max_length=16, choices=Platform.choices)
    alias_id = models.CharField(max_length=128)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "alias_id"], name="post_alias_unique")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.alias_id} -> {self.post_id}"


class Mention(models.Model):
    """A (post, brand) pair where the post mentions the brand (METRICS.md §2), with its first response (§3)."""

    class MatchedBy(models.TextChoices):
        HANDLE = "handle", _("@handle")
        REPLY = "reply", _("reply to an official post")
        TERM = "term", _("tracking term")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="mentions")
    # Copied from the post so that per-brand time-range queries use one index.
    created_at = models.DateTimeField()
    matched_by = models.CharField(max_length=8, choices=MatchedBy.choices)
    first_response = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="answered_mentions"
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    frt_seconds = models.FloatField(null=True, blank=True)
    answered = models.BooleanField(default=False)
    complaint = models.BooleanField(default=False)
    sentiment_label = models.CharField(max_length=8, choices=Post.Label.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["post", "brand"], name="mention_unique_post_brand"),
            models.CheckConstraint(
                condition=Q(answered=False, frt_seconds__isnull=True) | Q(answered=True, frt_seconds__gte=0),
                name="mention_answered_has_frt",
            ),
        ]
        indexes = [
            models.Index(fields=["brand", "created_at"], name="mention_brand_time_idx"),
            models.Index(fields=["brand", "answered", "created_at"], name="mention_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id}:{self.post_id}"


class MinuteRollup(models.Model):
    """Per-brand, per-minute counts of mentions (METRICS.md §4, §6, §7), so the live board reads O(minutes).

    Owned by socialfeed.rollups: every row is recomputed from Mention rows, never incremented, so a refresh
    after any batch (in any arrival order, replayed or not) leaves it exact.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="minute_rollups")
    minute = models.DateTimeField()  # UTC, truncated to the minute: mentions created in [minute, minute + 1 min)
    mentions = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    # METRICS.md §4 answered within T, T = the brand's first-response target; re-counted when it changes.
    answered_within_target = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    # Answered mentions whose FRT is not a whole second: MinuteFrtCount cannot hold them exactly, so a window
    # touching such a minute computes its quantiles from the mentions themselves.
    answered_fractional = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["brand", "minute"]
        constraints = [models.UniqueConstraint(fields=["brand", "minute"], name="minute_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.brand_id}@{self.minute:%Y-%m-%d %H:%M}"


class MinuteFrtCount(models.Model):
    """How many answered mentions of one (brand, minute) have an FRT in one node of a 16-ary tree over whole
    seconds (METRICS.md §4 median / p90 FRT), so exact quantiles of a window read O(minutes × 16 × levels).

    ``level`` is a bit shift (16, 12, 8, 4, 0): the node of an FRT of s seconds at that level is s >> level, so
    level 0 holds the exact second. Owned by socialfeed.rollups, recomputed from Mention rows like MinuteRollup.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    level = models.PositiveSmallIntegerField()
    node = models.BigIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "level", "minute", "node"], name="minute_frt_count_unique"),
        ]
        # The quantile descent asks for 16 sibling nodes over a range of minutes: one index probe per node,
        # and ``count`` in the key makes it an index-only scan on every database.
        indexes = [models.Index(fields=["brand", "level", "node", "minute", "count"],
                                name="minute_frt_count_node_idx")]
