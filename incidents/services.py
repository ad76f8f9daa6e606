"""Writes for brands, users and incidents. Views, admin and commands call these; every change to an incident
leaves an AuditEntry saying who changed which incident and what."""
from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .date_inputs import moment_is_supported, supported_range
from .models import AuditEntry, Incident, IncidentEvent, MentionHandling, OffPlatformCommunication, Team
from .roles import ANALYST, COMMS, MANAGER, ROLES

# How far ahead of the server clock a time typed to the minute may be and still mean "now".
CLOCK_TOLERANCE = dt.timedelta(minutes=1)

# Model permissions each role's group carries, so staff members of a role can use the admin accordingly.
_ROLE_PERMISSIONS = {
    COMMS: ["view_brand", "view_officialaccount", "view_trackingterm", "view_incident", "add_incident",
            "change_incident", "view_incidentevent", "add_incidentevent", "view_offplatformcommunication",
            "add_offplatformcommunication", "change_offplatformcommunication", "view_source", "view_post",
            "view_mention"],
    MANAGER: ["view_brand", "view_officialaccount", "view_trackingterm", "view_incident", "view_incidentevent",
              "view_offplatformcommunication", "view_source", "view_post", "view_mention"],
    ANALYST: ["view_brand", "view_officialaccount", "view_trackingterm", "view_incident", "view_incidentevent",
              "view_offplatformcommunication", "view_source", "view_post", "view_mention"],
}


def roles_ensure_groups() -> None:
    """Create the comms / manager / analyst groups with their permissions (idempotent, runs after migrate)."""
    for role, codenames in _ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = Permission.objects.filter(
            codename__in=codenames, content_type__app_label__in=["incidents", "socialfeed"]
        )
        group.permissions.set(perms)


@transaction.atomic
def user_create(*, username: str, password: str, role: str, teams: list[str] = (), email: str = "",
                staff: bool = False, superuser: bool = False):
    """Create (or update) a user with one role and team memberships. Unknown role or team: ValueError."""
    if role not in ROLES and role != "admin":
        raise ValueError(f"Unknown role {role!r}: choose one of {', '.join(ROLES + ('admin',))}.")
    User = get_user_model()
    roles_ensure_groups()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.email = email or user.email
    user.is_staff = staff or role == "admin"
    user.is_superuser = superuser or role == "admin"
    user.set_password(password)
    user.save()
    user.groups.set(Group.objects.filter(name=role))
    for team_name in teams:
        try:
            team = Team.objects.get(name=team_name)
        except Team.DoesNotExist:
            raise ValueError(f"Unknown team {team_name!r}.") from None
        team.members.add(user)
    return user


def _moment(at: dt.datetime | None, *, field: str) -> dt.datetime:
    """When a timeline entry really happened: now by default, never in the future (a time typed to the minute
    in the current minute is now)."""
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise ValueError(f"{field} needs a time zone.")
    if not moment_is_supported(at):
        raise ValidationError({field: _("Hotline supports dates %(range)s (UTC).") % {"range": supported_range()}})
    if at > now + CLOCK_TOLERANCE:
        raise ValidationError({field: _("This time is in the future: enter when it really happened.")})
    return min(at, now)


def _window_follows_status(incident: Incident, *, before: str, status: str, at: dt.datetime,
                           end_given: bool) -> None:
    """METRICS.md §5: an incident whose status becomes resolved ends at the time of that change unless an end
    time is given; reopening it makes it ongoing again."""
    resolved = Incident.Status.RESOLVED
    if status == resolved and before != resolved and incident.ended_at is None and not end_given:
        if at <= incident.started_at:
            raise ValidationError({"at": _("An incident can only be resolved after it started (%(start)s UTC).")
                                   % {"start": incident.started_at.strftime("%Y-%m-%d %H:%M")}})
        incident.ended_at = at
    elif before == resolved and status != resolved and not end_given:
        incident.ended_at = None


