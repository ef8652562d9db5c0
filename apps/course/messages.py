"""Messages of the course search that carry a number, in their own module so the view keeps
one-line raises (ngettext: English needs the plural, Chinese does not)."""

from __future__ import annotations

from django.utils.translation import ngettext


def search_too_long(limit: int) -> str:
    return ngettext("搜索内容不能超过%(limit)d个字符", "搜索内容不能超过%(limit)d个字符", limit) % {
        "limit": limit
    }


def too_many_search_words(limit: int) -> str:
    return ngettext("搜索词不能超过%(limit)d个", "搜索词不能超过%(limit)d个", limit) % {
        "limit": limit
    }
