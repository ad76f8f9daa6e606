"""Brands, their official accounts and tracking terms, the teams that own them, and incidents.

Vocabulary follows METRICS.md §1 and §5. Times are stored in UTC; pages show them in the brand's time zone.
"""
from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    X = "x", "X"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    REDDIT = "reddit", "Reddit"
    STATUS_FEED = "feed", _("Status feed")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone (for example Europe/Paris)."), params={"value": value})


def validate_languages(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and 2 <= len(v) <= 8 for v in value):
        raise ValidationError(_("Languages must be a list of language codes such as [\"fr\", \"en\"]."))


class Brand(models.Model):
    """An organisation Hotline watches (METRICS.md §1)."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    languages = models.JSONField(_("languages"), default=list, blank=True, validators=[validate_languages])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Team(models.Model):
    """A group of people who own some brands: a user sees only the brands of their teams."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    brands = models.ManyToManyField(Brand, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OfficialAccount(models.Model):
    """A brand's own account on one platform (platform + handle, and the platform's user id when known)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="official_accounts")
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    handle = models.CharField(_("handle"), max_length=255, help_text=_("Without the leading @."))
    platform_user_id = models.CharField(_("platform user id"), max_length=64, blank=True)

    class Meta:
        ordering = ["brand__name", "platform", "handle"]
        constraints = [
            models.UniqueConstraint(
                Lower("handle"), "platform", name="official_account_unique_handle_per_platform",
                violation_error_message=_("This handle is already an official account on this platform."),
            ),
            models.UniqueConstraint(
                fields=["platform", "platform_user_id"], condition=~Q(platform_user_id=""),
                name="official_account_unique_user_id_per_platform",
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle} ({self.get_platform_display()})"

    def clean(self) -> None:
        self.handle = self.handle.strip().lstrip("@")
        if not self.handle:
            raise ValidationError({"handle": _("A handle is required.")})


class TrackingTerm(models.Model):
    class Kind(models.TextChoices):
        KEYWORD = "keyword", _("keyword")
        HASHTAG = "hashtag", _("hashtag")
        CASHTAG = "cashtag", _("cashtag")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="tracking_terms")
    term = models.CharField(_("term"), max_length=120)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.KEYWORD)

    class Meta:
        ordering = ["brand__name", "term"]
        constraints = [models.UniqueConstraint(Lower("term"), "brand", "kind", name="tracking_term_unique_per_brand")]

    def __str__(self) -> str:
        prefix = {"hashtag": "#", "cashtag": "$"}.get(self.kind, "")
        return f"{prefix}{self.term}"

    def clean(self) -> None:
        self.term = self.term.strip().lstrip("#$")
        if not self.term:
            raise ValidationError({"term": _("A term is required.")})


class Incident(models.Model):
    """An outage of one brand with its window [started_at, ended_at) (METRICS.md §5)."""

    class Severity(models.TextChoices):
        MINOR = "minor", _("minor")
        MAJOR = "major", _("major")
        CRITICAL = "critical", _("critical")

    class Status(models.TextChoices):
        INVESTIGATING = "investigating", _("investigating")
        IDENTIFIED = "identified", _("identified")
        MONITORING = "monitoring", _("monitoring")
        RESOLVED = "resolved", _("resolved")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="incidents")
    title = models.CharField(_("title"), max_length=200)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, help_text=_("Empty while ongoing."))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.INVESTIGATING)
    affected_services = models.CharField(_("affected services"), max_length=300, blank=True)
    affected_regions = models.CharField(_("affected regions"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["brand", "started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                name="incident_ends_after_it_starts",
                violation_error_message=_("An incident must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand}: {self.title}"

    @property
    def is_ongoing(self) -> bool:
        return self.ended_at is None

    def window_end(self, now=None):
        """METRICS.md §5: an ongoing incident's window ends at "now"."""
        return self.ended_at or (now or timezone.now())

    def clean(self) -> None:
        if self.started_at and self.ended_at and self.ended_at <= self.started_at:
            raise ValidationError({"ended_at": _("The end must come after the start.")})


