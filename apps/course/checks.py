"""Start-up warnings about where paid videos live (manage.py check, runserver, migrate)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

LOCAL_PAID_MEDIA = "media.W001"
PUBLIC_BUCKET = "media.W002"


def paid_media_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """With DEBUG off, paid videos should be on Qiniu's private bucket: say when they are not."""
    if settings.DEBUG:
        return []
    if settings.QINIU is None:
        return [
            checks.Warning(
                "Section videos are stored on this server's disk (no QINIU_* settings) with "
                "DEBUG off. They are only handed out as signed links checked by the app, and "
                "the web server must never serve them at their plain /media/ path.",
                hint="Use Qiniu's private bucket (QINIU_ACCESS_KEY, QINIU_SECRET_KEY, "
                "QINIU_BUCKET, QINIU_DOMAIN). If the videos must stay local: the nginx site of "
                "deploy/nginx/luffy.conf (internal /media/videos/, MEDIA_ACCEL_REDIRECT); see "
                "docs/media.md.",
                id=LOCAL_PAID_MEDIA,
            )
        ]
    if not settings.QINIU.private:
        return [
            checks.Warning(
                "QINIU_PRIVATE_BUCKET is off: a paid video's plain URL plays for anyone who "
                "has it, for ever, refunded or not.",
                hint="Make the bucket private in Qiniu's console and unset QINIU_PRIVATE_BUCKET.",
                id=PUBLIC_BUCKET,
            )
        ]
    return []


def register() -> None:
    checks.register(paid_media_check)
