"""Where alerts go: e-mail, a Slack incoming webhook, or a generic webhook with a signed JSON body.

One small class per kind of channel sends one message, with a timeout, and raises ``DeliveryError`` saying
whether a retry can help (``permanent=True`` for a refused address, a 4xx other than 408/425/429, a redirect, a
URL that resolves to a private address). incidents.alerts decides when to retry.

Webhook URLs must be http or https. A loopback, private, link-local or otherwise internal address is refused
unless ``ALERT_WEBHOOK_ALLOW_PRIVATE=true``: a comms user must not be able to make Hotline's servers call
inside the network they run in. The check happens when the channel is saved (literal addresses and local
names) and again at each delivery, on every address the name resolves to; the connection then goes to the
address that was checked, so a name cannot resolve to something else between the check and the call.

The generic webhook's body is JSON (see the README) signed with the channel's secret:
``X-Hotline-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, and ``X-Hotline-Delivery`` carries the
delivery's id, the same on every retry, so a receiver can drop repeats.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import smtplib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from .models import AlertChannel, AuditEntry, Team

USER_AGENT = "Hotline-Alerts/1"
MAX_RESPONSE_BYTES = 64 * 1024
_TRANSIENT_4XX = {408, 425, 429}
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class DeliveryError(Exception):
    """A message that did not go out. ``permanent``: retrying cannot help (fix the channel instead)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """One alert state as every channel sends it."""

    subject: str
    text: str  # the human sentence and the link (e-mail)
    body: dict  # the webhook's JSON body
    delivery_id: str
    chat_text: str = ""  # Slack's mrkdwn: the sentence and a named link


# --- Checking a channel's target ----------------------------------------------------------------------------

def _private_allowed() -> bool:
    return bool(getattr(settings, "ALERT_WEBHOOK_ALLOW_PRIVATE", False))


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified or not address.is_global)


def webhook_url_check(url: str, *, field: str) -> None:
    """ValidationError naming ``field`` unless ``url`` is an http(s) URL Hotline may call (see the module doc)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({field: _("%(url)s is not a web address: it must start with https:// (or http://) "
                                        "and name a host.") % {"url": url[:200] or "“”"}})
    try:
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValidationError({field: _("%(url)s has a port that is not a number.") % {"url": url[:200]}}) from None
    if parts.username or parts.password:
        raise ValidationError({field: _("Put credentials in the path or the secret, not in the address.")})
    if _private_allowed():
        return
    host = parts.hostname.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host in _LOCAL_NAMES or host.endswith(".localhost") or (address is not None and _is_internal(address)):
        raise ValidationError({field: _("%(host)s is a loopback or private address: Hotline only calls public "
                                        "addresses unless ALERT_WEBHOOK_ALLOW_PRIVATE=true is set.")
                                      % {"host": parts.hostname}})


def channel_target_check(*, kind: str, target: str, secret: str = "") -> None:
    """ValidationError naming the field when a channel's target does not suit its kind."""
    if kind not in AlertChannel.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of channel %(kind)s: choose email, slack or webhook.")
                                       % {"kind": kind}})
    if kind == AlertChannel.Kind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise ValidationError({"target": _("%(address)s is not an e-mail address.")
                                             % {"address": target[:200] or "“”"}}) from None
        if secret:
            raise ValidationError({"secret": _("Only webhooks are signed: an e-mail channel takes no secret.")})
        return
    webhook_url_check(target, field="target")
    if kind == AlertChannel.Kind.WEBHOOK and secret and len(secret) < 16:
        raise ValidationError({"secret": _("A signing secret needs at least 16 characters.")})


@transaction.atomic
def alert_channel_add(*, team: Team, kind: str, target: str, secret: str = "", language: str = "",
                      author=None) -> AlertChannel:
    """Add a channel to a team. ValidationError naming the field, and nothing stored, when it is not valid.
    A webhook without a secret gets a random one (shown once to whoever added it)."""
    target = (target or "").strip()
    if kind == AlertChannel.Kind.WEBHOOK and not secret:
        secret = secrets.token_urlsafe(32)
    channel = AlertChannel(team=team, kind=kind, target=target, secret=secret or "",
                           language=language or settings.LANGUAGE_CODE)
    channel.full_clean()
    channel.save()
    AuditEntry.objects.create(user=author, action="alert_channel.add", target=f"team:{team.pk}",
                              details={"channel": channel.pk, "kind": kind, "target": channel.display_target})
    return channel


