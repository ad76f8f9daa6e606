"""Roles and brand visibility. Every page, export, endpoint and admin screen asks these, nothing else.

Groups: *comms* manage incidents, *manager* read everything of their brands, *analyst* read and export.
Staff admins use the admin for their teams' brands; superusers see every brand.
"""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from .models import Brand

COMMS = "comms"
MANAGER = "manager"
ANALYST = "analyst"
ROLES = (COMMS, MANAGER, ANALYST)

User = AbstractBaseUser | AnonymousUser


def _groups(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_hotline_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._hotline_groups = cached
    return cached


def brands_visible_to(user) -> QuerySet[Brand]:
    """The brands this user may see: their teams' brands, or all of them for a superuser."""
    if not user.is_authenticated or not user.is_active:
        return Brand.objects.none()
    if user.is_superuser:
        return Brand.objects.all()
    return Brand.objects.filter(teams__members=user).distinct()


def can_manage_incidents(user) -> bool:
    return user.is_authenticated and (user.is_superuser or COMMS in _groups(user))


def can_manage_brand_settings(user) -> bool:
    """Targets, business hours and alert channels of the user's own brands and teams: the comms team's leads
    (comms role) and administrators."""
    return can_manage_incidents(user)


def can_export(user) -> bool:
    """Analysts and administrators (superusers) export, on the pages and with ``manage.py export --user``. Being
    staff only opens the admin: a staff comms person or manager does not export."""
    return user.is_authenticated and (user.is_superuser or ANALYST in _groups(user))


def role_of(user) -> str:
    if user.is_superuser:
        return "admin"
    groups = _groups(user)
    for role in ROLES:
        if role in groups:
            return role
    return "staff" if user.is_staff else "none"
