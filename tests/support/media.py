"""Plain helpers for the media tests: our QINIU_* configuration pointed at a `FakeQiniu`.

No pytest fixtures live here (like tests/support/qiniu.py): test modules wrap these in their own
small fixtures. Everything stays on loopback: the hosts are the fake's `http://127.0.0.1:<port>`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from qiniu.services.storage.upload_progress_recorder import UploadProgressRecorder

from libs.qiniu import QiniuSettings, settings_from_env
from tests.support.qiniu import FakeQiniu, loopback_only

AK = "luffy-media-access-key"
SK = "luffy-media-secret-key"
BUCKET = "luffy-media"
MIB = 1024 * 1024
QINIU_STORAGE = "libs.qiniu.storage.QiniuStorage"
LOCAL_STORAGE = "django.core.files.storage.FileSystemStorage"


def qiniu_env(fake: FakeQiniu, **overrides: str) -> dict[str, str]:
    """QINIU_* variables, as an operator would set them, for the bucket `fake` plays."""
    env = {
        "QINIU_ACCESS_KEY": fake.access_key,
        "QINIU_SECRET_KEY": fake.secret_key,
        "QINIU_BUCKET": fake.bucket,
        "QINIU_DOMAIN": fake.url,
        "QINIU_UP_HOST": fake.url,
        "QINIU_RS_HOST": fake.url,
    }
    env.update(overrides)
    return env


def qiniu_settings(fake: FakeQiniu, **overrides: str) -> QiniuSettings:
    conf = settings_from_env(qiniu_env(fake, **overrides))
    assert conf is not None
    return conf


def use_qiniu(settings: Any, fake: FakeQiniu, **overrides: str) -> QiniuSettings:
    """Switch Django's media to Qiniu (`settings` is pytest-django's fixture).

    STORAGES is replaced by a new dict, never mutated: only an assignment sends the
    setting_changed signal that resets `default_storage`, and pytest-django restores the
    original object afterwards (a mutated one would leak into later tests).
    """
    conf = qiniu_settings(fake, **overrides)
    settings.QINIU = conf
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": QINIU_STORAGE}}
    return conf


def keep_upload_records_in(monkeypatch: Any, folder: str | os.PathLike[str]) -> None:
    """The SDK keeps resumable-upload records in the system temp dir by default (and resumes
    from them later); keep this test's records in `folder` instead."""
    monkeypatch.setattr(UploadProgressRecorder.__init__, "__defaults__", (os.fspath(folder),))


@pytest.fixture
def fake_qiniu() -> Iterator[FakeQiniu]:
    """A local Qiniu for one test, with the network beyond loopback cut off while it runs.

    It must end without server-side errors, and without any region lookup: our client names
    its hosts, so the SDK never asks Qiniu's uc service where the bucket is."""
    with loopback_only(), FakeQiniu(AK, SK, BUCKET) as server:
        yield server
    assert server.errors == []
    assert "query" not in server.request_types()
