"""Brands, their official accounts and tracking terms, the teams that own them, and incidents.

Vocabulary follows METRICS.md §1 and §5. Times are stored in UTC; pages show them in the brand's time zone.
"""
from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .date_inputs import moment_is_supported, supported_range


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
        for name in ("started_at", "ended_at"):
            moment = getattr(self, name)
            if moment is not None and not moment_is_supported(moment):
                raise ValidationError({name: _("Hotline supports dates %(range)s (UTC).") % {
                    "range": supported_range()}})
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
        if self.sent_at and not moment_is_supported(self.sent_at):
            raise ValidationError({"sent_at": _("Hotline supports dates %(range)s (UTC).") % {
                "range": supported_range()}})
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


# --- METRICS.md §8 targets and §4 business hours ----------------------------------------------------------

MAX_TARGET_MINUTES = 30 * 24 * 60  # a target longer than 30 days is a typo, not a target


def validate_target_minutes(value: int) -> None:
    if value is None:
        return
    if value < 0:
        raise ValidationError(_("A target cannot be negative."))
    if value < 1:
        raise ValidationError(_("A target must be at least 1 minute."))
    if value > MAX_TARGET_MINUTES:
        raise ValidationError(_("A target cannot be longer than 30 days (%(max)d minutes)."),
                              params={"max": MAX_TARGET_MINUTES})


def validate_spike_threshold(value: float) -> None:
    if value is not None and not 1 <= value <= 1000:
        raise ValidationError(_("The spike threshold must be between 1 and 1000 times a normal hour."))


def validate_breach_count(value: int) -> None:
    if value is not None and not 0 <= value <= 1_000_000:
        raise ValidationError(_("The number of breaches allowed must be between 0 and 1,000,000."))


class BrandTargets(models.Model):
    """A brand's METRICS.md §8 targets; a brand without a row has the defaults (incidents.targets).

    Durations are whole minutes, between one minute and 30 days; the check constraints keep a bad value out
    whatever writes the row.
    """

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, primary_key=True, related_name="targets")
    first_response_target_min = models.PositiveIntegerField(
        _("first-response target (minutes)"), default=60, validators=[validate_target_minutes],
        help_text=_("A mention answered later than this, or still waiting after it, breaches the target."))
    update_cadence_min = models.PositiveIntegerField(
        _("update cadence (minutes)"), default=60, validators=[validate_target_minutes],
        help_text=_("The longest an ongoing incident should go without an outage-related broadcast."))
    acknowledgement_target_min = models.PositiveIntegerField(
        _("acknowledgement target (minutes)"), default=30, validators=[validate_target_minutes],
        help_text=_("How soon after an incident starts the brand should acknowledge it."))
    spike_threshold = models.FloatField(
        _("spike threshold"), default=5.0, validators=[validate_spike_threshold],
        help_text=_("Complaints in an hour, as a multiple of a normal hour, that make a spike."))
    unanswered_breach_count = models.PositiveIntegerField(
        _("unanswered breaches allowed"), default=10, validators=[validate_breach_count],
        help_text=_("Alert when more customers than this wait, unanswered, longer than the first-response target "
                    "during an incident."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("targets")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_target_min__gte=1, first_response_target_min__lte=MAX_TARGET_MINUTES,
                            update_cadence_min__gte=1, update_cadence_min__lte=MAX_TARGET_MINUTES,
                            acknowledgement_target_min__gte=1, acknowledgement_target_min__lte=MAX_TARGET_MINUTES),
                name="brand_targets_between_1_minute_and_30_days"),
            models.CheckConstraint(condition=Q(spike_threshold__gte=1, spike_threshold__lte=1000),
                                   name="brand_targets_spike_threshold_range"),
            models.CheckConstraint(condition=Q(unanswered_breach_count__lte=1_000_000),
                                   name="brand_targets_breach_count_range"),
        ]

    def __str__(self) -> str:
        return f"{self.brand}: targets"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """One range of a brand's weekly opening hours, in the brand's time zone (METRICS.md §4 business hours).

    Minutes after local midnight: [opens, closes), closes up to 1440 (24:00). A night shift is two ranges, one
    each side of midnight. Ranges of one day never overlap (checked by incidents.business_hours on save).
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens_min = models.PositiveSmallIntegerField(_("opens (minutes after midnight)"))
    closes_min = models.PositiveSmallIntegerField(_("closes (minutes after midnight)"))

    class Meta:
        ordering = ["brand", "weekday", "opens_min"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_hours_weekday_range"),
            models.CheckConstraint(condition=Q(closes_min__gt=F("opens_min"), closes_min__lte=1440),
                                   name="opening_hours_close_after_open",
                                   violation_error_message=_("Opening hours must end after they start.")),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_min // 60:02d}:{self.opens_min % 60:02d}–" \
               f"{self.closes_min // 60:02d}:{self.closes_min % 60:02d}"


class Holiday(models.Model):
    """A local calendar day on which the brand's business hours are closed all day (METRICS.md §4)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="holidays")
    day = models.DateField(_("day"))
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        ordering = ["brand", "day"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["brand", "day"], name="holiday_once_per_day")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name}".strip()