@transaction.atomic
def incident_set_status(*, incident: Incident, status: str, author=None, note: str = "",
                        at: dt.datetime | None = None) -> IncidentEvent:
    """Record a status change on the incident's timeline at the time it really happened (``at``, default now,
    never in the future) and in the audit log.

    The incident's status is its latest status change: a change back-dated before a later one is recorded
    where it belongs without changing the current status. Resolving ends the window at that time unless it
    already has an end; reopening makes it ongoing again (METRICS.md §5). ValidationError names the field.
    """
    if status not in Incident.Status.values:
        raise ValueError(f"Unknown status {status!r}.")
    at = _moment(at, field="at")
    later = incident.events.filter(kind=IncidentEvent.Kind.STATUS, at__gt=at).exists()
    details = {"status": status, "at": _audit_value(at)}
    if not later:
        before = incident.status
        _window_follows_status(incident, before=before, status=status, at=at, end_given=False)
        incident.status = status
        incident.save(update_fields=["status", "ended_at", "updated_at"])
        details["ended_at"] = _audit_value(incident.ended_at)
    AuditEntry.objects.create(user=author, action="incident.status", target=f"incident:{incident.pk}",
                              details=details)
    return IncidentEvent.objects.create(incident=incident, kind=IncidentEvent.Kind.STATUS, status=status,
                                        text=note, author=author, at=at)


# What incident_update may change; anything else (created_by, timestamps) is not the comms team's to edit.
INCIDENT_EDITABLE = ("brand", "title", "started_at", "ended_at", "severity", "status", "affected_services",
                     "affected_regions")


def _audit_value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _checked(incident: Incident) -> Incident:
    # Model validation gives the form's wording (end after start, known severity and status) to callers that
    # do not come through a form, such as commands and the admin's actions.
    incident.full_clean(exclude=["created_by"], validate_unique=False, validate_constraints=False)
    return incident


@transaction.atomic
def incident_open(*, brand, title: str, started_at: dt.datetime, ended_at: dt.datetime | None = None,
                  severity: str, status: str, affected_services: str = "", affected_regions: str = "",
                  author, details: dict | None = None) -> Incident:
    """Declare an incident of ``brand`` with its outage window [started_at, ended_at) (METRICS.md §5; ended_at
    None while it goes on). Raises django.core.exceptions.ValidationError on an invalid window or choice."""
    incident = _checked(Incident(
        brand=brand, title=title, started_at=started_at, ended_at=ended_at, severity=severity, status=status,
        affected_services=affected_services, affected_regions=affected_regions, created_by=author))
    incident.save()
    AuditEntry.objects.create(user=author, action="incident.open", target=f"incident:{incident.pk}", details={
        "brand": brand.slug, "title": title, "started_at": _audit_value(started_at),
        "ended_at": _audit_value(ended_at), "severity": severity, "status": status, **(details or {})})
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, author, **fields) -> Incident:
    """Change some of an incident's fields (INCIDENT_EDITABLE). The audit entry holds each changed field's old
    and new value; a status move also goes on the incident's timeline, as one made from the board does."""
    unknown = set(fields) - set(INCIDENT_EDITABLE)
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))} of an incident.")
    changes = {}
    before_status = incident.status
    end_given = "ended_at" in fields and fields["ended_at"] != incident.ended_at
    for name, value in fields.items():
        before = getattr(incident, name)
        if before != value:
            changes[name] = {"from": _audit_value(before), "to": _audit_value(value)}
            setattr(incident, name, value)
    if "status" in changes:
        previous_end = incident.ended_at
        _window_follows_status(incident, before=before_status, status=incident.status, at=timezone.now(),
                               end_given=end_given)
        if incident.ended_at != previous_end:
            changes["ended_at"] = {"from": _audit_value(previous_end), "to": _audit_value(incident.ended_at)}
    if not changes:
        return incident
    _checked(incident).save()
    AuditEntry.objects.create(user=author, action="incident.edit", target=f"incident:{incident.pk}",
                              details={"changes": changes})
    if "status" in changes:
        IncidentEvent.objects.create(incident=incident, kind=IncidentEvent.Kind.STATUS, status=incident.status,
                                     author=author)
    return incident


@transaction.atomic
def incident_add_note(*, incident: Incident, author, text: str, at: dt.datetime | None = None) -> IncidentEvent:
    """Add a comms person's note to the incident's timeline, at the time it happened (default now, never in
    the future)."""
    text = text.strip()
    if not text:
        raise ValueError("A note needs some text.")
    at = _moment(at, field="at")
    event = IncidentEvent.objects.create(incident=incident, kind=IncidentEvent.Kind.NOTE, text=text, author=author,
                                         at=at)
    AuditEntry.objects.create(user=author, action="incident.note", target=f"incident:{incident.pk}",
                              details={"event": event.pk, "text": text[:200], "at": _audit_value(at)})
    return event


