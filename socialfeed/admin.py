"""Admin for sources, posts and mentions, scoped to the staff member's own brands."""
from __future__ import annotations

from django.contrib import admin

from incidents.admin import BrandScopedAdmin

from .models import Mention, Post, RejectedPost, Source, SourceGap


class SourceGapInline(admin.TabularInline):
    """Stretches the source has not read completely: being read back, or lost (the platform no longer has them)."""

    model = SourceGap
    extra = 0
    can_delete = False
    fields = ("starts_at", "ends_at", "recoverable", "reason", "opened_at", "closed_at")
    readonly_fields = fields
    ordering = ("-opened_at",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Source)
class SourceAdmin(BrandScopedAdmin):
    list_display = ("name", "platform", "kind", "brand", "enabled", "last_polled_at", "complete_up_to", "short_error",
                    "rate_limited_until", "posts_rejected")
    list_filter = ("platform", "kind", "enabled", "error_is_permanent", "brand")
    search_fields = ("name", "query", "last_error")
    readonly_fields = (
        "cursor", "backfill_cursor", "backfill_head", "complete_up_to", "last_polled_at", "last_success_at",
        "last_error", "last_error_at", "error_is_permanent", "rate_limited_until", "consecutive_failures",
        "posts_stored", "posts_rejected",
    )
    inlines = [SourceGapInline]

    @admin.display(description="last error")
    def short_error(self, obj: Source) -> str:
        return obj.last_error[:80]


@admin.register(Post)
class PostAdmin(BrandScopedAdmin):
    brand_path = "mentions__brand"
    list_display = ("platform", "author_handle", "created_at", "short_text", "official_kind", "sentiment_label", "category")
    list_filter = ("platform", "official_kind", "sentiment_label", "category", "is_repost")
    search_fields = ("text", "author_handle", "platform_id")
    date_hierarchy = "created_at"
    raw_id_fields = ("source", "official_account", "official_brand")
    readonly_fields = ("raw", "first_seen_at")

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        from incidents.roles import brands_visible_to

        brands = brands_visible_to(request.user)
        return (qs.filter(mentions__brand__in=brands) | qs.filter(official_brand__in=brands)).distinct()

    @admin.display(description="text")
    def short_text(self, obj: Post) -> str:
        return obj.text[:100]


@admin.register(Mention)
class MentionAdmin(BrandScopedAdmin):
    list_display = ("brand", "created_at", "matched_by", "answered", "frt_seconds", "complaint", "sentiment_label")
    list_filter = ("brand", "answered", "complaint", "matched_by", "sentiment_label")
    search_fields = ("post__text", "post__author_handle")
    date_hierarchy = "created_at"
    raw_id_fields = ("post", "first_response")


@admin.register(RejectedPost)
class RejectedPostAdmin(BrandScopedAdmin):
    """Posts set aside instead of stored, with their reason and the platform's payload, per source or import."""

    brand_path = "source__brand"
    list_display = ("rejected_at", "source", "origin", "line", "platform", "platform_id", "short_reason")
    list_filter = ("platform", ("source", admin.RelatedOnlyFieldListFilter))
    search_fields = ("reason", "platform_id", "origin")
    date_hierarchy = "rejected_at"
    readonly_fields = ("source", "origin", "line", "platform", "platform_id", "reason", "raw", "rejected_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="reason")
    def short_reason(self, obj: RejectedPost) -> str:
        return obj.reason[:120]
