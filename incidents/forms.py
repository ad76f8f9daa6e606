"""Forms of the incidents pages. Windows are typed in the brand's time zone and stored in UTC (METRICS.md §5)."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import date_inputs
from .models import (
    AlertChannel,
    Brand,
    Incident,
    IncidentEvent,
    OffPlatformCommunication,
    Team,
    Weekday,
    validate_breach_count,
    validate_spike_threshold,
    validate_target_minutes,
)

_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class BrandChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Brand) -> str:
        return f"{obj.name} ({obj.time_zone})"


class WallClockField(forms.DateTimeField):
    """A date and time as read on the brand's clocks: kept naive here, given its zone by the form's clean()."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL_FORMAT)

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        # Checked before any zone is applied or removed: 0001-01-01T00:00 in Paris, or 0001-01-01T00:00+01:00
        # in UTC, is no instant Python can hold.
        try:
            date_inputs.check_wall_clock(moment, field=str(self.label))
            if timezone.is_aware(moment):
                # Django made it aware in the active zone (UTC); undo that so the brand's zone applies instead.
                moment = timezone.make_naive(moment, timezone.get_current_timezone())
                date_inputs.check_wall_clock(moment, field=str(self.label))
        except (date_inputs.DateInputError, OverflowError):
            raise forms.ValidationError(
                _("%(field)s %(value)s is outside the dates Hotline supports (%(range)s).") % {
                    "field": self.label, "value": date_inputs.quoted(str(value)), "range": date_inputs.supported_range()},
                code="unsupported_date") from None
        return moment


class IncidentForm(forms.ModelForm):
    brand = BrandChoiceField(
        queryset=Brand.objects.none(), label=_("Brand"),
        error_messages={"invalid_choice": _("Unknown brand: choose one of your team's brands."),
                        "required": _("Choose the brand that is down.")},
    )
    started_at = WallClockField(label=_("Started at"), help_text=_("In the brand's time zone."))
    ended_at = WallClockField(label=_("Ended at"), required=False,
                              help_text=_("In the brand's time zone. Leave empty while the outage goes on."))

    class Meta:
        model = Incident
        fields = ["brand", "title", "started_at", "ended_at", "severity", "status", "affected_services",
                  "affected_regions"]

    def __init__(self, *args, brands, now: dt.datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        self.fields["brand"].queryset = brands
        instance = self.instance
        if instance.pk and not self.is_bound:
            zone = instance.brand.zone
            self.initial["started_at"] = instance.started_at.astimezone(zone).replace(tzinfo=None)
            if instance.ended_at:
                self.initial["ended_at"] = instance.ended_at.astimezone(zone).replace(tzinfo=None)

    def clean(self):
        data = super().clean()
        brand = data.get("brand")
        if brand is None:
            # No brand, no zone to read the times in: drop them (the brand's error says what to fix) rather than
            # hand naive times to the model's checks, which compare them with the stored aware ones.
            data.pop("started_at", None)
            data.pop("ended_at", None)
            return data
        zone = brand.zone
        for name in ("started_at", "ended_at"):
            if data.get(name) is not None:
                data[name] = data[name].replace(tzinfo=zone).astimezone(dt.UTC)
        start, end = data.get("started_at"), data.get("ended_at")
        if start and start > self.now:
            self.add_error("started_at", _("The outage cannot start in the future."))
        if end and end > self.now:
            self.add_error("ended_at", _("The end cannot be in the future: leave it empty while the outage goes on."))
        if start and end and end <= start:
            self.add_error("ended_at", _("The end must come after the start."))
        return data


def _in_zone(moment: dt.datetime | None, zone) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=zone).astimezone(dt.UTC)


