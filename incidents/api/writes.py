"""The API's writes go through the pages' own forms and services, so a script gets the same checks and the same
messages as a person on the board: a JSON body is turned into the form's data (a brand's slug into its choice,
a time with an offset into the brand's wall clock, as the form reads times), the form validates it, and the
service in incidents.services stores it and writes the audit entry.

The request serializers here only describe the body for the OpenAPI document and check its JSON types (a title
must be a string); every rule about the values is the form's or the service's.
"""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

from incidents import date_inputs
from incidents.forms import CommunicationForm, IncidentEventForm, IncidentForm
from incidents.models import Brand, Incident, OffPlatformCommunication

from .errors import NON_FIELD

_FORM_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


class _Text(serializers.CharField):
    """A JSON string, and only a string: 0 or true where text is expected is a mistake worth naming."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _text(help_text: str, *, required: bool = False, null: bool = False, choices=None) -> serializers.CharField:
    field = _Text(required=required, allow_blank=True, allow_null=null, trim_whitespace=False,
                                  help_text=help_text)
    if choices is not None:
        schema = {"type": "string", "enum": [value for value, _label in choices]}
        if null:
            schema["nullable"] = True
        field = extend_schema_field(schema)(field)
    return field


def _time(help_text: str, *, required: bool = False, null: bool = False) -> serializers.CharField:
    field = _text(help_text, required=required, null=null)
    return extend_schema_field({"type": "string", "format": "date-time", "nullable": null} if null else
                               {"type": "string", "format": "date-time"})(field)


class _Body(serializers.Serializer):
    """Refuses fields the route does not take: a misspelt field must not be ignored in silence."""

    def validate(self, data):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name[:64]: [_("Unknown field: this body takes %(known)s.") % {
                "known": ", ".join(self.fields)}] for name in unknown})
        return data


_TIME_HELP = ("ISO 8601. With an offset (2026-03-02T09:00:00+01:00 or …Z) it is that instant; without one it "
              "is read on the brand's clocks, as the pages read it.")


class IncidentCreateBody(_Body):
    brand = _text("The brand's slug: one of your team's brands.", required=True)
    title = _text("What is down, as the board titles it.", required=True)
    started_at = _time(f"When the outage started. {_TIME_HELP}", required=True)
    ended_at = _time(f"When it ended; null or left out while it goes on. {_TIME_HELP}", null=True)
    severity = _text("Default major.", choices=Incident.Severity.choices)
    status = _text("Default investigating.", choices=Incident.Status.choices)
    affected_services = _text("Free text, e.g. 'SMS, MMS'.")
    affected_regions = _text("Free text, e.g. 'France'.")


class IncidentUpdateBody(_Body):
    brand = _text("The brand's slug: one of your team's brands.")
    title = _text("What is down.")
    started_at = _time(f"When the outage started. {_TIME_HELP}")
    ended_at = _time(f"When it ended; null makes it ongoing. {_TIME_HELP}", null=True)
    severity = _text("", choices=Incident.Severity.choices)
    status = _text("Resolving ends the window now unless it has an end; reopening makes it ongoing.",
                   choices=Incident.Status.choices)
    affected_services = _text("Free text.")
    affected_regions = _text("Free text.")


class TimelineEntryBody(_Body):
    text = _text("The note (a note, a status or both).")
    status = _text("Move the incident to this status at `at`.", choices=[("", "")] + list(Incident.Status.choices))
    at = _time(f"When it really happened; left out: now. Never in the future. {_TIME_HELP}")


class CommunicationBody(_Body):
    channel = _text("How it went out.", required=True, choices=OffPlatformCommunication.Channel.choices)
    sent_at = _time(f"When the brand really sent it; never in the future. {_TIME_HELP}", required=True)
    text = _text("Its text or a summary.", required=True)
    url = _text("Where it can be read (http or https), if anywhere.")
    category = _text("Its METRICS.md §6 category; empty or left out: Hotline reads it from the text.",
                     choices=[("", "")] + list(OffPlatformCommunication.Category.choices))


def read_body(serializer_class: type[serializers.Serializer], request) -> dict:
    """The JSON body, its types checked. Any other body (a form, multipart) is a 415: read as an empty body it
    would be refused with "This field is required", which says nothing of the real mistake."""
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise exceptions.UnsupportedMediaType(media_type or _("(none)"),
                                              detail=_("Send the body as JSON (Content-Type: application/json)."))
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


def refusal(errors: dict) -> serializers.ValidationError:
    """A form's or a service's errors as the API's 400, each under its field."""
    return serializers.ValidationError({NON_FIELD if field == "__all__" else field: list(messages)
                                        for field, messages in errors.items()})


