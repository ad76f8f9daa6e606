"""The board's unanswered queue: the window's unanswered mentions (METRICS.md §3) a comms team works through.

"N of M unanswered": M is METRICS.md's count of unanswered mentions in the window (the "Unanswered now" tile),
N how many the chosen filters show. Pages are keyset pages on (created_at, id), oldest or newest first, so a
page costs the same on the first page as deep in a queue of 100,000. Mentions the team handled without a reply
(incidents.models.MentionHandling) leave the to-do list for a count of their own, but stay unanswered in every
METRICS.md figure.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from socialfeed.aggregates import window_counts
from socialfeed.models import Mention
from socialfeed.post_links import web_link

from .board import first_response_target_s, unanswered_mentions
from .models import Incident, MentionHandling, Platform
from .templatetags.board_format import duration_text

PAGE_SIZE = 25
ORDERS = ("oldest", "newest")
STATES = ("todo", "mine", "assigned", "handled", "all")
NEAR_TARGET = 0.75  # share of the first-response target after which a wait shows "near target"
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_CURSOR = re.compile(r"^(-?\d{1,19})\.(\d{1,19})$")


def state_choices() -> list[tuple[str, str]]:
    return [("todo", _("to do")), ("mine", _("assigned to me")), ("assigned", _("assigned to someone")),
            ("handled", _("handled without a reply")), ("all", _("every unanswered mention"))]


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows; built from the page's query by :func:`queue_filters`."""

    order: str = "oldest"
    state: str = "todo"
    complaints: bool = False
    lang: str = ""
    platform: str = ""
    older: bool = False  # only mentions waiting longer than the first-response target
    after: tuple[dt.datetime, int] | None = None
    before: tuple[dt.datetime, int] | None = None

    def query(self, **changes) -> dict[str, str]:
        """The query string of these filters (with some changed), as the queue's links and form write it."""
        f = replace(self, **changes)
        out = {"order": f.order if f.order != "oldest" else "", "state": f.state if f.state != "todo" else "",
               "complaints": "1" if f.complaints else "", "lang": f.lang, "platform": f.platform,
               "older": "1" if f.older else "", "after": cursor_text(f.after), "before": cursor_text(f.before)}
        return {k: v for k, v in out.items() if v}

    @property
    def narrowed(self) -> bool:
        return self.complaints or bool(self.lang) or bool(self.platform) or self.older


def cursor_text(cursor: tuple[dt.datetime, int] | None) -> str:
    if cursor is None:
        return ""
    moment, pk = cursor
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{pk}"


def _cursor(value: str) -> tuple[dt.datetime, int] | None:
    match = _CURSOR.match(value)
    if not match:
        return None
    try:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(match[1]))
    except OverflowError:
        return None
    return moment, int(match[2])


def queue_filters(params) -> tuple[QueueFilters, list[str]]:
    """The filters a query asks for, and a message for each value that cannot be used (that filter is left
    at its default, the rest apply)."""
    errors = []

    def choice(name: str, allowed, default: str) -> str:
        value = params.get(name, "") or default
        if value not in allowed:
            errors.append(_("Unknown %(name)s “%(value)s”: choose one of %(allowed)s.") % {
                "name": name, "value": value[:40], "allowed": ", ".join(allowed)})
            return default
        return value

    def flag(name: str) -> bool:
        value = params.get(name, "")
        if value not in ("", "0", "1", "on"):
            errors.append(_("%(name)s must be 1 or 0, not “%(value)s”.") % {"name": name, "value": value[:40]})
            return False
        return value in ("1", "on")

    lang = params.get("lang", "").strip().lower()
    if lang and not _LANG.match(lang):
        errors.append(_("“%(value)s” is not a language code such as fr or en.") % {"value": lang[:40]})
        lang = ""
    cursors = {}
    for name in ("after", "before"):
        value = params.get(name, "")
        cursors[name] = _cursor(value) if value else None
        if value and cursors[name] is None:
            errors.append(_("The page link is damaged (%(name)s); showing the first page.") % {"name": name})
    if cursors["after"] and cursors["before"]:
        cursors["before"] = None
    platform = params.get("platform", "")
    if platform and platform not in Platform.values:
        errors.append(_("Unknown platform “%(value)s”.") % {"value": platform[:40]})
        platform = ""
    return QueueFilters(order=choice("order", ORDERS, "oldest"), state=choice("state", STATES, "todo"),
                        complaints=flag("complaints"), lang=lang, platform=platform, older=flag("older"),
                        **cursors), errors


def team_members(incident: Incident):
    """The people a queued mention can be assigned to: active members of the teams that own the brand."""
    return (get_user_model().objects.filter(teams__brands=incident.brand_id, is_active=True)
            .distinct().order_by("username"))


def _handled():
    return Exists(MentionHandling.objects.filter(mention=OuterRef("pk")).exclude(reason=""))


def _window(incident: Incident, now: dt.datetime):
    return unanswered_mentions(incident=incident, now=now)


def _filtered(incident: Incident, filters: QueueFilters, now: dt.datetime, user_id: int | None):
    rows = _window(incident, now)
    if filters.state != "all":
        rows = rows.filter(_handled()) if filters.state == "handled" else rows.exclude(_handled())
    if filters.state == "mine":
        rows = rows.filter(handling__assigned_to_id=user_id)
    elif filters.state == "assigned":
        rows = rows.filter(handling__assigned_to__isnull=False)
    if filters.complaints:
        rows = rows.filter(complaint=True)
    if filters.lang:
        rows = rows.filter(post__lang__iexact=filters.lang)
    if filters.platform:
        rows = rows.filter(post__platform=filters.platform)
    if filters.older:
        rows = rows.filter(created_at__lt=now - dt.timedelta(seconds=first_response_target_s(incident.brand)))
    return rows


