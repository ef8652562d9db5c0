"""Banners of the home page carousel, managed by staff in the admin."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Banner(models.Model):
    title = models.CharField(_("标题"), max_length=64)
    image = models.ImageField(_("图片"), upload_to="banners")
    # A path of the storefront ("/course/3") or a full URL: not a URLField, which refuses paths.
    link = models.CharField(_("链接"), max_length=255, blank=True, default="")
    orders = models.IntegerField(_("排序"), default=0, help_text=_("小的在前"))
    is_show = models.BooleanField(_("是否展示"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        db_table = "luffy_banner"
        verbose_name = verbose_name_plural = _("轮播图")
        ordering = ["orders", "id"]
        indexes = [models.Index(fields=["is_show", "orders"], name="banner_shown_order")]

    def __str__(self) -> str:
        return self.title