class IncidentEvent(models.Model):
    """One entry of an incident's own timeline: a status change or a note."""

    class Kind(models.TextChoices):
        STATUS = "status", _("status change")
        NOTE = "note", _("note")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Incident.Status.choices, blank=True)
    text = models.TextField(_("text"), blank=True, max_length=4000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


def validate_web_link(value: str) -> None:
    """A link people will open from the board: http or https only (no javascript:, data: or file: links)."""
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValidationError(_("%(value)s is not a web link: it must start with http:// or https://."),
                              params={"value": value})


class OffPlatformCommunication(models.Model):
    """A message a brand sent outside the platforms Hotline reads (METRICS.md §1 off-platform communication): an
    SMS to customers, an e-mail, a video, a blog post, a press release, an in-app or phone message, or a goodwill
    gesture. It is a broadcast of the brand on every page, e-mail and export, marked with its channel, and counts
    in the §5 time to acknowledge, first public update, longest silence and since last update.

    ``sent_at`` is when the brand really sent it (entered in the brand's zone, stored in UTC); ``incident`` is
    where the comms team recorded it, but like an official post it belongs to the brand: every incident of the
    brand whose window holds ``sent_at`` counts it.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("e-mail")
        VIDEO = "video", _("video")
        BLOG = "blog", _("blog post")
        PRESS = "press", _("press release")
        IN_APP = "in_app", _("in-app message")
        PHONE = "phone", _("phone / IVR message")
        OTHER = "other", _("other")

    class Category(models.TextChoices):
        # METRICS.md §6 categories, the same values as socialfeed.models.Post.Category.
        APOLOGY = "apology", _("apology")
        STATUS_UPDATE = "status_update", _("status update")
        WORKAROUND = "workaround", _("workaround")
        RESOLUTION = "resolution", _("resolution")
        PROMOTIONAL = "promotional", _("promotional")
        OTHER = "other", _("other")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="communications")
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="communications")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    sent_at = models.DateTimeField(_("sent at"), help_text=_("When the brand really sent it."))
    text = models.TextField(_("text or summary"), max_length=4000)
    url = models.URLField(_("link"), max_length=500, blank=True, validators=[validate_web_link])
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, blank=True,
                                help_text=_("Empty: Hotline reads it from the text, as for official posts."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = _("off-platform communication")
        verbose_name_plural = _("off-platform communications")
        indexes = [models.Index(fields=["brand", "sent_at"], name="communication_brand_time_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=["sms", "email", "video", "blog", "press", "in_app",
                                                            "phone", "other"]),
                                   name="communication_known_channel"),
            models.CheckConstraint(condition=Q(category__in=["apology", "status_update", "workaround", "resolution",
                                                             "promotional", "other"]),
                                   name="communication_known_category"),
        ]

    def __str__(self) -> str:
        return f"{self.brand}: {self.get_channel_display()} {self.sent_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        self.text = (self.text or "").strip()
        if not self.text:
            raise ValidationError({"text": _("Write the message's text or a summary of it.")})
        if not self.category:
            from socialfeed.tone.categories import categorise

            self.category = categorise(self.text)  # METRICS.md §6, as the rules read official posts
        if self.sent_at and self.sent_at > timezone.now():
            raise ValidationError({"sent_at": _("A communication cannot be sent in the future.")})
        if self.incident_id and self.brand_id and self.incident.brand_id != self.brand_id:
            raise ValidationError({"incident": _("The incident belongs to another brand.")})


class DigestSubscription(models.Model):
    """A user's subscription to the weekly digest of one brand."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscriptions")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="digest_subscriptions")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="digest_subscription_unique")]


class AuditEntry(models.Model):
    """Who exported what and who changed an incident."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]


class DigestDelivery(models.Model):
    """One weekly digest for one subscriber and brand, claimed before it is sent so that it goes out exactly once.

    The unique (user, brand, week) row is the claim: whoever inserts it (or takes over a stale "sending" or a
    "failed" row with a conditional UPDATE) sends; everybody else leaves it alone.
    """

    class Status(models.TextChoices):
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="digest_deliveries")
    week = models.CharField(_("ISO week"), max_length=8, help_text=_("The week reported on, e.g. 2026-W47."))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENDING)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "brand", "week"], name="digest_delivery_once_per_week"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.brand_id}:{self.week} {self.status}"


class MentionHandling(models.Model):
    """What the comms team did with one unanswered mention of the board's queue: handled without a reply
    (a thank-you, spam, a duplicate), and/or assigned to a team member; with who and when.

    It changes no METRICS.md figure: a handled mention is still unanswered there (§3), and the board shows the
    handled ones as a count of their own. Every change is also an AuditEntry.
    """

    class Reason(models.TextChoices):
        THANKS = "thanks", _("thanks, nothing to answer")
        SPAM = "spam", _("spam")
        DUPLICATE = "duplicate", _("duplicate")

    mention = models.OneToOneField("socialfeed.Mention", on_delete=models.CASCADE, related_name="handling")
    reason = models.CharField(_("handled without a reply"), max_length=12, choices=Reason.choices, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="assigned_mentions")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(reason="") | Q(handled_at__isnull=False),
                                   name="mention_handling_handled_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.mention_id}: {self.reason or 'to do'}"