def queue_counts(*, incident: Incident, filters: QueueFilters, now: dt.datetime, user_id: int | None) -> dict:
    """M (METRICS.md §3 unanswered in the window), N (shown by these filters), and the handled and assigned
    counts. Without filters N is M minus the handled ones: no count over the queue itself."""
    counts = window_counts(brand_id=incident.brand_id, start=incident.started_at, end=incident.window_end(now))
    unanswered = counts["mentions"] - counts["answered"]
    handled = _window(incident, now).filter(_handled()).count()
    todo = _window(incident, now).exclude(_handled())
    assigned = todo.filter(handling__assigned_to__isnull=False).count()
    mine = todo.filter(handling__assigned_to_id=user_id).count() if user_id else 0
    if filters.state == "todo" and not filters.narrowed:
        shown = unanswered - handled
    elif filters.state == "all" and not filters.narrowed:
        shown = unanswered
    else:
        shown = _filtered(incident, filters, now, user_id).count()
    return {"unanswered": unanswered, "shown": shown, "handled": handled, "assigned": assigned, "mine": mine}


def _age(waiting_s: float, target_s: float) -> tuple[str, str]:
    """How a wait compares with the first-response target (METRICS.md §8), as a level and its words: the
    colour of the row never says it alone."""
    if waiting_s > target_s:
        return "over", _("over target")
    if waiting_s > NEAR_TARGET * target_s:
        return "near", _("near target")
    return "ok", _("within target")


def _row(mention: Mention, *, now: dt.datetime, zone, target_s: float, names: dict[int, str]) -> dict:
    post = mention.post
    waiting_s = max((now - mention.created_at).total_seconds(), 0.0)
    level, level_text = _age(waiting_s, target_s)
    local = mention.created_at.astimezone(zone)
    handling = getattr(mention, "handling", None)
    handled = assigned = None
    if handling and handling.reason:
        handled = {"reason": handling.reason, "label": handling.get_reason_display(),
                   "by": names.get(handling.handled_by_id, ""),
                   "at": handling.handled_at.astimezone(zone).strftime("%d/%m %H:%M")}
    if handling and handling.assigned_to_id:
        assigned = {"to": names.get(handling.assigned_to_id, ""), "to_id": handling.assigned_to_id,
                    "by": names.get(handling.assigned_by_id, ""),
                    "at": handling.assigned_at.astimezone(zone).strftime("%d/%m %H:%M") if handling.assigned_at else ""}
    platform = post.get_platform_display()
    return {
        "id": mention.id,
        "author": post.author_handle,
        "text": post.text,
        "platform": platform,
        "url": web_link(post.url),  # only ever an http(s) link (socialfeed.post_links)
        "open_label": _("Open @%(author)s’s post on %(platform)s") % {"author": post.author_handle,
                                                                      "platform": platform},
        "at": local.strftime("%d/%m %H:%M"),
        "waiting": duration_text(waiting_s),
        "age": level,
        "age_label": level_text,
        "complaint": mention.complaint,
        "lang": post.lang,
        "handled": handled,
        "assigned": assigned,
    }


def queue_page(*, incident: Incident, filters: QueueFilters, now: dt.datetime | None = None,
               user_id: int | None = None, size: int = PAGE_SIZE) -> dict:
    """One page of the queue with its counts and the cursors of the pages around it."""
    now = now or timezone.now()
    newest = filters.order == "newest"
    rows = _filtered(incident, filters, now, user_id)
    forward = ("-created_at", "-id") if newest else ("created_at", "id")
    backward = ("created_at", "id") if newest else ("-created_at", "-id")

    def beyond(cursor, later: bool) -> Q:
        moment, pk = cursor
        if later:
            return Q(created_at__gt=moment) | Q(created_at=moment, id__gt=pk)
        return Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk)

    if filters.before:
        # The page before a cursor: read backwards from it, then show it in the page's own order.
        page = list(rows.filter(beyond(filters.before, later=newest)).order_by(*backward)
                    .select_related("post", "handling")[:size + 1])
        has_prev = len(page) > size
        page = page[:size][::-1]
        has_next = True
    else:
        if filters.after:
            rows = rows.filter(beyond(filters.after, later=not newest))
        page = list(rows.order_by(*forward).select_related("post", "handling")[:size + 1])
        has_next = len(page) > size
        page = page[:size]
        has_prev = filters.after is not None
    handlings = [getattr(m, "handling", None) for m in page]
    ids = {uid for h in handlings if h for uid in (h.handled_by_id, h.assigned_to_id, h.assigned_by_id) if uid}
    names = dict(get_user_model().objects.filter(id__in=ids).values_list("id", "username"))
    target_s = first_response_target_s(incident.brand)
    zone = incident.brand.zone
    items = [_row(m, now=now, zone=zone, target_s=target_s, names=names) for m in page]
    first = (page[0].created_at, page[0].id) if page else None
    last = (page[-1].created_at, page[-1].id) if page else None
    return {
        "counts": queue_counts(incident=incident, filters=filters, now=now, user_id=user_id),
        "rows": items,
        "target": duration_text(target_s),
        "pages": {
            "next": filters.query(after=last, before=None) if has_next and last else None,
            "prev": filters.query(before=first, after=None) if has_prev and first else None,
            "first": filters.query(after=None, before=None) if (filters.after or filters.before) else None,
        },
    }
