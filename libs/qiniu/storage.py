"""Django storage on Qiniu: FileField/ImageField files live in the configured bucket.

Selected in settings when QINIU_* is configured (STORAGES["default"]); the local filesystem
otherwise. Names are object keys; url() signs links for private buckets.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
from collections.abc import Iterator
from contextvars import ContextVar
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from .client import QiniuClient, QiniuError, client_for

# Objects saved inside `undo_uploads_on_error()` blocks, innermost block last.
_saved_objects: ContextVar[list[tuple[QiniuStorage, str]] | None] = ContextVar(
    "qiniu_saved_objects", default=None
)


@contextlib.contextmanager
def undo_uploads_on_error() -> Iterator[None]:
    """Delete again the objects QiniuStorage saved inside the block if the block raises.

    Django never removes a saved file when the transaction that was to reference it rolls back;
    a form saving several files would leave the ones stored before a failure in the bucket.
    """
    saved: list[tuple[QiniuStorage, str]] = []
    token = _saved_objects.set(saved)
    try:
        yield
    except BaseException:
        for storage, key in reversed(saved):
            with contextlib.suppress(QiniuError):
                storage.delete(key)
        raise
    finally:
        _saved_objects.reset(token)


@deconstructible
class QiniuStorage(Storage):
    @property
    def client(self) -> QiniuClient:
        conf = settings.QINIU
        if conf is None:
            raise RuntimeError("QiniuStorage is selected but settings.QINIU is not configured")
        return client_for(conf)

    def _save(self, name: str, content: File) -> str:
        key = name.replace(os.sep, "/")
        mime_type = (
            getattr(content, "content_type", None)
            or mimetypes.guess_type(key)[0]
            or "application/octet-stream"
        )
        path = getattr(content, "temporary_file_path", None)
        if callable(path):  # big uploads already sit in a temporary file
            self.client.upload_file(path(), key, mime_type=mime_type)
        else:
            content.seek(0)
            stream: IO[bytes] = content.file if hasattr(content, "file") else content
            self.client.upload_stream(stream, key, content.size, mime_type=mime_type)
        saved = _saved_objects.get()
        if saved is not None:
            saved.append((self, key))
        return key

    def _open(self, name: str, mode: str = "rb") -> File:
        from urllib.request import urlopen

        if "w" in mode:
            raise ValueError("Qiniu objects are written with save(), not opened for writing")
        with urlopen(self.client.url(name, ttl=60), timeout=30) as response:  # noqa: S310
            return ContentFile(response.read(), name=name)

    def exists(self, name: str) -> bool:
        return self.client.stat(name) is not None

    def delete(self, name: str) -> None:
        if name:
            self.client.delete(name)

    def size(self, name: str) -> int:
        info = self.client.stat(name)
        if info is None:
            raise FileNotFoundError(name)
        return info.size

    def url(self, name: str) -> str:
        return self.client.url(name)