def service_refusal(error: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(error, "error_dict"):
        return refusal(error.message_dict)
    return refusal({"__all__": error.messages})


def _wall_clock(value: str | None, *, field: str, zone) -> str:
    """A time of the body as the form reads it: on the brand's clocks. Unreadable text goes to the form as it is,
    so the form's own message answers; a readable time outside the supported dates is refused here."""
    if value is None or value == "":
        return ""
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        moment = None
    if moment is None:
        return value
    try:
        instant = moment if moment.tzinfo else moment.replace(tzinfo=zone)
        supported = date_inputs.moment_is_supported(instant)
    except (OverflowError, ValueError):
        supported = False
    if not supported:
        raise refusal({field: [_("%(value)r is outside the dates Hotline supports (%(range)s).")
                               % {"value": value, "range": date_inputs.supported_range()}]})
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return moment.strftime(_FORM_FORMAT)


def _brand_choice(slug: str, brands) -> str:
    """The form's choice for a brand slug; an unknown or another team's slug stays unknown to the form, which
    answers with its own message (the same for both, so nothing is disclosed)."""
    found = brands.filter(slug=slug).values_list("pk", flat=True).first() if slug else None
    return str(found) if found is not None else (f"slug:{slug}" if slug else "")


def _incident_form_data(body: dict, *, brands, current: Incident | None) -> dict:
    slug = body.get("brand")
    brand = brands.filter(slug=slug).first() if slug else None
    if brand is None and current is not None and not slug:
        brand = current.brand
    zone = brand.zone if brand is not None else dt.UTC
    data = {}
    if current is not None:
        # Today's values, the times on the (possibly new) brand's clocks so that they keep their instant.
        data = {"brand": str(current.brand_id), "title": current.title, "severity": current.severity,
                "status": current.status, "affected_services": current.affected_services,
                "affected_regions": current.affected_regions,
                "started_at": current.started_at.astimezone(zone).replace(tzinfo=None).strftime(_FORM_FORMAT),
                "ended_at": (current.ended_at.astimezone(zone).replace(tzinfo=None).strftime(_FORM_FORMAT)
                             if current.ended_at else "")}
    else:
        data = {"severity": Incident.Severity.MAJOR, "status": Incident.Status.INVESTIGATING}
    for name, value in body.items():
        if name == "brand":
            data["brand"] = _brand_choice(value, brands)
        elif name in ("started_at", "ended_at"):
            data[name] = _wall_clock(value, field=name, zone=zone)
        else:
            data[name] = "" if value is None else value
    return data


def incident_form(body: dict, *, brands, instance: Incident | None = None) -> IncidentForm:
    """The incident form of the pages, bound to this body (create when ``instance`` is None, else a partial
    update of it: fields left out keep their value)."""
    data = _incident_form_data(body, brands=brands, current=instance)
    copy = Incident.objects.get(pk=instance.pk) if instance is not None else None
    form = IncidentForm(data, brands=brands, **({"instance": copy} if copy is not None else {}))
    if not form.is_valid():
        raise refusal(form.errors)
    return form


def timeline_form(body: dict, *, brand: Brand) -> IncidentEventForm:
    data = {"text": body.get("text") or "", "status": body.get("status") or "",
            "at": _wall_clock(body.get("at"), field="at", zone=brand.zone)}
    form = IncidentEventForm(data, zone=brand.zone)
    if not form.is_valid():
        raise refusal(form.errors)
    return form


def communication_form(body: dict, *, brand: Brand) -> CommunicationForm:
    data = {"channel": body.get("channel") or "", "text": body.get("text") or "", "url": body.get("url") or "",
            "category": body.get("category") or "",
            "sent_at": _wall_clock(body.get("sent_at"), field="sent_at", zone=brand.zone)}
    form = CommunicationForm(data, zone=brand.zone, prefix="")
    if not form.is_valid():
        raise refusal(form.errors)
    return form