@transaction.atomic
def communication_record(*, incident: Incident, channel: str, sent_at: dt.datetime, text: str, url: str = "",
                         category: str = "", author=None) -> OffPlatformCommunication:
    """Record a message the brand sent outside the platforms Hotline reads (METRICS.md §1 off-platform
    communication: an SMS, an e-mail, a video…), with the time it was really sent, on ``incident``'s brand.

    ``category`` (METRICS.md §6) defaults to what the category rules read in the text, as for official posts.
    Nothing is stored when anything is wrong: ValidationError names the field (channel, sent_at, text, url,
    category).
    """
    from socialfeed.tone.categories import categorise

    sent_at = _moment(sent_at, field="sent_at")
    text = (text or "").strip()
    communication = OffPlatformCommunication(
        brand=incident.brand, incident=incident, channel=channel, sent_at=sent_at, text=text,
        url=(url or "").strip(), category=category or (categorise(text) if text else ""), recorded_by=author)
    communication.full_clean(exclude=["recorded_by"])
    communication.save()
    AuditEntry.objects.create(user=author, action="incident.communication", target=f"incident:{incident.pk}",
                              details={"communication": communication.pk, "channel": channel,
                                       "sent_at": _audit_value(communication.sent_at),
                                       "category": communication.category, "text": text[:200]})
    return communication


# --- The board's queue: handled without a reply, assigned -------------------------------------------------

def _queued_mentions(incident: Incident, mention_ids):
    """The mentions of the incident's brand among these ids; ids of other brands are ignored (never disclosed)."""
    from socialfeed.models import Mention

    ids = sorted({int(i) for i in mention_ids})
    return list(Mention.objects.filter(brand_id=incident.brand_id, id__in=ids).order_by("id"))


@transaction.atomic
def mentions_mark_handled(*, incident: Incident, mention_ids, reason: str, user) -> int:
    """Mark queued mentions handled without a reply (thanks, spam, duplicate), with who and when; returns how
    many changed. METRICS.md figures do not change: a handled mention is still unanswered (§3)."""
    if reason not in MentionHandling.Reason.values:
        raise ValueError(f"Unknown reason {reason!r}: choose one of {', '.join(MentionHandling.Reason.values)}.")
    now = timezone.now()
    changed = 0
    for mention in _queued_mentions(incident, mention_ids):
        handling, _created = MentionHandling.objects.select_for_update().get_or_create(mention=mention)
        if handling.reason == reason:
            continue
        before = handling.reason
        handling.reason, handling.handled_by, handling.handled_at = reason, user, now
        handling.save(update_fields=["reason", "handled_by", "handled_at"])
        AuditEntry.objects.create(user=user, action="queue.handled", target=f"mention:{mention.pk}", at=now,
                                  details={"incident": incident.pk, "reason": reason, "before": before})
        changed += 1
    return changed


@transaction.atomic
def mentions_put_back(*, incident: Incident, mention_ids, user) -> int:
    """Put handled mentions back in the to-do queue; returns how many changed."""
    now = timezone.now()
    changed = 0
    for mention in _queued_mentions(incident, mention_ids):
        handling = MentionHandling.objects.select_for_update().filter(mention=mention).exclude(reason="").first()
        if handling is None:
            continue
        before = handling.reason
        handling.reason, handling.handled_by, handling.handled_at = "", None, None
        handling.save(update_fields=["reason", "handled_by", "handled_at"])
        AuditEntry.objects.create(user=user, action="queue.put_back", target=f"mention:{mention.pk}", at=now,
                                  details={"incident": incident.pk, "before": before})
        changed += 1
    return changed


@transaction.atomic
def mentions_assign(*, incident: Incident, mention_ids, assignee, user) -> int:
    """Assign queued mentions to a member of the brand's teams (None: unassign); returns how many changed.
    Raises ValueError when the assignee is not in one of the brand's teams."""
    from .queue import team_members

    if assignee is not None and not team_members(incident).filter(pk=assignee.pk).exists():
        raise ValueError(f"{assignee.get_username()} is not in a team of {incident.brand.name}.")
    now = timezone.now()
    changed = 0
    for mention in _queued_mentions(incident, mention_ids):
        handling, _created = MentionHandling.objects.select_for_update().get_or_create(mention=mention)
        if handling.assigned_to_id == (assignee.pk if assignee else None):
            continue
        before = handling.assigned_to_id
        handling.assigned_to, handling.assigned_by, handling.assigned_at = assignee, user, now
        handling.save(update_fields=["assigned_to", "assigned_by", "assigned_at"])
        AuditEntry.objects.create(user=user, action="queue.assigned", target=f"mention:{mention.pk}", at=now,
                                  details={"incident": incident.pk, "to": assignee.pk if assignee else None,
                                           "before": before})
        changed += 1
    return changed
