"""A small client over the qiniu SDK: uploads that verify what was stored, links, stat, delete.

Imported as `libs.qiniu`; the SDK itself is the top-level `qiniu` package.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any
from urllib.parse import quote

import qiniu
from qiniu.utils import etag_stream

from .config import QiniuSettings

# Like the SDK's put_file_v2: one form upload up to 8 MiB, resumable v2 (init/parts/complete) above.
FORM_UPLOAD_LIMIT = 8 * 1024 * 1024
PART_SIZE = 4 * 1024 * 1024
ProgressHandler = Callable[[int, int], None]


class QiniuError(Exception):
    """Qiniu refused or failed an operation. Carries its HTTP status and request id."""

    def __init__(self, message: str, status: int | None = None, reqid: str | None = None) -> None:
        self.status = status
        self.reqid = reqid
        details = ", ".join(
            part for part in (f"status {status}" if status is not None else "",
                              f"reqid {reqid}" if reqid else "") if part
        )  # fmt: skip
        super().__init__(f"{message} ({details})" if details else message)


@dataclass(frozen=True)
class StoredObject:
    key: str
    hash: str  # Qiniu's etag
    size: int


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    hash: str
    size: int
    mime_type: str
    put_time: int  # 100-nanosecond units since the epoch, as Qiniu reports it


def file_etag(path: str | os.PathLike[str]) -> str:
    """Qiniu's content hash of a local file (equals the `hash` Qiniu stores)."""
    return qiniu.etag(os.fspath(path))


def stream_etag(stream: IO[bytes]) -> str:
    """Qiniu's content hash of a seekable stream, read from the start; the position is restored."""
    position = stream.tell()
    stream.seek(0)
    try:
        return etag_stream(stream)
    finally:
        stream.seek(position)


def _raise_for(info: Any, action: str) -> None:
    # A 200 without Qiniu's X-Reqid header came from something else (a proxy, a captive portal).
    if info is not None and info.ok() and info.req_id:
        return
    status = getattr(info, "status_code", None)
    reqid = getattr(info, "req_id", None)
    error = getattr(info, "error", None) or getattr(info, "exception", None) or "unknown error"
    if status == -1:
        raise QiniuError(f"Qiniu {action} failed: cannot connect ({error})", status, reqid)
    raise QiniuError(f"Qiniu {action} failed: {error}", status, reqid)


class QiniuClient:
    def __init__(self, conf: QiniuSettings) -> None:
        self.settings = conf
        self.auth = qiniu.Auth(conf.access_key, conf.secret_key)
        # Explicit hosts skip the SDK's region lookup (which needs Qiniu's network).
        self.regions = None
        if conf.up_host or conf.rs_host:
            self.regions = [
                qiniu.Region(
                    up_host=conf.up_host or None,
                    rs_host=conf.rs_host or None,
                    scheme=(conf.up_host or conf.rs_host).split("://", 1)[0],
                )
            ]
        self.buckets = qiniu.BucketManager(self.auth, regions=self.regions)

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    def upload_token(
        self,
        key: str | None = None,
        *,
        expires: int = 3600,
        max_bytes: int | None = None,
        mime_limit: str | None = None,
    ) -> str:
        """A token allowing one upload to `key` (any key if None), with optional limits."""
        policy: dict[str, Any] = {}
        if max_bytes is not None:
            policy["fsizeLimit"] = max_bytes
        if mime_limit:
            policy["mimeLimit"] = mime_limit
        return self.auth.upload_token(self.bucket, key, expires, policy or None)

    def _check_stored(self, ret: dict | None, info: Any, key: str, local_hash: str, size: int):
        _raise_for(info, "upload")
        reqid = getattr(info, "req_id", None)
        if not ret or ret.get("key") != key or ret.get("hash") != local_hash:
            # Something else than what we sent was stored: do not keep it.
            self.delete(key)
            raise QiniuError(
                f"Qiniu stored {ret!r}, expected key {key!r} with hash {local_hash}",
                getattr(info, "status_code", None),
                reqid,
            )
        return StoredObject(key=key, hash=local_hash, size=size)

    def upload_file(
        self,
        path: str | os.PathLike[str],
        key: str,
        *,
        mime_type: str = "application/octet-stream",
        progress: ProgressHandler | None = None,
    ) -> StoredObject:
        """Upload a local file: one form upload when small, resumable v2 when large."""
        path = os.fspath(path)
        token = self.upload_token(key)
        ret, info = qiniu.put_file_v2(
            token,
            key,
            path,
            mime_type=mime_type,
            progress_handler=progress,
            **self._resumable_v2(),
        )
        stored = self._check_stored(ret, info, key, file_etag(path), os.path.getsize(path))
        if progress and stored.size <= FORM_UPLOAD_LIMIT:
            progress(stored.size, stored.size)  # the SDK reports progress of resumable uploads only
        return stored

    def _resumable_v2(self) -> dict[str, Any]:
        """How large files go up: resumable upload v2 in PART_SIZE parts, to our bucket."""
        return {
            "part_size": PART_SIZE,
            "version": "v2",
            "bucket_name": self.bucket,
            "regions": self.regions,
        }

    def upload_stream(
        self,
        stream: IO[bytes],
        key: str,
        size: int,
        *,
        mime_type: str = "application/octet-stream",
        progress: ProgressHandler | None = None,
    ) -> StoredObject:
        """Upload a seekable stream of `size` bytes (read from its start)."""
        local_hash = stream_etag(stream)
        stream.seek(0)
        token = self.upload_token(key)
        if size <= FORM_UPLOAD_LIMIT:
            ret, info = qiniu.put_data(
                token,
                key,
                stream.read(),
                mime_type=mime_type,
                progress_handler=progress,
                regions=self.regions,
            )
        else:
            ret, info = qiniu.put_stream_v2(
                token,
                key,
                stream,
                os.path.basename(key),
                size,
                mime_type=mime_type,
                progress_handler=progress,
                **self._resumable_v2(),
            )
        stored = self._check_stored(ret, info, key, local_hash, size)
        if progress and size <= FORM_UPLOAD_LIMIT:
            progress(size, size)  # put_data never calls its progress handler
        return stored

    def stat(self, key: str) -> ObjectInfo | None:
        """What Qiniu stores under `key`; None when nothing is there."""
        ret, info = self.buckets.stat(self.bucket, key)
        if getattr(info, "status_code", None) == 612:  # no such file or directory
            return None
        _raise_for(info, "stat")
        return ObjectInfo(
            key=key,
            hash=ret["hash"],
            size=int(ret["fsize"]),
            mime_type=ret.get("mimeType", ""),
            put_time=int(ret.get("putTime", 0)),
        )

    def delete(self, key: str) -> bool:
        """Delete `key`; False when it was not there."""
        _, info = self.buckets.delete(self.bucket, key)
        if getattr(info, "status_code", None) == 612:
            return False
        _raise_for(info, "delete")
        return True

    def url(self, key: str, ttl: int | None = None) -> str:
        """Where `key` can be downloaded: a signed link expiring after `ttl` seconds (default
        QINIU_LINK_TTL) on a private bucket, the plain URL on a public one."""
        base = f"{self.settings.domain}/{quote(key)}"
        if not self.settings.private:
            return base
        return self.auth.private_download_url(base, expires=ttl or self.settings.link_ttl)


@lru_cache(maxsize=4)
def client_for(conf: QiniuSettings) -> QiniuClient:
    """One client per configuration (cheap to keep, used on every signed link)."""
    return QiniuClient(conf)
