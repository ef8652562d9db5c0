"""Qiniu object storage over the qiniu SDK. Import as `libs.qiniu` (never put `libs/` on
sys.path: this package would shadow the SDK)."""

from .client import (
    FORM_UPLOAD_LIMIT,
    ObjectInfo,
    QiniuClient,
    QiniuError,
    StoredObject,
    client_for,
    file_etag,
    stream_etag,
)
from .config import QiniuConfigError, QiniuSettings, settings_from_env

__all__ = [
    "FORM_UPLOAD_LIMIT",
    "ObjectInfo",
    "QiniuClient",
    "QiniuConfigError",
    "QiniuError",
    "QiniuSettings",
    "StoredObject",
    "client_for",
    "file_etag",
    "settings_from_env",
    "stream_etag",
]
