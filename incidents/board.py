"""The live board of one incident: its headline tiles, the shared time axis, the marks drawn on every chart
(outage window, phases, status changes, official communications) and the Chart.js series.

Every figure follows METRICS.md (§4 aggregates, §5 incident windows, §6 tone, §7 volume, §8 targets) and is
computed here, server-side; the board's JavaScript only draws what these functions return.

Every chart of a board shares one time axis (:func:`time_axis`): the whole outage window with part of its before
and after phases, in buckets that grow with the window (METRICS.md §7: 1 minute for short outages, then 5, 15
or 60 minutes and longer) so that no chart ever holds more than ``MAX_BUCKETS`` buckets, however long the outage.
A series is ``{"series": {"start", "step", "n"}, "datasets": [{"label", "data": [one value per bucket]}]}``: every
bucket present (0 or null, never missing), and the page places bucket ``i`` at ``start + i * step``.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import dateformat, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from socialfeed.aggregates import frt_quantiles
from socialfeed.models import Mention, MinuteRollup, Post
from socialfeed.post_links import web_link
from socialfeed.rollups import COUNT_FIELDS, minute_of

from .figures import OUTAGE_CATEGORIES, PHASE, communications, incident_figures, official_posts
from .models import Incident, IncidentEvent, OffPlatformCommunication
from .targets import brand_targets
from .templatetags.board_format import duration_text, percent_text

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)

# METRICS.md §7: bucket sizes of the live board, smallest first. Beyond 60 minutes they go on growing so that an
# outage of several weeks still shows its whole window.
BUCKET_MINUTES = (1, 5, 15, 60, 180, 360, 720, 1440, 2880, 10080)
MAX_BUCKETS = 300
MARGIN_BUCKETS = 30  # buckets of "before" (and of "after", once it has ended) shown around the window
WINDOW_BUCKETS = MAX_BUCKETS - 2 * MARGIN_BUCKETS - 2  # the window's own buckets, with room for two part-filled
MAX_MARKS = 120  # official communications drawn one by one; above this, one mark per bucket and category
TICK_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160, 43200)
MAX_TICKS = 10


def first_response_target_s(brand) -> float:
    """The brand's first-response target (METRICS.md §8), in seconds: the one place the board reads it."""
    return brand_targets(brand).first_response_target_s


def update_cadence_s(brand) -> float:
    """The brand's update cadence during an ongoing incident (METRICS.md §8, default 1 hour), in seconds."""
    return brand_targets(brand).update_cadence_s


# Okabe–Ito: distinguishable with the common colour-vision deficiencies. Every series also differs by dash,
# point style or pattern, so colour is never the only cue.
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000", "grey": "#57606a",
}
CATEGORY_STYLE = {  # colour, point style of its marks, fill pattern of its bars
    Post.Category.APOLOGY: (PALETTE["purple"], "triangle", "diagonal"),
    Post.Category.STATUS_UPDATE: (PALETTE["blue"], "circle", "solid"),
    Post.Category.WORKAROUND: (PALETTE["green"], "rectRot", "dots"),
    Post.Category.RESOLUTION: (PALETTE["sky"], "rect", "cross"),
    Post.Category.PROMOTIONAL: (PALETTE["vermillion"], "star", "zigzag"),
    Post.Category.OTHER: (PALETTE["grey"], "crossRot", "vertical"),
}
# Off-platform communications (METRICS.md §1) are marked by their channel: its own shape, edged in black.
CHANNEL_STYLE = {
    OffPlatformCommunication.Channel.SMS: "rectRounded",
    OffPlatformCommunication.Channel.EMAIL: "rect",
    OffPlatformCommunication.Channel.VIDEO: "triangle",
    OffPlatformCommunication.Channel.BLOG: "rectRot",
    OffPlatformCommunication.Channel.PRESS: "star",
    OffPlatformCommunication.Channel.IN_APP: "circle",
    OffPlatformCommunication.Channel.PHONE: "cross",
    OffPlatformCommunication.Channel.OTHER: "dash",
}


# --- The shared time axis --------------------------------------------------------------------------------

