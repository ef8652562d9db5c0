"""Staff manage the carousel here: order and visibility edited in the list, with a preview."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Banner


@admin.register(Banner)
class BannerAdmin(admin.ModelAdmin):
    list_display = ["id", "preview", "title", "link", "orders", "is_show", "updated_at"]
    list_display_links = ["id", "preview", "title"]
    list_editable = ["orders", "is_show"]
    list_filter = ["is_show"]
    search_fields = ["title"]
    readonly_fields = ["preview_large"]
    fields = ["title", "image", "preview_large", "link", "orders", "is_show"]

    class Media:
        css = {"all": ["home/banner_admin.css"]}

    @admin.display(description=_("预览"))
    def preview(self, banner: Banner) -> str:
        if not banner.image:
            return "-"
        return format_html('<img src="{}" alt="" class="banner-preview">', banner.image.url)

    @admin.display(description=_("当前图片"))
    def preview_large(self, banner: Banner) -> str:
        if not banner.image:
            return "-"
        return format_html('<img src="{}" alt="" class="banner-preview-large">', banner.image.url)
