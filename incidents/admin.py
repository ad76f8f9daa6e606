"""Admin for brands, accounts, terms, teams and incidents, scoped to the staff member's own brands."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

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


class BrandScopedAdmin(admin.ModelAdmin):
    """Shows only rows of brands the staff member's teams own; other rows answer 404 like missing ones."""

    brand_path = "brand"

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
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
class TeamAdmin(admin.ModelAdmin):
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
    readonly_fields = ("at",)


@admin.register(Incident)
class IncidentAdmin(BrandScopedAdmin):
    list_display = ("title", "brand", "status", "severity", "started_at", "ended_at")
    list_filter = ("status", "severity", "brand", "started_at")
    search_fields = ("title", "affected_services", "affected_regions", "brand__name")
    date_hierarchy = "started_at"
    inlines = [IncidentEventInline]

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        from .views import warn_of_overlaps

        warn_of_overlaps(request, obj)  # accepted, never silently (METRICS.md §5 windows)


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
