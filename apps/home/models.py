"""Banners of the home page carousel, managed by staff in the admin."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from utils.uploads import validate_image_upload

# Browsers drop tabs and newlines inside a URL and read "\\" as "/": "java\tscript:" and
# "/\\evil.example" would slip past a prefix check.
_UNSAFE_IN_LINK = re.compile(r"[\x00-\x20\x7f\\]")
_web_url = URLValidator(schemes=["http", "https"])


def validate_banner_link(link: str) -> None:
    """A path of the storefront ("/course/3") or an http(s) URL; never `javascript:` and the like,
    which the storefront would put in an `href`."""
    if not link:
        return
    message = _("链接只能是站内路径(以 / 开头)或 http(s) 网址")
    if _UNSAFE_IN_LINK.search(link):
        raise ValidationError(message, code="invalid_link")
    if link.startswith("/") and not link.startswith("//"):
        return
    try:
        _web_url(link)
    except ValidationError:
        raise ValidationError(message, code="invalid_link") from None


class Banner(models.Model):
    title = models.CharField(_("标题"), max_length=64)
    image = models.ImageField(_("图片"), upload_to="banners", validators=[validate_image_upload])
    # A path of the storefront ("/course/3") or a full URL: not a URLField, which refuses paths.
    link = models.CharField(
        _("链接"), max_length=255, blank=True, default="", validators=[validate_banner_link]
    )
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