@transaction.atomic
def alert_channel_remove(*, channel: AlertChannel, author=None) -> None:
    AuditEntry.objects.create(user=author, action="alert_channel.remove", target=f"team:{channel.team_id}",
                              details={"channel": channel.pk, "kind": channel.kind, "target": channel.display_target})
    channel.delete()


def masked_secret(secret: str) -> str:
    return f"…{secret[-4:]}" if secret else ""


# --- Sending ----------------------------------------------------------------------------------------------

def signature(secret: str, body: bytes) -> str:
    """The X-Hotline-Signature value: "sha256=" and the hex HMAC-SHA256 of the raw body with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _timeout() -> float:
    return float(getattr(settings, "ALERT_HTTP_TIMEOUT_SECONDS", 10))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to by then."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _resolve(host: str, port: int) -> str:
    """The address to call: the first the name resolves to, after checking them all (DeliveryError if any is
    internal and that is not allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DeliveryError(_("%(host)s cannot be resolved: %(error)s") % {"host": host, "error": exc}) from exc
    addresses = [info[4][0] for info in infos]
    if not _private_allowed():
        for address in addresses:
            if _is_internal(ipaddress.ip_address(address.split("%")[0])):
                raise DeliveryError(_("%(host)s resolves to the private address %(address)s: Hotline only calls "
                                      "public addresses unless ALERT_WEBHOOK_ALLOW_PRIVATE=true is set.")
                                    % {"host": host, "address": address}, permanent=True)
    return addresses[0]


def http_post(url: str, *, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url`` with a timeout, never following a redirect; returns the status of a 2xx answer,
    raises DeliveryError (permanent or not) otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(_("%(url)s is not an http(s) address.") % {"url": url[:200]}, permanent=True)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _resolve(parts.hostname, port)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address=address, timeout=_timeout())
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        status = response.status
        answer = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, TLS, garbage
        raise DeliveryError(_("%(host)s did not answer: %(error)s")
                            % {"host": parts.hostname, "error": exc or type(exc).__name__}) from exc
    finally:
        connection.close()
    if 200 <= status < 300:
        return status
    detail = f"HTTP {status}" + (f": {answer[:200]}" if answer else "")
    if 300 <= status < 400:
        raise DeliveryError(_("%(detail)s (redirects are not followed: give the final address).")
                            % {"detail": detail}, permanent=True)
    raise DeliveryError(detail, permanent=400 <= status < 500 and status not in _TRANSIENT_4XX)


class EmailChannel:
    def send(self, channel: AlertChannel, message: Message) -> None:
        email = EmailMultiAlternatives(subject=message.subject, body=message.text,
                                       from_email=settings.DEFAULT_FROM_EMAIL, to=[channel.target],
                                       headers={"X-Hotline-Delivery": message.delivery_id},
                                       connection=get_connection(timeout=_timeout()))
        try:
            email.send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPNotSupportedError,
                smtplib.SMTPAuthenticationError) as exc:
            raise DeliveryError(_("The mail server refused it: %(error)s") % {"error": exc}, permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(_("The mail server could not be reached: %(error)s")
                                % {"error": exc or type(exc).__name__}) from exc


class SlackChannel:
    def send(self, channel: AlertChannel, message: Message) -> None:
        http_post(channel.target, body=json.dumps({"text": message.chat_text or message.text}).encode(),
                  headers={"X-Hotline-Delivery": message.delivery_id})


class WebhookChannel:
    def send(self, channel: AlertChannel, message: Message) -> None:
        body = json.dumps(message.body, ensure_ascii=False, separators=(",", ":")).encode()
        http_post(channel.target, body=body, headers={"X-Hotline-Signature": signature(channel.secret, body),
                                                     "X-Hotline-Delivery": message.delivery_id})


SENDERS = {AlertChannel.Kind.EMAIL: EmailChannel(), AlertChannel.Kind.SLACK: SlackChannel(),
           AlertChannel.Kind.WEBHOOK: WebhookChannel()}


def channel_send(channel: AlertChannel, message: Message) -> None:
    SENDERS[channel.kind].send(channel, message)
