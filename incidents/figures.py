"""METRICS.md §5 figures of one incident: its window, acknowledgement, updates, silences and phases, with the
§4 aggregates over the window. The board, the incidents list, weekly reports, digests and exports read them here.

A brand's broadcasts are its official posts that are broadcasts (METRICS.md §1) and its off-platform
communications (SMS, e-mail, video…, §1), which are broadcasts on every page, e-mail and export.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from socialfeed.aggregates import frt_quantiles, window_counts
from socialfeed.models import Mention, Post

from .models import Incident, OffPlatformCommunication
from .targets import brand_targets
from .templatetags.board_format import duration_text, percent_text

PHASE = dt.timedelta(days=7)  # METRICS.md §5 before / after phases
OUTAGE_CATEGORIES = (Post.Category.APOLOGY, Post.Category.STATUS_UPDATE, Post.Category.WORKAROUND,
                     Post.Category.RESOLUTION)  # METRICS.md §6 outage-related


def official_posts(incident: Incident):
    return Post.objects.filter(official_brand_id=incident.brand_id)


def communications(incident: Incident):
    """The brand's off-platform communications (METRICS.md §1), whichever incident they were recorded on."""
    return OffPlatformCommunication.objects.filter(brand_id=incident.brand_id)


@dataclass(frozen=True)
class Communication:
    """One official communication as §5 reads it: when, its §6 category, and how it went out."""

    at: dt.datetime
    category: str
    kind: str  # "reply", "broadcast" (an official post) or "off_platform"
    channel: str = ""  # the off-platform channel ("sms", "video"…); "" for an official post
    platform: str = ""  # the official post's platform; "" off-platform

    @property
    def via(self) -> str:
        """How people read it: "SMS", "video", "X reply", "Mastodon broadcast"."""
        if self.kind == "off_platform":
            return str(OffPlatformCommunication.Channel(self.channel).label)
        platform = dict(Post._meta.get_field("platform").choices).get(self.platform, self.platform)
        return f"{platform} {Post.OfficialKind(self.kind).label}"


def incident_window(incident: Incident, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, bool]:
    """METRICS.md §5 window [started_at, ended_at) as known at ``now``, and whether it is ongoing then.

    Figures "as of" a past moment (a weekly report is as of its week's end) see an incident that ended later as
    still ongoing at that moment, so every report computed as of the same moment gives the same figures.
    """
    start = incident.started_at
    if incident.ended_at is not None and incident.ended_at <= now:
        return start, incident.ended_at, False
    return start, max(now, start), True


def _outage_related_posts(incident: Incident, *, start: dt.datetime, until: dt.datetime, broadcasts_only: bool):
    posts = official_posts(incident).filter(created_at__gte=start, created_at__lte=until,
                                            category__in=OUTAGE_CATEGORIES)
    if broadcasts_only:
        posts = posts.filter(official_kind=Post.OfficialKind.BROADCAST)
    else:
        posts = posts.filter(official_kind__in=[Post.OfficialKind.BROADCAST, Post.OfficialKind.REPLY])
    return posts


def first_outage_related(incident: Incident, *, start: dt.datetime, until: dt.datetime,
                         broadcasts_only: bool = False) -> Communication | None:
    """The first outage-related official communication at or after ``start`` (and no later than ``until``): an
    official post (a reply too, unless ``broadcasts_only``) or an off-platform communication (METRICS.md §5 TTA,
    time to first public update)."""
    found = []
    post = (_outage_related_posts(incident, start=start, until=until, broadcasts_only=broadcasts_only)
            .order_by("created_at", "id").values_list("created_at", "category", "official_kind", "platform").first())
    if post:
        found.append(Communication(at=post[0], category=post[1], kind=post[2], platform=post[3]))
    message = (communications(incident).filter(sent_at__gte=start, sent_at__lte=until, category__in=OUTAGE_CATEGORIES)
               .order_by("sent_at", "id").values_list("sent_at", "category", "channel").first())
    if message:
        found.append(Communication(at=message[0], category=message[1], kind="off_platform", channel=message[2]))
    # A post and a message at the same instant: the post first (it is public to everyone).
    return min(found, key=lambda c: (c.at, c.kind == "off_platform")) if found else None


