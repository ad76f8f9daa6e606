"""Admin for brands, accounts, terms, teams and incidents, scoped to the staff member's own brands.

Three rules hold on every screen: a staff member sees and picks only their teams' brands and their teams' people;
authorship (who declared an incident, who wrote a timeline note) is the signed-in user, never a form field; and
every addition, change and deletion made through the admin leaves an AuditEntry, as the pages' own changes do.
"""
from __future__ import annotations

import json
from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from . import date_inputs
from .models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AuditEntry,
    Brand,
    BrandTargets,
    DigestSubscription,
    Holiday,
    Incident,
    IncidentEvent,
    OfficialAccount,
    OffPlatformCommunication,
    OpeningHours,
    Team,
    TrackingTerm,
    Weekday,
)
from .roles import brands_visible_to


def _json_safe(value):
    return json.loads(json.dumps(value, default=lambda v: v.pk if hasattr(v, "pk") else str(v)))


class AuditedAdmin(admin.ModelAdmin):
    """Every admin addition, change and deletion is written to the audit log: who, which row, which fields.

    ``audit_values``: also record each changed field's old and new value (not for users: password hashes).
    """

    audit_values = True

    def save_model(self, request, obj, form, change):
        if self.audit_values and change:
            request._hotline_admin_changes = {
                name: {"from": form.initial.get(name), "to": form.cleaned_data.get(name)}
                for name in form.changed_data
            }
        super().save_model(request, obj, form, change)

    def _audit(self, request, action: str, obj, **details) -> None:
        AuditEntry.objects.create(
            user=request.user, action=f"admin.{action}", target=f"{obj._meta.label_lower}:{obj.pk}",
            details=_json_safe({"object": str(obj)[:200], **details}))

    def log_addition(self, request, obj, message):
        self._audit(request, "add", obj, message=message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        changes = getattr(request, "_hotline_admin_changes", None)
        request._hotline_admin_changes = None
        self._audit(request, "change", obj, message=message, **({"changes": changes} if changes else {}))
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "delete", obj)
        return super().log_deletions(request, queryset)


def _people_of(user):
    """The users a staff member may pick in a form: the members of their own teams (everyone, for a superuser)."""
    users = get_user_model().objects.all()
    if user.is_superuser:
        return users
    return users.filter(teams__in=Team.objects.filter(members=user)).distinct()


class BrandScopedAdmin(AuditedAdmin):
    """Shows only rows of brands the staff member's teams own; other rows answer 404 like missing ones."""

    brand_path = "brand"

    def changelist_view(self, request, extra_context=None):
        # The date hierarchy computes the day (month, year) after the one in the address: outside the supported
        # dates that overflows. Say so and show the list without it, instead of a server error.
        refused = _unsupported_hierarchy_date(request.GET, self.date_hierarchy) if self.date_hierarchy else None
        if refused:
            messages.error(request, refused)
            query = request.GET.copy()
            for part in ("year", "month", "day"):
                query.pop(f"{self.date_hierarchy}__{part}", None)
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}" if query else request.path)
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.brand_path}__in": brands_visible_to(request.user)})

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # A raw-id widget labels whatever id it is given (?source=<id> on an add page, or a posted id) through the
        # model's unscoped manager, which would show another team's row: staff see those links, never edit them.
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, *(f for f in self.raw_id_fields if f not in fields))

    def get_list_filter(self, request: HttpRequest):
        # The plain related filter lists every brand in the database, another team's included: offer only the
        # brands of the rows this staff member may see.
        return [("brand", admin.RelatedOnlyFieldListFilter) if f == "brand" else f
                for f in super().get_list_filter(request)]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "brand" and not request.user.is_superuser:
            kwargs["queryset"] = brands_visible_to(request.user)
        if db_field.related_model is get_user_model():
            kwargs["queryset"] = _people_of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _unsupported_hierarchy_date(params, field: str) -> str | None:
    """Why the date hierarchy's year/month/day in the address cannot be shown, or None when it can."""
    parts = [params.get(f"{field}__{part}") for part in ("year", "month", "day")]
    if parts[0] is None:
        return None
    given = "-".join(p for p in parts if p is not None)
    try:
        if not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts if p is not None):
            raise ValueError
        day = date(int(parts[0]), int(parts[1] or 1), int(parts[2] or 1))
    except ValueError:
        return _("%(value)s is not a date.") % {"value": date_inputs.quoted(given)}
    if not date_inputs.day_is_supported(day):
        return _("%(value)s is outside the dates Hotline supports (%(range)s).") % {
            "value": given, "range": date_inputs.supported_range()}
    return None