class IncidentEventForm(forms.Form):
    """A comms person's note on the incident's timeline, optionally moving its status, at the time it really
    happened (in the brand's time zone; empty means now)."""

    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000)
    status = forms.ChoiceField(label=_("Move status to"), required=False,
                               choices=[("", _("(keep the current status)"))] + list(Incident.Status.choices))
    at = WallClockField(label=_("When"), required=False,
                        help_text=_("In the brand's time zone. Empty: now. Resolving ends the outage window then."))

    def __init__(self, *args, zone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone or dt.UTC

    def clean(self):
        data = super().clean()
        if not data.get("text") and not data.get("status"):
            raise forms.ValidationError(_("Write a note or choose a new status."))
        data["at"] = _in_zone(data.get("at"), self.zone)
        if data["at"] is not None and data["at"] > timezone.now() + dt.timedelta(minutes=1):
            self.add_error("at", _("This time is in the future: enter when it really happened."))
        return data


def event_kind(data: dict) -> str:
    return IncidentEvent.Kind.STATUS if data.get("status") else IncidentEvent.Kind.NOTE


class CommunicationForm(forms.Form):
    """An off-platform communication (METRICS.md §1) recorded from the board: channel, when it was really sent (in
    the brand's time zone), its text or a summary, a link, and its category (empty: Hotline reads the text)."""

    prefix = "communication"  # it sits beside the note form on the board: its fields need their own ids

    channel = forms.ChoiceField(label=_("Channel"), choices=OffPlatformCommunication.Channel.choices)
    sent_at = WallClockField(label=_("Sent at"), help_text=_("In the brand's time zone."))
    text = forms.CharField(label=_("Text or summary"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)
    url = forms.URLField(label=_("Link"), required=False, max_length=500, assume_scheme="https",
                         help_text=_("Optional: where the video, post or release can be read."))
    category = forms.ChoiceField(
        label=_("Category"), required=False,
        choices=[("", _("(read it from the text)"))] + list(OffPlatformCommunication.Category.choices))

    def __init__(self, *args, zone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone or dt.UTC

    def clean_url(self):
        url = self.cleaned_data.get("url", "")
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("A link must start with http:// or https://."))
        return url

    def clean(self):
        data = super().clean()
        data["sent_at"] = _in_zone(data.get("sent_at"), self.zone)
        if data["sent_at"] is not None and data["sent_at"] > timezone.now() + dt.timedelta(minutes=1):
            self.add_error("sent_at", _("This time is in the future: enter when it was really sent."))
        return data


# --- Brand settings: METRICS.md §8 targets and §4 business hours -------------------------------------------

class BrandSettingsForm(forms.Form):
    """Targets in minutes, the week's opening hours as text ("09:00–12:00, 14:00–18:00"), holidays one per line.

    Every error names its field; the view stores nothing unless the whole form is valid.
    """

    first_response_target_min = forms.IntegerField(
        label=_("First-response target (minutes)"), validators=[validate_target_minutes],
        help_text=_("“Answered within target” counts mentions answered within this; later, or still waiting, is a "
                    "breach."))
    update_cadence_min = forms.IntegerField(
        label=_("Update cadence (minutes)"), validators=[validate_target_minutes],
        help_text=_("The longest an ongoing incident should go without an outage update."))
    acknowledgement_target_min = forms.IntegerField(
        label=_("Acknowledgement target (minutes)"), validators=[validate_target_minutes],
        help_text=_("How soon after an incident starts the brand should acknowledge it."))
    spike_threshold = forms.FloatField(
        label=_("Spike threshold (× a normal hour)"), validators=[validate_spike_threshold],
        help_text=_("Complaints in an hour at or above this multiple of a normal hour are a spike."))
    unanswered_breach_count = forms.IntegerField(
        label=_("Unanswered breaches allowed"), validators=[validate_breach_count],
        help_text=_("Alert when more customers than this wait past the first-response target during an "
                    "incident."))
    holidays = forms.CharField(
        label=_("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20000,
        help_text=_("One per line: a date and a name, e.g. 2026-12-25 Christmas. Closed all day."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day in Weekday:
            self.fields[f"hours_{day.value}"] = forms.CharField(
                label=day.label, required=False, max_length=500,
                widget=forms.TextInput(attrs={"placeholder": "09:00–18:00", "size": 28}))

    @property
    def target_fields(self):
        return [self[name] for name in ("first_response_target_min", "update_cadence_min",
                                        "acknowledgement_target_min", "spike_threshold", "unanswered_breach_count")]

    @property
    def hours_fields(self):
        return [self[f"hours_{day.value}"] for day in Weekday]

    def clean(self):
        from .business_hours import parse_day, parse_holidays

        data = super().clean()
        ranges = {}
        for day in Weekday:
            name = f"hours_{day.value}"
            try:
                ranges[day.value] = parse_day(data.get(name, ""), day_label=str(day.label))
            except forms.ValidationError as error:
                self.add_error(name, error)
        data["ranges"] = {day: r for day, r in ranges.items() if r}
        try:
            data["holiday_days"] = parse_holidays(data.get("holidays", ""), label=str(self.fields["holidays"].label))
        except forms.ValidationError as error:
            self.add_error("holidays", error)
        return data

    def messages(self) -> list[str]:
        """Every error, each starting with its field's label."""
        out = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            for error in errors:
                text = str(error)
                out.append(text if not label or text.startswith(str(label)) else f"{label}: {text}")
        return out


class AlertChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AlertChannel.Kind.choices)
    target = forms.CharField(label=_("E-mail address or URL"), max_length=500,
                             help_text=_("An e-mail address, a Slack incoming-webhook URL or your webhook’s URL."))
    secret = forms.CharField(label=_("Signing secret (webhooks)"), required=False, max_length=200,
                             help_text=_("Leave empty and Hotline makes one, shown once."))
    language = forms.ChoiceField(label=_("Language of the alerts"), choices=settings.LANGUAGES)

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean(self):
        from .alert_channels import channel_target_check

        data = super().clean()
        kind, target = data.get("kind"), (data.get("target") or "").strip()
        if kind and target:
            try:
                channel_target_check(kind=kind, target=target, secret=data.get("secret", ""))
            except forms.ValidationError as error:
                for field, errors in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            if AlertChannel.objects.filter(team=self.team, kind=kind, target=target).exists():
                self.add_error("target", _("This team already has this channel."))
        data["target"] = target
        return data
