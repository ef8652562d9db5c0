"""Where a section's media can be fetched, and who may be told.

Free-trial sections are playable by anyone; every other section only by a logged-in owner of
its course. On a private Qiniu bucket every link is signed and expires after QINIU_LINK_TTL.
On local storage we sign section links ourselves, and the view that serves them checks them at
every request (a `<video>` makes one per byte range): an owner's link names the section and the
owner and expires after MEDIA_LINK_TTL, and stops at once when the course is taken back (a
refund); a free trial's link names only the section and lasts while the section is a free trial
(so anonymous pages and documents stay the same bytes and may be cached). The files themselves
are never served at their plain /media/ path (utils/media_serve.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage

from libs.qiniu import client_for
from utils.public_urls import absolute_url

from . import ownership, selectors
from .models import CourseSection

# Different from every other use of SECRET_KEY (a media link is no token for anything else), and
# from each other: an owner's link cannot pass for a free trial's, nor the other way round.
OWNER_LINK_SALT = "luffy.course.media-link.owner"
TRIAL_LINK_SALT = "luffy.course.media-link.trial"
SIGNED_MEDIA_PATH = "signed/"  # under MEDIA_URL: /media/signed/<token>/


def _sign_if_ours(link: str) -> str:
    """A full URL on our private Qiniu domain gets signed; other URLs are returned as they are."""
    conf = settings.QINIU
    if conf and conf.private and link.startswith(f"{conf.domain}/"):
        return client_for(conf).auth.private_download_url(link, expires=conf.link_ttl)
    return link


def signs_local_links() -> bool:
    """True when section media lives in MEDIA_ROOT and we sign its links (no Qiniu)."""
    return not settings.QINIU


def stored_key(section: CourseSection) -> str | None:
    """The storage key of a section's media (its video, or a `section_link` that is a key)."""
    if section.video:
        return section.video.name
    link = section.section_link.strip()
    if link and not link.startswith(("http://", "https://")):
        return link
    return None


def local_link(section: CourseSection, viewer_id: int | None) -> str:
    """A link to a local section file: for `viewer_id`, valid for MEDIA_LINK_TTL seconds; for
    anyone (None), as long as the section is a free trial."""
    if viewer_id:
        token = signing.dumps([section.pk, viewer_id], salt=OWNER_LINK_SALT)
    else:
        token = signing.Signer(salt=TRIAL_LINK_SALT).sign_object([section.pk])
    return f"{settings.SITE_URL}{settings.MEDIA_URL}{SIGNED_MEDIA_PATH}{token}/"


def section_media_url(section: CourseSection, viewer_id: int | None = None) -> str | None:
    """The playable URL of a section's video (or its legacy link), or None if it has none.

    `viewer_id`: the logged-in owner the link is for, None for a free-trial section."""
    key = stored_key(section)
    if key is None:
        link = section.section_link.strip()
        return _sign_if_ours(link) if link else None
    if signs_local_links():
        return local_link(section, viewer_id)
    return absolute_url(default_storage.url(key))


def may_watch(section: CourseSection, owned_course_ids: set[int]) -> bool:
    return section.free_trial or section.course_id in owned_course_ids


@dataclass(frozen=True)
class LinkRequest:
    """What a signed local link names: a section, and the viewer it was handed to (0: anyone)."""

    section_id: int
    viewer_id: int


class LinkRefused(Exception):
    """A local media link that is forged, expired or no longer allowed."""


def read_local_link(token: str) -> LinkRequest:
    """The section and viewer of a signed link, or LinkRefused when forged or expired."""
    try:
        section_id, viewer_id = signing.loads(
            token, salt=OWNER_LINK_SALT, max_age=settings.MEDIA_LINK_TTL
        )
    except signing.SignatureExpired:
        raise LinkRefused from None
    except (signing.BadSignature, ValueError, TypeError):
        try:
            [section_id], viewer_id = signing.Signer(salt=TRIAL_LINK_SALT).unsign_object(token), 0
        except (signing.BadSignature, ValueError, TypeError):
            raise LinkRefused from None
    if not isinstance(section_id, int) or not isinstance(viewer_id, int):
        raise LinkRefused
    return LinkRequest(section_id, viewer_id)


def section_for_link(token: str) -> tuple[CourseSection, str]:
    """The section a signed local link may play now, and its storage key.

    LinkRefused when the link is forged or expired, the section is gone or hidden, or it is no
    free trial and the viewer the link was made for does not own the course (any more)."""
    link = read_local_link(token)
    section = selectors.visible_sections().filter(pk=link.section_id).first()
    key = stored_key(section) if section is not None else None
    if section is None or key is None:
        raise LinkRefused
    if not section.free_trial and not (
        link.viewer_id and ownership.user_owns(link.viewer_id, section.course_id)
    ):
        raise LinkRefused
    return section, key
