"""Admin for sources, posts and mentions, scoped to the staff member's own brands."""
from __future__ import annotations

from django.contrib import admin

from incidents.admin import BrandScopedAdmin

from .models import Mention, Post, Source


@admin.register(Source)
class SourceAdmin(BrandScopedAdmin):
    list_display = ("name", "platform", "kind", "brand", "enabled", "last_polled_at", "short_error", "rate_limited_until")
    list_filter = ("platform", "kind", "enabled", "error_is_permanent", "brand")
    search_fields = ("name", "query", "last_error")
    readonly_fields = (
        "cursor", "last_polled_at", "last_success_at", "last_error", "last_error_at", "error_is_permanent",
        "rate_limited_until", "consecutive_failures", "posts_stored",
    )

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