def broadcasts_between(incident: Incident, *, start: dt.datetime, end: dt.datetime) -> list[Communication]:
    """Every broadcast of the brand created in [start, end), official posts and off-platform communications
    alike (METRICS.md §1), oldest first."""
    posts = (official_posts(incident)
             .filter(official_kind=Post.OfficialKind.BROADCAST, created_at__gte=start, created_at__lt=end)
             .values_list("created_at", "category", "platform"))
    messages = communications(incident).filter(sent_at__gte=start, sent_at__lt=end).values_list(
        "sent_at", "category", "channel")
    found = [Communication(at=at, category=category or Post.Category.OTHER, kind="broadcast", platform=platform)
             for at, category, platform in posts]
    found += [Communication(at=at, category=category, kind="off_platform", channel=channel)
              for at, category, channel in messages]
    return sorted(found, key=lambda c: c.at)


def longest_silence(*, start: dt.datetime, end: dt.datetime, broadcasts: list[Communication]) -> float:
    """METRICS.md §5 longest silence: the longest gap inside [start, end) between consecutive outage-related
    broadcasts, counting from start to the first and from the last to the end. A promotion, or any broadcast that
    says nothing about the outage, does not break the silence."""
    marks = [start] + [b.at for b in broadcasts if b.category in OUTAGE_CATEGORIES and start <= b.at < end] + [end]
    return max((b - a).total_seconds() for a, b in zip(marks, marks[1:], strict=False))


