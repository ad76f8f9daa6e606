"""Personal API tokens: created and revoked by their user (the API tokens page, ``manage.py api_token``), found
again from the ``Authorization`` header of an API call. Every creation and revocation is in the audit log.

A token reads ``hl_`` followed by 43 URL-safe characters (32 random bytes). Only its SHA-256 digest is stored
(see ``incidents.models.ApiToken``), so the token is shown once, when it is made, and never again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiToken, AuditEntry

TOKEN_PREFIX = "hl_"
PREFIX_SHOWN = 11  # "hl_" and 8 characters: enough to tell tokens apart, far too few to guess the rest
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most this often per token, so a busy script does not turn every read into a write.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, author=None) -> tuple[ApiToken, str]:
    """Make a new personal token for ``user``; returns the stored row and the token itself (shown once).

    ValidationError names the field: an empty or too long name, or too many active tokens.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name that says what it is for (e.g. Grafana).")})
    if len(name) > 80:
        raise ValidationError({"name": _("A token's name is at most 80 characters.")})
    # Counted under a lock on the user's row, so two creations at once cannot both pass the limit.
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError({"name": _("You already have %(n)d active tokens: revoke one you no longer use.")
                               % {"n": MAX_ACTIVE_TOKENS}})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:PREFIX_SHOWN], digest=token_digest(raw))
    AuditEntry.objects.create(user=author or user, action="api_token.create", target=f"user:{user.pk}",
                              details={"token": token.pk, "prefix": token.prefix, "name": name})
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, author=None) -> bool:
    """Revoke one token from now on; False when it was already revoked. Calls made with it answer 401."""
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if changed:
        AuditEntry.objects.create(user=author or token.user, action="api_token.revoke",
                                  target=f"user:{token.user_id}",
                                  details={"token": token.pk, "prefix": token.prefix, "name": token.name})
    return bool(changed)


def api_tokens_revoke(*, user, name: str = "", prefix: str = "", author=None) -> int:
    """Revoke ``user``'s active tokens (those with this name or prefix, or all of them); how many were revoked."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    if name:
        tokens = tokens.filter(name=name)
    if prefix:
        tokens = tokens.filter(prefix__startswith=prefix)
    return sum(api_token_revoke(token=token, author=author) for token in tokens)


def api_token_find(raw: str) -> ApiToken | None:
    """The active token with this value (and its user), or None: unknown, revoked, or its user is inactive."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