class OfficialAccountInline(admin.TabularInline):
    model = OfficialAccount
    extra = 0


class TrackingTermInline(admin.TabularInline):
    model = TrackingTerm
    extra = 0


class BrandTargetsInline(admin.StackedInline):
    """METRICS.md §8 targets; saved through incidents.targets so the rollups are re-counted (see save_related)."""

    model = BrandTargets
    can_delete = False
    extra = 1
    max_num = 1


class _ClockField(forms.CharField):
    """A time of day as "HH:MM" (24:00 allowed as a closing time), stored as minutes after midnight."""

    def prepare_value(self, value):
        if isinstance(value, int):
            return f"{value // 60:02d}:{value % 60:02d}"
        return value

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        try:
            hours, minutes = (int(part) for part in value.replace("h", ":").split(":"))
        except ValueError:
            raise ValidationError(_("“%(value)s” is not a time such as 09:30."), params={"value": value}) from None
        if not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
            raise ValidationError(_("“%(value)s” is not a time such as 09:30."), params={"value": value})
        return hours * 60 + minutes


class OpeningHoursForm(forms.ModelForm):
    opens_min = _ClockField(label=_("Opens"), help_text=_("HH:MM in the brand’s time zone"))
    closes_min = _ClockField(label=_("Closes"), help_text=_("HH:MM; 24:00 is midnight"))

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens_min", "closes_min"]

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_min"), data.get("closes_min")
        if opens is not None and closes is not None and closes <= opens:
            self.add_error("closes_min", _("The range ends before it starts (a range past midnight is two ranges)."))
        return data


class OpeningHoursFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        from .business_hours import ranges_check

        by_day: dict[int, list[tuple[int, int]]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or data.get("opens_min") is None or data.get("closes_min") is None:
                continue
            by_day.setdefault(data["weekday"], []).append((data["opens_min"], data["closes_min"]))
        for weekday, ranges in by_day.items():
            ranges_check(ranges, day_label=str(Weekday(weekday).label))


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    form = OpeningHoursForm
    formset = OpeningHoursFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Brand)
class BrandAdmin(BrandScopedAdmin):
    brand_path = "pk"
    list_display = ("name", "slug", "time_zone")
    search_fields = ("name", "slug", "official_accounts__handle")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OfficialAccountInline, TrackingTermInline, BrandTargetsInline, OpeningHoursInline, HolidayInline]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if request.user.is_superuser else qs.filter(pk__in=brands_visible_to(request.user))

    def save_related(self, request, form, formsets, change):
        from socialfeed.rollups import rollups_retarget

        from .targets import first_response_target_s

        brand = form.instance
        before = first_response_target_s(brand)
        super().save_related(request, form, formsets, change)
        after = first_response_target_s(brand)
        if after != before:  # "answered within T" rollups count against the target the board names
            rollups_retarget(brand_id=brand.pk, within_s=after)


@admin.register(OfficialAccount)
class OfficialAccountAdmin(BrandScopedAdmin):
    list_display = ("handle", "platform", "brand", "platform_user_id")
    list_filter = ("platform", "brand")
    search_fields = ("handle", "platform_user_id", "brand__name")


@admin.register(TrackingTerm)
class TrackingTermAdmin(BrandScopedAdmin):
    list_display = ("term", "kind", "brand")
    list_filter = ("kind", "brand")
    search_fields = ("term",)


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name",)
    search_fields = ("name", "members__username")
    filter_horizontal = ("members", "brands")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    # Teams join users to brands: only a superuser may draw that map, whatever model permissions staff hold
    # (the add form alone would list every brand and every user).
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    # The author of a note is whoever writes it (IncidentAdmin.save_formset), never someone picked from a list.
    readonly_fields = ("at", "author")