def incident_figures(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """Every headline figure of one incident (METRICS.md §4 aggregates over the window, §5 incident figures),
    as of ``now``.

    Keys: window_start, window_end, ongoing, elapsed_s, tta_s (None: not acknowledged yet), acknowledged_via,
    first_update_s, first_update_via, longest_silence_s, since_last_update_s (ongoing incidents only, else None),
    last_update_at, last_update_via, off_message_count, mentions, answered, unanswered, reply_rate (None when
    empty), median_frt_s, p90_frt_s, answered_within_target (share answered within the brand's first-response
    target, None when empty), first_response_target_s (that target, METRICS.md §8), complaints, net_sentiment,
    oldest_unanswered_wait_s, phases {before, during, after: {start, end, mentions, per_hour}}.
    """
    now = now or timezone.now()
    start, end, ongoing = incident_window(incident, now)

    # §5 time to acknowledge / to first public update: the first outage-related official communication at or
    # after start (a reply, a broadcast or an off-platform communication; broadcasts only for the update).
    first_ack = first_outage_related(incident, start=start, until=now)
    first_update = first_outage_related(incident, start=start, until=now, broadcasts_only=True)

    broadcasts = broadcasts_between(incident, start=start, end=end)
    # §5 off-message posts: promotional broadcasts inside the window, off-platform ones included.
    off_message = sum(1 for b in broadcasts if b.category == Post.Category.PROMOTIONAL)
    updates = [b for b in broadcasts if b.category in OUTAGE_CATEGORIES]
    last_update = updates[-1] if updates else None
    # §5 since last update (ongoing incidents): from the last outage-related broadcast, or from started_at.
    since_last_update = (now - (last_update.at if last_update else start)).total_seconds() if ongoing else None

    counts = window_counts(brand_id=incident.brand_id, start=start, end=end)
    mentions = counts["mentions"]
    quantiles = frt_quantiles(brand_id=incident.brand_id, start=start, end=end).get(0, (None, None))
    # The first row of the queue index (brand, answered, created_at): one probe, however long the queue.
    oldest = Mention.objects.filter(
        brand_id=incident.brand_id, answered=False, created_at__gte=start, created_at__lt=end
    ).order_by("created_at").values_list("created_at", flat=True).first()

    after_end = end if ongoing else min(end + PHASE, now)
    phases = {}
    for name, lo, hi in (("before", start - PHASE, start), ("during", start, end), ("after", end, after_end)):
        n = counts["mentions"] if name == "during" else window_counts(
            brand_id=incident.brand_id, start=lo, end=hi)["mentions"]
        hours = (hi - lo).total_seconds() / 3600
        phases[name] = {"start": lo, "end": hi, "mentions": n, "per_hour": (n / hours) if hours > 0 else None}

    return {
        "window_start": start,
        "window_end": end,
        "ongoing": ongoing,
        "elapsed_s": (end - start).total_seconds(),
        "tta_s": (first_ack.at - start).total_seconds() if first_ack else None,
        "acknowledged_via": first_ack.via if first_ack else "",
        "first_update_s": (first_update.at - start).total_seconds() if first_update else None,
        "first_update_via": first_update.via if first_update else "",
        "longest_silence_s": longest_silence(start=start, end=end, broadcasts=broadcasts),
        "since_last_update_s": since_last_update,
        "last_update_at": last_update.at if last_update else None,
        "last_update_via": last_update.via if last_update else "",
        "off_message_count": off_message,
        "mentions": mentions,
        "answered": counts["answered"],
        "unanswered": mentions - counts["answered"],
        "reply_rate": counts["answered"] / mentions if mentions else None,
        "median_frt_s": quantiles[0],
        "p90_frt_s": quantiles[1],
        "answered_within_target": counts["answered_within_target"] / mentions if mentions else None,
        "first_response_target_s": brand_targets(incident.brand_id).first_response_target_s,
        "complaints": counts["complaints"],
        "net_sentiment": (counts["positive"] - counts["negative"]) / mentions if mentions else None,
        "oldest_unanswered_wait_s": (now - oldest).total_seconds() if oldest else None,
        "phases": phases,
    }


def phase_windows(incident: Incident, now: dt.datetime) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """METRICS.md §5 phases: the 7 days before, the outage window, the 7 days after (or until now)."""
    end = incident.window_end(now)
    return {
        "before": (incident.started_at - PHASE, incident.started_at),
        "during": (incident.started_at, end),
        "after": (end, min(end + PHASE, max(now, end))),
    }


def incident_phase_figures(*, incident: Incident, now: dt.datetime, platform: str = "",
                           within_s: float | None = None, calendar=None):
    """METRICS.md §4 aggregates (silence-counted median and business-hours figures included) of each §5 phase of
    one incident, as of ``now``: {phase: (start, end, ResponseFigures)}. The incidents export and the API read
    them here. T of "answered within T" is the brand's first-response target and business hours the brand's
    (§4, §8), unless the caller, who may have them for many brands at once, passes them; ``platform`` narrows
    the mentions to one platform, as the export's filter does."""
    from socialfeed.selectors import mention_aggregates

    from .business_hours import calendar_for
    from .targets import first_response_target_s

    within_s = first_response_target_s(incident.brand_id) if within_s is None else within_s
    calendar = calendar_for(incident.brand) if calendar is None else calendar
    out = {}
    for phase, (start, end) in phase_windows(incident, now).items():
        mentions = Mention.objects.filter(brand_id=incident.brand_id, created_at__gte=start, created_at__lt=end)
        if platform:
            mentions = mentions.filter(post__platform=platform)
        out[phase] = (start, end, mention_aggregates(mentions_qs=mentions, as_of=now, within_s=within_s,
                                                     calendar=calendar))
    return out


def incident_summary(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """What the incidents list shows per row: elapsed, reply rate, unanswered, TTA (METRICS.md §4, §5)."""
    now = now or timezone.now()
    start, end, _ongoing = incident_window(incident, now)
    counts = window_counts(brand_id=incident.brand_id, start=start, end=end)
    first_ack = first_outage_related(incident, start=start, until=now)
    mentions = counts["mentions"]
    return {
        "elapsed": duration_text((end - start).total_seconds()),
        "reply_rate": percent_text(counts["answered"] / mentions if mentions else None),
        "unanswered": mentions - counts["answered"],
        "tta": duration_text((first_ack.at - start).total_seconds()) if first_ack else _("not acknowledged"),
        "tta_via": first_ack.via if first_ack and first_ack.kind == "off_platform" else "",
    }


def overlapping_incidents(incident: Incident) -> list[Incident]:
    """The brand's other incidents whose window overlaps this one's (METRICS.md §5 windows; an ongoing window
    runs on). Hotline accepts them, since two outages can run at once, but each incident's figures count every
    mention and broadcast of the brand inside its own window, so whatever falls in the overlap counts in both."""
    if incident.started_at is None or incident.brand_id is None:
        return []
    others = Incident.objects.filter(brand_id=incident.brand_id).exclude(pk=incident.pk)
    others = others.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=incident.started_at))
    if incident.ended_at is not None:
        others = others.filter(started_at__lt=incident.ended_at)
    return list(others.order_by("started_at", "id"))
