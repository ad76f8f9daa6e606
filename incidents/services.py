"""Writes for brands, users and incidents. Views, admin and commands call these."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .models import AuditEntry, Incident, IncidentEvent, Team
from .roles import ANALYST, COMMS, MANAGER, ROLES

# Model permissions each role's group carries, so staff members of a role can use the admin accordingly.
_ROLE_PERMISSIONS = {
    COMMS: ["view_brand", "view_officialaccount", "view_trackingterm", "view_incident", "add_incident",
            "change_incident", "view_incidentevent", "add_incidentevent", "view_source", "view_post", "view_mention"],
    MANAGER: ["view_brand", "view_officialaccount", "view_trackingterm", "view_incident", "view_incidentevent",
              "view_source", "view_post", "view_mention"],
    ANALYST: ["view_brand", "view_officialaccount", "view_trackingterm", "view_incident", "view_incidentevent",
              "view_source", "view_post", "view_mention"],
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


@transaction.atomic
def incident_set_status(*, incident: Incident, status: str, author=None, note: str = "") -> IncidentEvent:
    """Move an incident to a new status and record it on its timeline (and in the audit log)."""
    if status not in Incident.Status.values:
        raise ValueError(f"Unknown status {status!r}.")
    incident.status = status
    incident.save(update_fields=["status", "updated_at"])
    AuditEntry.objects.create(user=author, action="incident.status", target=f"incident:{incident.pk}",
                              details={"status": status})
    return IncidentEvent.objects.create(incident=incident, kind=IncidentEvent.Kind.STATUS, status=status,
                                        text=note, author=author)