# --- METRICS.md §8 alerts -------------------------------------------------------------------------------------

class AlertChannel(models.Model):
    """Where a team's alerts go: an e-mail address, a Slack incoming webhook or a signed generic webhook.

    The target is checked by incidents.alert_channels (``clean``); failures are counted so that a channel that
    keeps failing is shown as failing on the team's page and in the alert log.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SLACK = "slack", _("Slack incoming webhook")
        WEBHOOK = "webhook", _("webhook (signed JSON)")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_channels")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    target = models.CharField(_("address or URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True,
                              help_text=_("Webhooks only: the key of the X-Hotline-Signature HMAC."))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team__name", "kind", "target"]
        verbose_name = _("alert channel")
        verbose_name_plural = _("alert channels")
        constraints = [
            models.UniqueConstraint(fields=["team", "kind", "target"], name="alert_channel_unique_target",
                                    violation_error_message=_("This team already has this channel.")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.display_target}"

    @property
    def display_target(self) -> str:
        """The target as pages show it: a webhook URL's path and query can hold a token, so only its origin."""
        if self.kind == self.Kind.EMAIL:
            return self.target
        from urllib.parse import urlsplit

        parts = urlsplit(self.target)
        return f"{parts.scheme}://{parts.netloc}/…" if parts.path.strip("/") or parts.query else self.target

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures > 0

    def clean(self) -> None:
        from .alert_channels import channel_target_check

        channel_target_check(kind=self.kind, target=self.target, secret=self.secret)


class Alert(models.Model):
    """One occurrence of a METRICS.md §8 alert condition: raised once, cleared when it no longer holds.

    The partial unique constraint is the "once per occurrence": whoever inserts the open row raised it; a second
    evaluator (two beats, two workers) meets the constraint and does nothing. A cleared alert frees the slot, so
    the condition holding again is a new occurrence, a new row and a new alert.
    """

    class Kind(models.TextChoices):
        SPIKE = "spike", _("complaint spike")
        NOT_ACKNOWLEDGED = "not_acknowledged", _("not acknowledged")
        UPDATE_OVERDUE = "update_overdue", _("update overdue")
        UNANSWERED_BREACHES = "unanswered_breaches", _("unanswered breaches")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alerts")
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts")
    kind = models.CharField(_("alert"), max_length=24, choices=Kind.choices)
    # What the occurrence is about: "brand" for a spike, "incident:<id>" for the incident conditions.
    scope = models.CharField(max_length=40)
    raised_at = models.DateTimeField(_("raised at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)  # the figures that made it hold, for its summary

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["brand", "raised_at"], name="alert_brand_time_idx")]
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind", "scope"], condition=Q(cleared_at__isnull=True),
                                    name="alert_open_once_per_occurrence"),
            models.CheckConstraint(condition=Q(cleared_at__isnull=True) | Q(cleared_at__gte=F("raised_at")),
                                   name="alert_cleared_after_raised"),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id}:{self.kind}:{self.scope}@{self.raised_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class AlertDelivery(models.Model):
    """One alert state (raised or cleared) for one channel, claimed before it is sent: exactly once per channel.

    The unique (alert, channel, state) row is created once whoever raises or clears the alert; then a
    conditional UPDATE claims it for one sender at a time. ``delivery_id`` is the X-Hotline-Delivery header,
    the same on every retry, so a receiver can drop a repeat.
    """

    class State(models.TextChoices):
        RAISED = "raised", _("raised")
        CLEARED = "cleared", _("cleared")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        RETRYING = "retrying", _("failed, will retry")
        FAILED = "failed", _("failed, gave up")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(AlertChannel, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="deliveries")
    channel_label = models.CharField(max_length=200)  # kept for the log when the channel is removed
    state = models.CharField(max_length=8, choices=State.choices)
    delivery_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alert_delivery_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel", "state"], name="alert_delivery_once_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.state} → {self.channel_label}: {self.status}"


class ApiToken(models.Model):
    """A personal API token: it lets a script, a bot or a BI tool call /api/v1/ as its user, seeing exactly what
    that user sees (brands through incidents.roles, writes only for comms).

    Only the token's SHA-256 digest is stored; the token itself is shown once, when it is created. A fast,
    unsalted hash is enough here because a token is 256 random bits, not a password a person chose: nobody can
    guess one from its digest, and the digest's unique index finds it in one probe. ``prefix`` (its first
    characters) is kept in the clear so people can tell their tokens apart in a list.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80, help_text=_("What it is for, e.g. “Grafana” or “Slack bot”."))
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