@admin.register(Incident)
class IncidentAdmin(BrandScopedAdmin):
    list_display = ("title", "brand", "status", "severity", "started_at", "ended_at")
    list_filter = ("status", "severity", "brand", "started_at")
    search_fields = ("title", "affected_services", "affected_regions", "brand__name")
    date_hierarchy = "started_at"
    inlines = [IncidentEventInline]
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user  # whoever declares it, whatever the request carried
        super().save_model(request, obj, form, change)
        from .views import warn_of_overlaps

        warn_of_overlaps(request, obj)  # accepted, never silently (METRICS.md §5 windows)

    def save_formset(self, request, form, formset, change):
        events = formset.save(commit=False)
        for event in events:
            if isinstance(event, IncidentEvent) and event.pk is None:
                event.author = request.user
            event.save()
        for event in formset.deleted_objects:
            event.delete()
        formset.save_m2m()


@admin.register(OffPlatformCommunication)
class OffPlatformCommunicationAdmin(BrandScopedAdmin):
    """Off-platform communications (METRICS.md §1); the board's form and ``record_communication`` do the same."""

    list_display = ("sent_at", "brand", "channel", "category", "incident", "recorded_by")
    list_filter = ("channel", "category", "brand")
    search_fields = ("text", "brand__name", "incident__title")
    date_hierarchy = "sent_at"
    readonly_fields = ("recorded_by", "recorded_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "incident" and not request.user.is_superuser:
            kwargs["queryset"] = Incident.objects.filter(brand__in=brands_visible_to(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        from socialfeed.tone.categories import categorise

        if not obj.category:
            obj.category = categorise(obj.text)  # METRICS.md §6, as the rules read official posts
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    """A team's alert channels; staff see the channels of their own teams."""

    list_display = ("team", "kind", "display_target", "language", "consecutive_failures", "last_success_at")
    list_filter = ("kind",)
    readonly_fields = ("consecutive_failures", "last_error", "last_error_at", "last_success_at")

    def get_form(self, request, obj=None, **kwargs):
        # The secret is write-only here: shown once when Hotline makes it, never in the form afterwards.
        form = super().get_form(request, obj, **kwargs)
        if "secret" in form.base_fields:
            form.base_fields["secret"].widget = forms.PasswordInput(render_value=False)
            form.base_fields["secret"].help_text = _("Webhooks only. Leave empty to keep the current secret, or, "
                                                     "for a new webhook, to have Hotline make one.")
        return form

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(team__members=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team" and not request.user.is_superuser:
            kwargs["queryset"] = Team.objects.filter(members=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change and not obj.secret:  # an empty secret field keeps the current secret
            obj.secret = AlertChannel.objects.filter(pk=obj.pk).values_list("secret", flat=True).first() or ""
        # A webhook is always signed: one added here without a secret gets one, as on the team page.
        if obj.kind == AlertChannel.Kind.WEBHOOK and not obj.secret:
            import secrets

            obj.secret = secrets.token_urlsafe(32)
            messages.warning(request, _("The signing secret of this webhook is %(secret)s — copy it into your "
                                        "receiver now: it is not shown in full again.") % {"secret": obj.secret})
        super().save_model(request, obj, form, change)


class AlertDeliveryInline(admin.TabularInline):
    model = AlertDelivery
    extra = 0
    can_delete = False
    fields = ("state", "channel_label", "status", "attempts", "sent_at", "last_error", "delivery_id")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(BrandScopedAdmin):
    """The alert log, read-only: alerts are raised and cleared by Hotline, never by hand."""

    list_display = ("brand", "kind", "incident", "raised_at", "cleared_at")
    list_filter = ("kind", "brand")
    date_hierarchy = "raised_at"
    readonly_fields = ("brand", "incident", "kind", "scope", "raised_at", "cleared_at", "details")
    inlines = [AlertDeliveryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(BrandScopedAdmin):
    list_display = ("user", "brand", "time_zone")
    list_filter = ("brand",)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "action", "target")
    list_filter = ("action",)
    search_fields = ("target", "user__username")
    readonly_fields = ("at", "user", "action", "target", "details")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Users and groups are where roles are given: their admin changes are audited too (field names only, no values).
admin.site.unregister(get_user_model())
admin.site.unregister(Group)


@admin.register(get_user_model())
class HotlineUserAdmin(AuditedAdmin, UserAdmin):
    audit_values = False


@admin.register(Group)
class HotlineGroupAdmin(AuditedAdmin, GroupAdmin):
    audit_values = False
