"""Admin for brands, accounts, terms, teams and incidents, scoped to the staff member's own brands."""
from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    AuditEntry,
    Brand,
    DigestSubscription,
    Incident,
    IncidentEvent,
    OfficialAccount,
    OffPlatformCommunication,
    Team,
    TrackingTerm,
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


@admin.register(Brand)
class BrandAdmin(BrandScopedAdmin):
    brand_path = "pk"
    list_display = ("name", "slug", "time_zone")
    search_fields = ("name", "slug", "official_accounts__handle")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OfficialAccountInline, TrackingTermInline]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if request.user.is_superuser else qs.filter(pk__in=brands_visible_to(request.user))


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
