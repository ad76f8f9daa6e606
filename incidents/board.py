"""The live board of one incident: its headline tiles, the unanswered queue and the Chart.js series.

Every figure follows METRICS.md (§4 aggregates, §5 incident windows, §6 tone, §7 volume) and is computed here,
server-side; the board's JavaScript only draws what these functions return. Series are Chart.js-shaped
``{labels, datasets}`` with every bucket present.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right

from django.db.models import Count, Min
from django.db.models.functions import TruncMinute
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from socialfeed.aggregates import add_counts, ceil_minute, frt_quantiles, minute_series, zero_counts
from socialfeed.models import Mention, Post
from socialfeed.post_links import web_link
from socialfeed.rollups import minute_of

from .figures import communications, incident_figures, official_posts
from .models import Incident, OffPlatformCommunication
from .targets import brand_targets
from .templatetags.board_format import duration_text, percent_text

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
FRT_BUCKET = dt.timedelta(minutes=15)
CHART_MARGIN = dt.timedelta(hours=2)  # how much of "before" and "after" the per-minute charts show
MAX_CHART_MINUTES = 3 * 24 * 60  # a very long outage shows its last three days per minute
QUEUE_LENGTH = 50


# Okabe–Ito: distinguishable with the common colour-vision deficiencies. Every series also differs by dash
# or point style, so colour is never the only cue.
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
}
CATEGORY_STYLE = {
    Post.Category.APOLOGY: (PALETTE["purple"], "triangle"),
    Post.Category.STATUS_UPDATE: (PALETTE["blue"], "circle"),
    Post.Category.WORKAROUND: (PALETTE["green"], "rectRot"),
    Post.Category.RESOLUTION: (PALETTE["sky"], "rect"),
    Post.Category.PROMOTIONAL: (PALETTE["vermillion"], "star"),
    Post.Category.OTHER: (PALETTE["black"], "cross"),
}



def board_tiles(*, incident: Incident, now: dt.datetime | None = None) -> list[dict]:
    """The headline tiles, already worded: the page only writes ``value`` and ``hint`` into place."""
    now = now or timezone.now()
    f = incident_figures(incident=incident, now=now)
    zone = incident.brand.zone
    if f["tta_s"] is None:
        tta = _("not acknowledged — %(elapsed)s so far") % {"elapsed": duration_text(f["elapsed_s"])}
    else:
        tta = duration_text(f["tta_s"])
    first_update = duration_text(f["first_update_s"]) if f["first_update_s"] is not None else _("none yet")
    off = f["off_message_count"]
    tiles = [
        {"key": "tta", "label": _("Time to acknowledge"), "value": tta, "alert": f["tta_s"] is None,
         "hint": (_("by %(via)s") % {"via": f["acknowledged_via"]}) if f["acknowledged_via"] else ""},
        {"key": "first_update", "label": _("Time to first public update"), "value": first_update,
         "alert": f["first_update_s"] is None,
         "hint": (_("by %(via)s") % {"via": f["first_update_via"]}) if f["first_update_via"] else ""},
        {"key": "longest_silence", "label": _("Longest silence"), "value": duration_text(f["longest_silence_s"]),
         "hint": (ngettext("%(n)d off-message post", "%(n)d off-message posts", off) % {"n": off}) if off else
         _("between outage updates"), "alert": bool(off)},
    ]
    if f["ongoing"]:
        # METRICS.md §5 since last update: from the last outage-related broadcast, or from started_at.
        if f["last_update_at"] is None:
            hint = _("no outage update yet: counted from the start")
        else:
            hint = _("last: %(time)s, %(via)s") % {
                "time": f["last_update_at"].astimezone(zone).strftime("%d/%m %H:%M"), "via": f["last_update_via"]}
        tiles.append({"key": "since_last_update", "label": _("Since last update"),
                      "value": duration_text(f["since_last_update_s"]), "hint": hint,
                      "alert": f["last_update_at"] is None})
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
        {"key": "unanswered", "label": _("Unanswered now"), "value": str(f["unanswered"]), "alert": f["unanswered"] > 0},
        {"key": "oldest_wait", "label": _("Oldest unanswered wait"), "value": duration_text(f["oldest_unanswered_wait_s"])},
    ]
    return tiles


def unanswered_mentions(*, incident: Incident, now: dt.datetime):
    """The incident window's unanswered mentions (METRICS.md §3 unanswered): the board's queue and the API's."""
    return Mention.objects.filter(brand_id=incident.brand_id, answered=False, created_at__gte=incident.started_at,
                                  created_at__lt=incident.window_end(now)).select_related("post")


