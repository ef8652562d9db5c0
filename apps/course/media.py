"""Where a section's media can be fetched, and who may be told.

Free-trial sections are playable by anyone; every other section only by a logged-in owner of
its course. On a private Qiniu bucket every link is signed and expires after QINIU_LINK_TTL.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage

from libs.qiniu import client_for
from utils.public_urls import absolute_url

from .models import CourseSection


def _sign_if_ours(link: str) -> str:
    """A full URL on our private Qiniu domain gets signed; other URLs are returned as they are."""
    conf = settings.QINIU
    if conf and conf.private and link.startswith(f"{conf.domain}/"):
        return client_for(conf).auth.private_download_url(link, expires=conf.link_ttl)
    return link


def section_media_url(section: CourseSection) -> str | None:
    """The playable URL of a section's video (or its legacy link), or None if it has none."""
    if section.video:
        url = default_storage.url(section.video.name)
    elif section.section_link:
        link = section.section_link.strip()
        if link.startswith(("http://", "https://")):
            return _sign_if_ours(link)
        url = default_storage.url(link)  # a storage key, as the demo data uses
    else:
        return None
    return absolute_url(url)


def may_watch(section: CourseSection, owned_course_ids: set[int]) -> bool:
    return section.free_trial or section.course_id in owned_course_ids
