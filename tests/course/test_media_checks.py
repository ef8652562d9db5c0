"""apps/course/checks.py: with DEBUG off, paid videos anyone could fetch give a warning with an id.

The suite itself keeps media on local disk with DEBUG off and silences media.W001
(luffy_api/settings_test.py); these tests lift the silence. tests/test_settings.py shows the
warning at a real `manage.py check`.
"""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

from libs.qiniu.config import QiniuSettings

PRIVATE = QiniuSettings("ak", "sk", "luffy", "https://video.example.com", True, 3600)
PUBLIC = QiniuSettings("ak", "sk", "luffy", "https://video.example.com", False, 3600)


def media_warnings() -> list[str]:
    return [m.id for m in run_checks() if m.id.startswith("media.")]


@pytest.fixture(autouse=True)
def _unsilenced(settings):
    settings.SILENCED_SYSTEM_CHECKS = []


@pytest.mark.parametrize(
    ("debug", "qiniu", "expected"),
    [
        (False, None, ["media.W001"]),  # production, videos on this server's disk
        (False, PUBLIC, ["media.W002"]),  # production, a public bucket
        (False, PRIVATE, []),
        (True, None, []),  # development: local media is the point
        (True, PUBLIC, []),
    ],
)
def test_where_paid_videos_live_is_checked_at_start_up(settings, debug, qiniu, expected):
    settings.DEBUG = debug
    settings.QINIU = qiniu
    assert media_warnings() == expected


def test_the_local_media_warning_says_what_to_do(settings):
    settings.QINIU = None
    [warning] = [m for m in run_checks() if m.id == "media.W001"]
    assert "signed links" in warning.msg
    assert "QINIU_" in warning.hint and "MEDIA_ACCEL_REDIRECT" in warning.hint