def unanswered_queue(*, incident: Incident, now: dt.datetime | None = None, limit: int = QUEUE_LENGTH) -> list[dict]:
    """The window's unanswered mentions, oldest first (METRICS.md §3 unanswered), as the queue shows them."""
    now = now or timezone.now()
    zone = incident.brand.zone
    rows = unanswered_mentions(incident=incident, now=now).order_by("created_at", "id")[:limit]
    return [{
        "id": m.id,
        "author": m.post.author_handle,
        "text": m.post.text,
        "platform": m.post.get_platform_display(),
        "url": web_link(m.post.url),
        "created_at": m.created_at.astimezone(zone).strftime("%H:%M"),
        "waiting_s": (now - m.created_at).total_seconds(),
        "waiting": duration_text((now - m.created_at).total_seconds()),
        "complaint": m.complaint,
    } for m in rows]


# --- Charts: Chart.js-shaped {labels, datasets}, every bucket present ------------------------------------

def chart_range(*, incident: Incident, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The minutes the per-minute charts show: some of "before", the window, some of "after" (not past now)."""
    now = now or timezone.now()
    end = incident.window_end(now)
    lo = minute_of(incident.started_at - CHART_MARGIN)
    hi = ceil_minute(min(end + CHART_MARGIN, now) if incident.ended_at else end)
    hi = max(hi, lo + MINUTE)
    if (hi - lo) / MINUTE > MAX_CHART_MINUTES:
        lo = hi - MAX_CHART_MINUTES * MINUTE
    return lo, hi


def _label(moment: dt.datetime, zone, multi_day: bool) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%d/%m %H:%M") if multi_day else local.strftime("%H:%M")


def _minutes(lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
    return [lo + i * MINUTE for i in range(int((hi - lo) / MINUTE))]


def _labels(incident: Incident, moments: list[dt.datetime]) -> list[str]:
    zone = incident.brand.zone
    multi_day = bool(moments) and moments[0].astimezone(zone).date() != moments[-1].astimezone(zone).date()
    return [_label(m, zone, multi_day) for m in moments]


def chart_volume(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §7 volume per minute (mentions and complaints), with the §5 phases for the shading."""
    now = now or timezone.now()
    lo, hi = chart_range(incident=incident, now=now)
    minutes = _minutes(lo, hi)
    series = minute_series(brand_id=incident.brand_id, start=lo, end=hi)
    start_index = int((minute_of(incident.started_at) - lo) / MINUTE)
    end_index = int((minute_of(incident.window_end(now)) - lo) / MINUTE)
    return {
        "labels": _labels(incident, minutes),
        "datasets": [
            {"label": _("Mentions per minute"), "data": [series.get(m, {}).get("mentions", 0) for m in minutes],
             "borderColor": PALETTE["blue"], "backgroundColor": PALETTE["blue"], "type": "bar"},
            {"label": _("Complaints per minute"), "data": [series.get(m, {}).get("complaints", 0) for m in minutes],
             "borderColor": PALETTE["vermillion"], "backgroundColor": PALETTE["vermillion"], "type": "line",
             "borderDash": [6, 3], "pointRadius": 0, "borderWidth": 2},
        ],
        "phases": {
            "before": {"from": 0, "to": max(start_index, 0), "label": _("before")},
            "during": {"from": max(start_index, 0), "to": min(end_index, len(minutes) - 1), "label": _("outage window")},
            "after": {"from": min(end_index, len(minutes) - 1), "to": len(minutes) - 1, "label": _("after")},
        },
        "zone": incident.brand.time_zone,
    }


def _frt_buckets(incident: Incident, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    start, end = incident.started_at, incident.window_end(now)
    step = int(FRT_BUCKET.total_seconds())
    first = dt.datetime.fromtimestamp(int(start.timestamp()) // step * step, UTC)
    buckets = []
    cursor = first
    while cursor < end:
        buckets.append((max(cursor, start), min(cursor + FRT_BUCKET, end)))
        cursor += FRT_BUCKET
    return buckets or [(start, end)]


def _bucket_totals(series: dict[dt.datetime, dict[str, int]], buckets) -> list[dict[str, int]]:
    """Sum per-minute counts into the 15-minute buckets (aligned on the epoch, the first one clipped)."""
    step = int(FRT_BUCKET.total_seconds())
    first = int(buckets[0][0].timestamp()) // step
    totals = [zero_counts() for _bucket in buckets]
    for minute, counts in series.items():
        index = int(minute.timestamp()) // step - first
        if 0 <= index < len(totals):
            add_counts(totals[index], counts)
    return totals


def _minutes_value(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def chart_frt(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §4 median and p90 FRT (minutes) per 15 minutes of the window, with answered within the brand's
    first-response target (%)."""
    now = now or timezone.now()
    target = duration_text(brand_targets(incident.brand_id).first_response_target_s)
    buckets = _frt_buckets(incident, now)
    series = minute_series(brand_id=incident.brand_id, start=incident.started_at, end=incident.window_end(now))
    totals = _bucket_totals(series, buckets)
    quantiles = frt_quantiles(brand_id=incident.brand_id, start=incident.started_at,
                              end=incident.window_end(now), bucket=FRT_BUCKET)
    step = int(FRT_BUCKET.total_seconds())
    keys = [int(lo.timestamp()) // step for lo, _hi in buckets]
    return {
        "labels": _labels(incident, [lo for lo, _hi in buckets]),
        "datasets": [
            {"label": _("Median first response (min)"), "data": [_minutes_value(quantiles.get(k, (None,))[0]) for k in keys],
             "borderColor": PALETTE["blue"], "backgroundColor": PALETTE["blue"], "pointStyle": "circle",
             "yAxisID": "y", "spanGaps": False},
            {"label": _("p90 first response (min)"), "data": [_minutes_value(quantiles.get(k, (None, None))[1]) for k in keys],
             "borderColor": PALETTE["orange"], "backgroundColor": PALETTE["orange"], "pointStyle": "triangle",
             "borderDash": [6, 3], "yAxisID": "y", "spanGaps": False},
            {"label": _("Answered within %(target)s (%%)") % {"target": target},
             "data": [round(100 * t["answered_within_target"] / t["mentions"], 1) if t["mentions"] else None
                      for t in totals],
             "borderColor": PALETTE["green"], "backgroundColor": PALETTE["green"], "pointStyle": "rect",
             "borderDash": [2, 2], "yAxisID": "y1", "spanGaps": False},
        ],
        "zone": incident.brand.time_zone,
    }


def _net(positive: int, negative: int, n: int) -> float | None:
    """METRICS.md §6 net sentiment = (positive − negative) / posts; no posts, no value."""
    return round((positive - negative) / n, 3) if n else None


def chart_tone(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """METRICS.md §6 per 15 minutes: customers' net sentiment (a line, −1 to 1) and the official posts' and
    off-platform communications' category mix (stacked bars, counts on the right axis).

    Official posts are described by their categories, never by sentiment: an apology reads as negative to any
    sentiment model and is exactly what a brand should post.
    """
    now = now or timezone.now()
    buckets = _frt_buckets(incident, now)
    start, end = incident.started_at, incident.window_end(now)
    series = minute_series(brand_id=incident.brand_id, start=start, end=end)
    totals = _bucket_totals(series, buckets)
    # Official posts counted per minute and category by the database, then summed per bucket: a brand answering
    # hundreds of customers a minute must not make the chart read every reply.
    per_minute = (official_posts(incident).filter(created_at__gte=start, created_at__lt=end)
                  .exclude(official_kind="")
                  .annotate(m=TruncMinute("created_at", tzinfo=UTC)).values("m", "category")
                  .annotate(n=Count("id")).order_by())
    rows = [(row["m"].astimezone(UTC), row["category"] or Post.Category.OTHER, row["n"]) for row in per_minute]
    rows += [(at, category, 1) for at, category in
             communications(incident).filter(sent_at__gte=start, sent_at__lt=end).values_list("sent_at", "category")]
    categories = list(Post.Category)
    mix = {c.value: [0] * len(buckets) for c in categories}
    starts = [lo for lo, _hi in buckets]
    for moment, category, n in rows:
        index = bisect_right(starts, moment) - 1
        if 0 <= index < len(buckets) and moment < buckets[index][1]:
            mix[category][index] += n
    datasets = [
        {"label": _("Customers' net sentiment"), "type": "line",
         "data": [_net(t["positive"], t["negative"], t["mentions"]) for t in totals],
         "borderColor": PALETTE["black"], "backgroundColor": PALETTE["black"], "pointStyle": "circle",
         "yAxisID": "y", "spanGaps": False, "order": 0},
    ]
    for category in categories:
        colour, _style = CATEGORY_STYLE[category]
        datasets.append({"label": _("Official: %(category)s") % {"category": category.label},
                         "type": "bar", "data": mix[category.value], "backgroundColor": colour,
                         "borderColor": colour, "yAxisID": "y1", "stack": "official", "order": 1})
    return {
        "labels": _labels(incident, starts),
        "datasets": datasets,
        "zone": incident.brand.time_zone,
    }


def tone_tiers(*, incident: Incident, now: dt.datetime | None = None) -> dict[str, int]:
    """How many of the incident's mentions (METRICS.md §6 tone) were read by the accurate tier (the encoder,
    re-reading in the background) and how many still carry the fast tier's inline reading: the board says
    which it shows."""
    from socialfeed.models import Mention
    from socialfeed.tone.tiers import mention_tiers

    now = now or timezone.now()
    return mention_tiers(Mention.objects.filter(brand_id=incident.brand_id, created_at__gte=incident.started_at,
                                                created_at__lt=incident.window_end(now)))


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


def _off_platform_points(incident: Incident, *, lo, hi, labels, start, end) -> dict:
    """The brand's off-platform communications (METRICS.md §1) on the official-posts chart: a point in their
    §6 category's series, a ring marked by their channel, and off-message when promotional inside the window
    (§5, they are broadcasts)."""
    points, off_message = [], []
    rings: dict[str, list] = {c.value: [] for c in OffPlatformCommunication.Channel}
    for c in communications(incident).filter(sent_at__gte=lo, sent_at__lt=hi).order_by("sent_at", "id"):
        index = int((minute_of(c.sent_at) - lo) / MINUTE)
        if not 0 <= index < len(labels):
            continue
        point = {"x": labels[index], "y": Post.Category(c.category).label.capitalize(), "text": c.text[:140],
                 "kind": _("%(channel)s (off-platform)") % {"channel": capfirst(c.get_channel_display())},
                 "channel": c.channel}
        points.append((c.category, point))
        rings[c.channel].append(point)
        if c.category == Post.Category.PROMOTIONAL and start <= c.sent_at < end:
            off_message.append(point)
    return {"points": points, "rings": rings, "off_message": off_message}


def chart_official(*, incident: Incident, now: dt.datetime | None = None) -> dict:
    """The brand's official posts and off-platform communications on the per-minute timeline, one series per
    §6 category, off-platform ones ringed by channel; promotional broadcasts inside the window are flagged
    off-message (METRICS.md §5).

    Broadcasts (what the brand tells everyone) are one point each. Replies to customers are one point per
    minute and category, with their number: during a busy outage a brand answers hundreds a minute, and a
    point per reply would hide the broadcasts and make the chart (and the page) slow.
    """
    now = now or timezone.now()
    lo, hi = chart_range(incident=incident, now=now)
    minutes = _minutes(lo, hi)
    labels = _labels(incident, minutes)
    start, end = incident.started_at, incident.window_end(now)
    posts = official_posts(incident).filter(created_at__gte=lo, created_at__lt=hi)
    categories = list(Post.Category)
    points: list[tuple[dt.datetime, str, dict]] = []  # (moment, category, point), sorted by moment below
    off_message = []
    reply_label = str(Post.OfficialKind.REPLY.label)
    for post in posts.exclude(official_kind=Post.OfficialKind.REPLY).order_by("created_at"):
        category = post.category or Post.Category.OTHER
        index = int((minute_of(post.created_at) - lo) / MINUTE)
        point = {"x": labels[index], "y": Post.Category(category).label.capitalize(), "text": post.text[:140],
                 "kind": post.get_official_kind_display()}
        points.append((post.created_at, category, point))
        if (post.official_kind == Post.OfficialKind.BROADCAST and category == Post.Category.PROMOTIONAL
                and start <= post.created_at < end):
            off_message.append(point)
    replies = (posts.filter(official_kind=Post.OfficialKind.REPLY)
               .annotate(m=TruncMinute("created_at", tzinfo=UTC)).values("m", "category")
               .annotate(n=Count("id"), sample=Min("text")).order_by())
    for row in replies:
        minute = row["m"].astimezone(UTC)
        category = row["category"] or Post.Category.OTHER
        index = int((minute - lo) / MINUTE)
        if not 0 <= index < len(labels):
            continue
        text = row["sample"][:140] if row["n"] == 1 else ngettext(
            "%(count)d reply this minute, e.g. “%(text)s”", "%(count)d replies this minute, e.g. “%(text)s”",
            row["n"]) % {"count": row["n"], "text": row["sample"][:100]}
        point = {"x": labels[index], "y": Post.Category(category).label.capitalize(), "text": text,
                 "kind": reply_label, "count": row["n"]}
        points.append((minute, category, point))
    per_category: dict[str, list] = {c.value: [] for c in categories}
    for _moment, category, point in sorted(points, key=lambda item: item[0]):
        per_category[category].append(point)
    off_platform = _off_platform_points(incident, lo=lo, hi=hi, labels=labels, start=start, end=end)
    for category, point in off_platform["points"]:
        per_category[category].append(point)
    datasets = []
    for category in categories:
        colour, style = CATEGORY_STYLE[category]
        datasets.append({"label": category.label.capitalize(), "data": per_category[category.value],
                         "borderColor": colour, "backgroundColor": colour, "pointStyle": style, "pointRadius": 7})
    datasets.append({"label": _("Off-message (promotional during the outage)"),
                     "data": off_message + off_platform["off_message"],
                     "borderColor": PALETTE["black"], "backgroundColor": "rgba(0,0,0,0)", "pointStyle": "crossRot",
                     "pointRadius": 14, "borderWidth": 3})
    # One ring series per channel, always in the same order (the page updates series by position); the legend
    # leaves out the channels with nothing to show.
    for channel in OffPlatformCommunication.Channel:
        datasets.append({"label": _("%(channel)s (off-platform)") % {"channel": capfirst(channel.label)},
                         "data": off_platform["rings"][channel.value], "borderColor": PALETTE["black"],
                         "backgroundColor": "rgba(0,0,0,0)", "pointStyle": CHANNEL_STYLE[channel],
                         "pointRadius": 12, "borderWidth": 2, "hideWhenEmpty": True})
    return {
        "labels": labels,
        "categories": [c.label.capitalize() for c in categories],
        "datasets": datasets,
        "zone": incident.brand.time_zone,
    }