def _ms(moment: dt.datetime) -> int:
    return int((moment - EPOCH).total_seconds() * 1000)


def _floor(moment: dt.datetime, step: dt.timedelta) -> dt.datetime:
    """Buckets are aligned on multiples of their size since the epoch, as socialfeed.aggregates.frt_quantiles
    keys them, so one bucket means the same minutes on every chart and in every figure."""
    seconds = int(step.total_seconds())
    return EPOCH + dt.timedelta(seconds=int((moment - EPOCH).total_seconds()) // seconds * seconds)


def _ceil(moment: dt.datetime, step: dt.timedelta) -> dt.datetime:
    floor = _floor(moment, step)
    return floor if floor == moment else floor + step


def bucket_size(window: dt.timedelta) -> dt.timedelta:
    """METRICS.md §7 bucket of the live board for an outage window this long: the smallest size in
    ``BUCKET_MINUTES`` that keeps the window within ``WINDOW_BUCKETS`` buckets."""
    minutes = max(window.total_seconds(), 0) / 60
    for size in BUCKET_MINUTES:
        if math.ceil(minutes / size) + 1 <= WINDOW_BUCKETS:
            return dt.timedelta(minutes=size)
    weeks = math.ceil(minutes / (WINDOW_BUCKETS - 1) / 10080)
    return dt.timedelta(weeks=weeks)


@dataclass(frozen=True)
class TimeAxis:
    """The buckets every chart of one board shows: [start, end) in steps of ``step``, all UTC."""

    start: dt.datetime
    end: dt.datetime
    step: dt.timedelta
    window_start: dt.datetime
    window_end: dt.datetime
    now: dt.datetime
    zone: object

    @property
    def n(self) -> int:
        return int((self.end - self.start) / self.step)

    def index(self, moment: dt.datetime) -> int:
        return int((moment - self.start) // self.step)

    def bucket_starts(self) -> list[dt.datetime]:
        return [self.start + i * self.step for i in range(self.n)]

    def series(self) -> dict:
        return {"start": _ms(self.start), "step": _ms(EPOCH + self.step), "n": self.n}


def time_axis(*, incident: Incident, now: dt.datetime | None = None) -> TimeAxis:
    """The one time axis of the board: the whole window, ``MARGIN_BUCKETS`` buckets of "before" and, once the
    incident has ended, as many of "after" (not past now; never more than the METRICS.md §5 phases)."""
    now = now or timezone.now()
    start, end = incident.started_at, incident.window_end(now)
    step = bucket_size(end - start)
    margin = min(MARGIN_BUCKETS * step, PHASE // step * step)
    lo = _floor(start, step) - margin
    window_hi = max(_ceil(end, step), _floor(start, step) + step)
    hi = max(window_hi, min(window_hi + margin, _ceil(now, step))) if incident.ended_at else window_hi
    return TimeAxis(start=lo, end=hi, step=step, window_start=start, window_end=end, now=now,
                    zone=incident.brand.zone)


def bucket_text(step: dt.timedelta) -> str:
    """A bucket size as the charts' legends name it: "1 min", "15 min", "1 h", "1 d"."""
    minutes = int(step.total_seconds() // 60)
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    if minutes < 1440:
        return _("%(h)d h") % {"h": minutes // 60}
    return _("%(d)d d") % {"d": minutes // 1440}


def _ticks(axis: TimeAxis) -> list[dict]:
    """Tick marks at round times of the brand's own clock (so a Paris board ticks at 14:00 Paris time, across a
    DST change too), each with its time and its date; the page shows the date where the day changes."""
    span = (axis.end - axis.start).total_seconds() / 60
    size = next((m for m in TICK_MINUTES if span / m <= MAX_TICKS), TICK_MINUTES[-1])
    zone = axis.zone
    local = axis.start.astimezone(zone).replace(tzinfo=None)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    cursor = day + dt.timedelta(minutes=((local - day).total_seconds() // 60) // size * size) if size < 1440 else day
    ticks, seen = [], set()
    while True:
        moment = cursor.replace(tzinfo=zone).astimezone(UTC)
        cursor += dt.timedelta(minutes=size)
        if moment > axis.end:
            break
        if moment < axis.start or moment in seen:
            continue
        seen.add(moment)
        shown = moment.astimezone(zone)
        ticks.append({"at": _ms(moment), "time": shown.strftime("%H:%M") if size < 1440 else "",
                      "date": dateformat.format(shown, "D j M")})
    return ticks


def board_axis(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """The axis as the page sets it on every chart: the same min, max, bucket and ticks for all of them."""
    axis = time_axis(incident=incident, now=now)
    return {"min": _ms(axis.start), "max": _ms(axis.end), "step": _ms(EPOCH + axis.step), "n": axis.n,
            "bucket": bucket_text(axis.step), "zone": incident.brand.time_zone, "ticks": _ticks(axis)}


# --- What every chart marks: window, phases, status changes, official communications ---------------------

def official_communications(*, incident: Incident, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """The brand's official communications to everyone created in [start, end), oldest first: its broadcasts
    (official posts and status-feed entries) and its off-platform communications (SMS, e-mail, video…), which
    are broadcasts too (METRICS.md §1). Replies to one customer are not drawn one by one; the official-posts
    chart counts them per bucket. Every chart's marks and silences come from here.

    Each item: at, off_platform, channel (where it went out: "X", "SMS", "video"), channel_code, category
    (METRICS.md §6), text, off_message (§5: promotional inside the window).
    """
    platforms = dict(Post._meta.get_field("platform").choices)

    def in_window(at: dt.datetime) -> bool:
        return incident.started_at <= at and (incident.ended_at is None or at < incident.ended_at)

    posts = (official_posts(incident).filter(official_kind=Post.OfficialKind.BROADCAST, created_at__gte=start,
                                             created_at__lt=end)
             .order_by("created_at", "id").values_list("created_at", "platform", "category", "text"))
    found = [{"at": at, "off_platform": False, "channel": str(platforms.get(platform, platform)),
              "channel_code": platform, "category": category or Post.Category.OTHER, "text": text}
             for at, platform, category, text in posts]
    for at, channel, category, text in (communications(incident).filter(sent_at__gte=start, sent_at__lt=end)
                                        .order_by("sent_at", "id").values_list("sent_at", "channel", "category",
                                                                               "text")):
        found.append({"at": at, "off_platform": True, "channel_code": channel,
                      "channel": capfirst(str(OffPlatformCommunication.Channel(channel).label)),
                      "category": category or Post.Category.OTHER, "text": text})
    for item in found:
        item["off_message"] = item["category"] == Post.Category.PROMOTIONAL and in_window(item["at"])
    # A post and a message at the same instant: the post first, as METRICS.md §5 reads them.
    return sorted(found, key=lambda item: (item["at"], item["off_platform"]))


def _silences(communications: list[dict], axis: TimeAxis, cadence_s: float) -> list[dict]:
    """Stretches of the window longer than the update cadence (METRICS.md §8) without an outage-related
    broadcast (§5: a promotion does not break a silence)."""
    marks = [axis.window_start] + [c["at"] for c in communications
                                   if c["category"] in OUTAGE_CATEGORIES
                                   and axis.window_start <= c["at"] < axis.window_end] + [axis.window_end]
    return [{"from": _ms(a), "to": _ms(b)} for a, b in zip(marks, marks[1:], strict=False)
            if (b - a).total_seconds() > cadence_s]


def board_marks(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """What every chart of the board draws over its series: the outage window and its phases, status changes,
    the brand's official communications (off-message ones flagged) and silences longer than the cadence."""
    now = now or timezone.now()
    axis = time_axis(incident=incident, now=now)
    categories = {c.value: c.label.capitalize() for c in Post.Category}
    communications = official_communications(incident=incident, start=axis.start, end=axis.end)
    if len(communications) <= MAX_MARKS:
        drawn = [{"at": _ms(c["at"]), "category": c["category"], "label": categories[c["category"]],
                  "channel": c["channel"], "off_platform": c["off_platform"],
                  "point": CHANNEL_STYLE[c["channel_code"]] if c["off_platform"] else None,
                  "text": c["text"][:160], "off_message": c["off_message"], "count": 1}
                 for c in communications]
    else:
        grouped: Counter = Counter()
        off: Counter = Counter()
        for c in communications:
            key = (axis.index(c["at"]), c["category"])
            grouped[key] += 1
            off[key] += c["off_message"]
        drawn = [{"at": _ms(axis.start + (i + 0.5) * axis.step), "category": category, "label": categories[category],
                  "channel": "", "off_platform": False, "point": None,
                  "text": _("%(n)d posts in this bucket") % {"n": n}, "off_message": bool(off[(i, category)]),
                  "count": n} for (i, category), n in sorted(grouped.items())]
    styles = {c.value: {"colour": CATEGORY_STYLE[c][0], "point": CATEGORY_STYLE[c][1], "label": categories[c.value]}
              for c in Post.Category}
    statuses = [{"at": _ms(e.at), "label": e.get_status_display()}
                for e in incident.events.filter(kind=IncidentEvent.Kind.STATUS, at__gte=axis.start, at__lt=axis.end)]
    window = {"from": _ms(axis.window_start), "to": _ms(axis.window_end), "ongoing": incident.ended_at is None,
              "label": _("outage window")}
    phases = [{"from": _ms(axis.start), "to": _ms(axis.window_start), "label": _("before")}]
    if incident.ended_at and axis.end > axis.window_end:
        phases.append({"from": _ms(axis.window_end), "to": _ms(axis.end), "label": _("after")})
    target_s = first_response_target_s(incident.brand)
    return {
        "window": window,
        "phases": [p for p in phases if p["to"] > p["from"]],
        "statuses": statuses,
        "communications": drawn,
        "styles": styles,
        "silences": _silences(communications, axis, update_cadence_s(incident.brand)),
        "cadence": duration_text(update_cadence_s(incident.brand)),
        # The last stretch of a target: mentions there can still be answered in time (METRICS.md §8).
        # Whole minutes, so that the marks change once a minute, not at every refresh.
        "pending": {"from": _ms(minute_of(max(axis.window_start, now - dt.timedelta(seconds=target_s)))),
                    "to": _ms(minute_of(now))} if incident.ended_at is None else None,
    }


# --- Tiles -----------------------------------------------------------------------------------------------

def target_breaches(*, incident: Incident, now: dt.datetime | None = None) -> int:
    """METRICS.md §8 breaches among the window's mentions: unanswered and older than the first-response target,
    or answered with an FRT over it. Exact, from the rollups and two edge reads."""
    from socialfeed.aggregates import window_counts

    now = now or timezone.now()
    start, end = incident.started_at, incident.window_end(now)
    target_s = first_response_target_s(incident.brand)
    counts = window_counts(brand_id=incident.brand_id, start=start, end=end)
    # The rollups count "answered within" against the brand's current target (incidents.targets re-counts them
    # when it changes), so answered-late breaches are exact without reading the mentions.
    within = counts["answered_within_target"]
    recent_start = max(start, now - dt.timedelta(seconds=target_s))
    recent = window_counts(brand_id=incident.brand_id, start=recent_start, end=end) if recent_start < end else None
    still_in_time = (recent["mentions"] - recent["answered"]) if recent else 0
    return counts["mentions"] - within - still_in_time


def board_tiles(*, incident: Incident, now: dt.datetime | None = None) -> list[dict]:
    """The headline tiles, already worded: the page only writes ``value`` and ``hint`` into place. Values are
    short so that they fit their tile in English and French; the longer part goes in the hint."""
    now = now or timezone.now()
    f = incident_figures(incident=incident, now=now)
    zone = incident.brand.zone
    target = duration_text(first_response_target_s(incident.brand))
    if f["tta_s"] is None:
        tta, tta_hint = _("not acknowledged"), _("%(elapsed)s so far") % {"elapsed": duration_text(f["elapsed_s"])}
    else:
        tta = duration_text(f["tta_s"])
        tta_hint = (_("by %(via)s") % {"via": f["acknowledged_via"]}) if f["acknowledged_via"] else ""
    first_update = duration_text(f["first_update_s"]) if f["first_update_s"] is not None else _("none yet")
    off = f["off_message_count"]
    breaches = target_breaches(incident=incident, now=now)
    tiles = [
        {"key": "tta", "label": _("Time to acknowledge"), "value": tta, "hint": tta_hint, "alert": f["tta_s"] is None},
        {"key": "first_update", "label": _("Time to first public update"), "value": first_update,
         "alert": f["first_update_s"] is None,
         "hint": (_("by %(via)s") % {"via": f["first_update_via"]}) if f["first_update_via"] else ""},
        {"key": "longest_silence", "label": _("Longest silence"), "value": duration_text(f["longest_silence_s"]),
         "hint": (ngettext("%(n)d off-message post", "%(n)d off-message posts", off) % {"n": off}) if off else
         _("between outage updates"), "alert": bool(off)},
    ]
    if f["ongoing"]:
        # METRICS.md §5 since last update: from the last outage-related broadcast, or from started_at; against the
        # brand's update cadence (§8).
        cadence_s = update_cadence_s(incident.brand)
        if f["last_update_at"] is None:
            hint = _("no outage update yet: counted from the start")
        else:
            hint = _("last: %(time)s, %(via)s") % {
                "time": f["last_update_at"].astimezone(zone).strftime("%d/%m %H:%M"), "via": f["last_update_via"]}
        hint += " · " + _("cadence: every %(cadence)s") % {"cadence": duration_text(cadence_s)}
        tiles.append({"key": "since_last_update", "label": _("Since last update"),
                      "value": duration_text(f["since_last_update_s"]), "hint": hint,
                      "alert": f["last_update_at"] is None or f["since_last_update_s"] > cadence_s})
    tiles += [
        {"key": "mentions", "label": _("Mentions"), "value": str(f["mentions"]),
         "hint": _("%(n)d complaints") % {"n": f["complaints"]}},
        {"key": "reply_rate", "label": _("Reply rate"), "value": percent_text(f["reply_rate"])},
        # METRICS.md §4 answered within T, T named: the brand's first-response target (§8).
        {"key": "answered_within_target",
         "label": _("Answered within %(target)s") % {"target": duration_text(f["first_response_target_s"])},
         "value": percent_text(f["answered_within_target"]), "hint": _("the first-response target")},
        {"key": "median_frt", "label": _("Median first response"), "value": duration_text(f["median_frt_s"])},
        {"key": "p90_frt", "label": _("p90 first response"), "value": duration_text(f["p90_frt_s"])},
        {"key": "breaches", "label": _("Target breaches"), "value": str(breaches),
         "hint": _("first-response target %(target)s") % {"target": target}, "alert": breaches > 0},
        {"key": "unanswered", "label": _("Unanswered now"), "value": str(f["unanswered"]), "alert": f["unanswered"] > 0},
        {"key": "oldest_wait", "label": _("Oldest unanswered wait"), "value": duration_text(f["oldest_unanswered_wait_s"])},
    ]
    return tiles


def unanswered_mentions(*, incident: Incident, now: dt.datetime):
    """The incident window's unanswered mentions (METRICS.md §3 unanswered): the board's queue and the API's."""
    return Mention.objects.filter(brand_id=incident.brand_id, answered=False, created_at__gte=incident.started_at,
                                  created_at__lt=incident.window_end(now)).select_related("post")


def tone_tiers(*, incident: Incident, now: dt.datetime | None = None) -> dict[str, int]:
    """How many of the incident's mentions (METRICS.md §6 tone) were read by the accurate tier (the encoder,
    re-reading in the background) and how many still carry the fast tier's inline reading: the board says
    which it shows."""
    from socialfeed.tone.tiers import mention_tiers

    now = now or timezone.now()
    return mention_tiers(Mention.objects.filter(brand_id=incident.brand_id, created_at__gte=incident.started_at,
                                                created_at__lt=incident.window_end(now)))


# --- Series: one value per bucket of the shared axis -----------------------------------------------------

def _bucket_counts(incident: Incident, axis: TimeAxis) -> list[dict[str, int]]:
    """METRICS.md §4/§6/§7 mention counts per bucket. The axis is aligned on whole minutes, so the rollups alone
    hold every bucket exactly (the live minute included: ingestion refreshes it after every batch)."""
    totals = [dict.fromkeys(COUNT_FIELDS, 0) for _i in range(axis.n)]
    rows = MinuteRollup.objects.filter(brand_id=incident.brand_id, minute__gte=axis.start,
                                       minute__lt=axis.end).values_list("minute", *COUNT_FIELDS)
    for minute, *values in rows:
        bucket = totals[axis.index(minute_of(minute))]
        for field, value in zip(COUNT_FIELDS, values, strict=True):
            bucket[field] += value
    return totals


def _series(axis: TimeAxis, datasets: list[dict], **extra) -> dict:
    return {"series": axis.series(), "bucket": bucket_text(axis.step), "datasets": datasets, **extra}


def chart_volume(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §7 volume: mentions and complaints per bucket, before, during and after the window."""
    axis = time_axis(incident=incident, now=now)
    totals = _bucket_counts(incident, axis)
    per = bucket_text(axis.step)
    return _series(axis, [
        {"label": _("Mentions per %(bucket)s") % {"bucket": per}, "type": "bar",
         "data": [t["mentions"] for t in totals], "colour": PALETTE["blue"]},
        {"label": _("Complaints per %(bucket)s") % {"bucket": per}, "type": "line",
         "data": [t["complaints"] for t in totals], "colour": PALETTE["vermillion"]},
    ], y={"title": _("mentions"), "min": 0})


def chart_frt(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §4 median and p90 FRT of the mentions created in each bucket, with the brand's first-response
    target (§8) as a line. Minutes, or hours when the slowest bucket is over three hours."""
    axis = time_axis(incident=incident, now=now)
    quantiles = frt_quantiles(brand_id=incident.brand_id, start=axis.start, end=axis.end, bucket=axis.step)
    step_s = int(axis.step.total_seconds())
    keys = [int((moment - EPOCH).total_seconds()) // step_s for moment in axis.bucket_starts()]
    slowest = max((q[1] or 0 for q in quantiles.values()), default=0)
    unit_s, unit = (3600, _("hours")) if slowest > 3 * 3600 else (60, _("minutes"))

    def value(seconds):
        return None if seconds is None else round(seconds / unit_s, 2 if unit_s == 3600 else 1)

    target_s = first_response_target_s(incident.brand)
    return _series(axis, [
        {"label": _("Median first response"), "type": "line", "colour": PALETTE["blue"],
         "data": [value(quantiles.get(k, (None, None))[0]) for k in keys]},
        {"label": _("p90 first response"), "type": "line", "colour": PALETTE["orange"], "dash": [6, 3],
         "data": [value(quantiles.get(k, (None, None))[1]) for k in keys]},
    ], y={"title": unit, "min": 0},
        target={"value": round(target_s / unit_s, 2), "label": _("target %(target)s") % {
            "target": duration_text(target_s)}})


def chart_within(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §4 answered within the first-response target (§8), as a share of each bucket's mentions."""
    axis = time_axis(incident=incident, now=now)
    target_s = first_response_target_s(incident.brand)
    totals = _bucket_counts(incident, axis)
    within = [t["answered_within_target"] for t in totals]  # counted against the brand's current target
    return _series(axis, [
        {"label": _("Answered within %(target)s") % {"target": duration_text(target_s)}, "type": "line",
         "colour": PALETTE["green"],
         "data": [round(100 * w / t["mentions"], 1) if t["mentions"] else None for w, t in zip(within, totals,
                                                                                                 strict=True)]},
    ], y={"title": _("% of the bucket's mentions"), "min": 0, "max": 100})


def _net(positive: int, negative: int, n: int) -> float | None:
    """METRICS.md §6 net sentiment = (positive − negative) / posts; no posts, no value."""
    return round((positive - negative) / n, 3) if n else None


def _official_per_bucket(incident: Incident, axis: TimeAxis, *group) -> list[dict]:
    """Official posts per minute counted by the database, then summed per bucket: a brand answering hundreds of
    customers a minute must not make a chart read every reply. A brand's repost of someone else's post is not
    its own word (METRICS.md §1) and is left out."""
    rows = (official_posts(incident).filter(created_at__gte=axis.start, created_at__lt=axis.end)
            .exclude(official_kind="")
            .annotate(m=TruncMinute("created_at", tzinfo=UTC)).values("m", *group)
            .annotate(n=Count("id")).order_by())
    return [{**row, "index": axis.index(minute_of(row["m"]))} for row in rows]


def chart_tone(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §6 net sentiment of customers' mentions, per bucket. Official posts are described by their
    categories, never by sentiment (an apology reads as negative to any sentiment model and is exactly what a
    brand should post): their category mix is the official-posts chart (:func:`chart_official`)."""
    axis = time_axis(incident=incident, now=now)
    totals = _bucket_counts(incident, axis)
    return _series(axis, [
        {"label": _("Customers' net sentiment"), "type": "line", "colour": PALETTE["vermillion"],
         "data": [_net(t["positive"], t["negative"], t["mentions"]) for t in totals]},
    ], y={"title": _("net sentiment"), "min": -1, "max": 1})


def chart_official(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """The brand's official communications per bucket, stacked by METRICS.md §6 category: official posts
    (replies and broadcasts) and off-platform communications (§1). Each broadcast is also a mark on every chart
    (:func:`board_marks`), off-platform ones by channel and off-message ones (§5) flagged."""
    axis = time_axis(incident=incident, now=now)
    per_category = {c.value: [0] * axis.n for c in Post.Category}
    for row in _official_per_bucket(incident, axis, "category"):
        per_category[row["category"] or Post.Category.OTHER][row["index"]] += row["n"]
    for at, category in (communications(incident).filter(sent_at__gte=axis.start, sent_at__lt=axis.end)
                         .values_list("sent_at", "category")):
        per_category[category or Post.Category.OTHER][axis.index(at)] += 1
    datasets = []
    for category in Post.Category:
        colour, _point, pattern = CATEGORY_STYLE[category]
        datasets.append({"label": category.label.capitalize(), "type": "bar", "stack": "official",
                         "data": per_category[category.value], "colour": colour, "pattern": pattern})
    return _series(axis, datasets, y={"title": _("official communications"), "min": 0}, stacked=True)


# --- One bucket's posts, for a click on a chart ----------------------------------------------------------

BUCKET_POSTS = 30


def bucket_posts(*, incident: Incident, at: dt.datetime, now: dt.datetime | None = None) -> dict:
    """The mentions and official posts of the bucket holding ``at`` (first ``BUCKET_POSTS`` of each, oldest
    first, with how many there are). Raises ValueError when ``at`` is outside the board's axis."""
    axis = time_axis(incident=incident, now=now)
    if not axis.start <= at < axis.end:
        raise ValueError("outside the board's time axis")
    lo = axis.start + axis.index(at) * axis.step
    hi = lo + axis.step
    zone = incident.brand.zone
    mentions = Mention.objects.filter(brand_id=incident.brand_id, created_at__gte=lo, created_at__lt=hi)
    official = official_posts(incident).filter(created_at__gte=lo, created_at__lt=hi)
    platforms = dict(Post._meta.get_field("platform").choices)

    def shown(post: Post, **extra) -> dict:
        return {"id": post.id, "author": post.author_handle, "text": post.text, "url": web_link(post.url),
                "platform": str(platforms.get(post.platform, post.platform)),
                "at": post.created_at.astimezone(zone).strftime("%H:%M:%S"), **extra}

    return {
        "from": _ms(lo), "to": _ms(hi),
        "title": _("%(start)s – %(end)s (%(zone)s)") % {
            "start": dateformat.format(lo.astimezone(zone), "D j M H:i"),
            "end": dateformat.format(hi.astimezone(zone), "H:i"), "zone": incident.brand.time_zone},
        "mentions": {"count": mentions.count(), "items": [
            shown(m.post, answered=m.answered, complaint=m.complaint)
            for m in mentions.select_related("post").order_by("created_at", "id")[:BUCKET_POSTS]]},
        "official": {"count": official.count(), "items": [
            shown(p, kind=p.get_official_kind_display(), category=p.get_category_display())
            for p in official.order_by("created_at", "id")[:BUCKET_POSTS]]},
    }
