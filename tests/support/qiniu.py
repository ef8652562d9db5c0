"""A local Qiniu Kodo (object storage) double, driven by the real `qiniu` SDK 7.18 with real tokens.

`FakeQiniu(access_key, secret_key, bucket)` is one HTTP server on 127.0.0.1 that plays every
Qiniu host the SDK talks to, and checks every credential for real:

* up host   form upload (`POST /`) and resumable upload v2 (`/buckets/<b>/objects/<k>/uploads...`:
            init, parts, complete, abort), upload tokens `<ak>:<hmac>:<policy>` verified (HMAC,
            access key, scope bucket/key, deadline) and put-policy fields enforced (`fsizeLimit`,
            `fsizeMin`, `mimeLimit`, `detectMime`, `insertOnly`, `isPrefixalScope`, `returnBody`).
* rs host   `POST|GET /stat/<EncodedEntryURI>`, `POST /delete/<EncodedEntryURI>`, signed with
            `Authorization: Qiniu <ak>:<sign>` (what `BucketManager` sends in 7.18: QiniuMacAuth,
            method + path + Host + Content-Type + X-Qiniu-* headers + form body) or the legacy
            `QBox <ak>:<sign>` (path + query + "\\n" + form body).
* io/CDN    `GET|HEAD /<key>?e=<deadline>&token=<ak>:<sign>` private downloads, the signature
            checked over the exact URL `Auth.private_download_url()` signed; Range supported.
* uc        `GET /v4/query?ak=..&bucket=..` answers with this server as the bucket's only region
            (recorded as type "query"; with `configure_sdk()` the SDK never asks).

Every answer carries `X-Reqid` (the SDK's marker of a genuine Qiniu reply) unless a fault mode
says otherwise. Errors are Qiniu's JSON `{"error": "..."}` with Qiniu's status codes.

Pointing the SDK at the fake (nothing ever leaves loopback)
----------------------------------------------------------
Globally, for code that calls the SDK without region arguments (app code)::

    with FakeQiniu(AK, SK, BUCKET) as fake, configure_sdk(fake, record_folder=tmp_path):
        ret, info = qiniu.put_file_v2(token, key, path, version="v2")
        ret, info = qiniu.BucketManager(qiniu.Auth(AK, SK)).stat(BUCKET, key)

`configure_sdk` calls `qiniu.set_default(default_zone=qiniu.Zone(up_host=fake.url,
rs_host=fake.url, rsf_host=..., api_host=..., io_host=..., scheme="http"), default_uc_host=
fake.url, ...)` and restores every SDK global afterwards. Per call, without globals::

    region = fake.region()   # qiniu.Region(up_host=fake.url, rs_host=fake.url, ..., scheme="http")
    qiniu.put_data(token, key, data, regions=[region])
    qiniu.put_file_v2(token, key, path, version="v2", regions=[region])
    qiniu.BucketManager(auth, regions=[region])          # or BucketManager(auth, zone=region)
    auth.private_download_url(fake.url + "/" + key, expires=3600)

Why that is enough (SDK 7.18 source): the uploaders use `regions=` if given, else the customized
`default_zone`, else they ask `uc.qiniuapi.com/v4/query` (network!). `BucketManager` uses
`regions=`, else its `zone` if that has rs/rsf/io/api hosts, else the same uc query. The zone is
read once in `BucketManager.__init__` (`config.get_default('default_zone')`), so a BucketManager
built before `configure_sdk` (e.g. a module-level singleton) still queries uc. Uploaders read the
global on every call.

No pytest fixtures live here: only plain functions and classes.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import hmac
import json
import mimetypes
import os
import random
import re
import secrets
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import qiniu
import qiniu.config as qiniu_config
from qiniu.services.storage.upload_progress_recorder import UploadProgressRecorder

from .local_server import LocalHTTPServer

__all__ = [
    "BLOCK_SIZE",
    "FakeQiniu",
    "configure_sdk",
    "loopback_only",
    "qiniu_etag",
    "qiniu_etag_v2",
    "sample_mp4_bytes",
    "sample_png_bytes",
    "urlsafe_b64",
]

BLOCK_SIZE = 4 * 1024 * 1024  # Qiniu's etag block (and v1 resumable block) size
MIN_PART_SIZE = 1024 * 1024  # v2 parts: 1 MiB .. 1 GiB, except the last one
MAX_PART_SIZE = 1024 * 1024 * 1024
MAX_PART_NUMBER = 10_000
UPLOAD_TTL = 7 * 24 * 3600  # v2 uploadId lifetime (expireAt), as Qiniu answers

_MODES = frozenset({"ok", "http500", "no_reqid", "garbage", "fail_complete", "corrupt"})
_ZERO_SHA1 = hashlib.sha1(b"", usedforsecurity=False).digest()


# --- Hashes and encodings -------------------------------------------------------------------------


def urlsafe_b64(data: bytes | str) -> str:
    """URL-safe base64 *with* padding, exactly as `qiniu.urlsafe_base64_encode`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _b64decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hmac_sha1_b64(secret_key: str, data: bytes) -> str:
    return urlsafe_b64(hmac.new(secret_key.encode("utf-8"), data, hashlib.sha1).digest())


def _etag_raw(data: bytes | memoryview) -> bytes:
    view = memoryview(data)
    blocks = [
        hashlib.sha1(view[i : i + BLOCK_SIZE], usedforsecurity=False).digest()
        for i in range(0, len(view), BLOCK_SIZE)
    ]
    if not blocks:
        return b"\x16" + _ZERO_SHA1
    if len(blocks) == 1:
        return b"\x16" + blocks[0]
    return b"\x96" + hashlib.sha1(b"".join(blocks), usedforsecurity=False).digest()


def qiniu_etag(data: bytes) -> str:
    """Qiniu's content hash (qetag v1, 4 MiB blocks); equals `qiniu.etag(path)` of a file."""
    return urlsafe_b64(_etag_raw(data))


def qiniu_etag_v2(data: bytes, part_sizes: Iterable[int]) -> str:
    """The hash Qiniu gives a resumable-v2 upload assembled from parts of `part_sizes`.

    All parts 4 MiB (the last one at most 4 MiB) -> the same as `qiniu_etag`. Otherwise
    `0x9e + sha1(concat(qetag_v1(part)[1:]))`, which `qiniu.etag()` does NOT compute (its
    docstring: "deprecated: does not work for v2 uploads with a part size other than 4MB").
    """
    sizes = list(part_sizes)
    if sum(sizes) != len(data) or not sizes:
        raise ValueError("part sizes do not add up to the data length")
    if all(s == BLOCK_SIZE for s in sizes[:-1]) and sizes[-1] <= BLOCK_SIZE:
        return qiniu_etag(data)
    view = memoryview(data)
    digests, offset = [], 0
    for size in sizes:
        digests.append(_etag_raw(view[offset : offset + size])[1:])
        offset += size
    return urlsafe_b64(b"\x9e" + hashlib.sha1(b"".join(digests), usedforsecurity=False).digest())


def _corrupt(data: bytes) -> bytes:
    """`data` with its first byte flipped (mode "corrupt")."""
    return bytes([data[0] ^ 0xFF]) + data[1:] if data else b"\x00"


def _canonical_header(name: str) -> str:
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


# --- Sample content -------------------------------------------------------------------------------


def sample_mp4_bytes(size: int = 64 * 1024) -> bytes:
    """`size` bytes that content sniffing calls video/mp4 (an ISO-BMFF `ftyp` box + noise)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    if size < len(head):
        raise ValueError(f"size must be >= {len(head)}")
    return head + random.randbytes(size - len(head))


def sample_png_bytes(size: int = 1024) -> bytes:
    """`size` bytes that content sniffing calls image/png (PNG signature + noise)."""
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    if size < len(head):
        raise ValueError(f"size must be >= {len(head)}")
    return head + random.randbytes(size - len(head))


def _sniff_mime(data: bytes) -> str | None:
    """A small content sniffer (magic numbers) standing in for Qiniu's server-side detection."""
    head = bytes(data[:64])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"qt"):
            return "video/quicktime"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        if brand in (b"heic", b"heix", b"mif1"):
            return "image/heic"
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head else "video/x-matroska"
    if head.startswith(b"FLV\x01"):
        return "video/x-flv"
    if head.startswith(b"OggS"):
        return "application/ogg"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    sample = bytes(data[:512])
    if sample and b"\x00" not in sample:
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 3:  # a multi-byte char cut at the end is fine
                return None
        return "text/plain"
    return None


def _guess_by_name(name: str | None) -> str | None:
    if not name:
        return None
    return mimetypes.guess_type(name, strict=False)[0]


def _mime_allowed(mime: str, mime_limit: str) -> bool:
    rule = mime_limit.strip()
    negate = rule.startswith("!")
    patterns = [p.strip().lower() for p in rule.lstrip("!").split(";") if p.strip()]
    matched = any(fnmatch.fnmatchcase(mime.lower(), p) for p in patterns)
    return not matched if negate else matched


# --- Network guard --------------------------------------------------------------------------------


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Make every name resolution other than loopback fail at once (`socket.gaierror`).

    A forgotten SDK configuration then fails fast and loudly (e.g. the region lookup on
    `uc.qiniuapi.com`) instead of waiting for DNS in a sandbox without network.
    """
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in (None, "localhost", "127.0.0.1", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, f"loopback_only(): refusing to resolve {name}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = guarded
    try:
        yield
    finally:
        socket.getaddrinfo = real_getaddrinfo


# --- SDK configuration ----------------------------------------------------------------------------


@contextlib.contextmanager
def configure_sdk(
    fake: FakeQiniu,
    *,
    upload_threshold: int | None = None,
    record_folder: str | os.PathLike[str] | None = None,
    connection_timeout: int = 10,
) -> Iterator[qiniu.Region]:
    """Point the SDK's process-global defaults at `fake`; restore all of them on exit.

    Sets `default_zone` (up/rs/rsf/api/io hosts = `fake.url`, scheme http), `default_rs_host`,
    `default_rsf_host`, `default_api_host`, `default_uc_host` (which also moves the region-query
    host and empties both backup-host lists) and `connection_timeout` (SDK default 30 s).

    upload_threshold  bytes above which `put_file_v2` goes resumable (SDK default 8 MiB, strictly
                      greater than); lower it to exercise the resumable path with small files.
    record_folder     where `put_file_v2`'s default `UploadProgressRecorder()` keeps its resume
                      records. The SDK default is the system temp dir: a failed resumable upload
                      leaves a record there that a later upload of the same key + file name + mtime
                      resumes (with the old host and uploadId). Pass a tmp_path to isolate tests.

    Yields the zone it installed. Restoring copies back `qiniu.config._config` and
    `_is_customized_default` wholesale (set_default itself can't unset anything).
    """
    saved_config = dict(qiniu_config._config)
    saved_customized = dict(qiniu_config._is_customized_default)
    recorder_init = UploadProgressRecorder.__init__
    saved_recorder_defaults = recorder_init.__defaults__
    try:
        zone = fake.region()
        qiniu.set_default(
            default_zone=zone,
            default_rs_host=fake.url,
            default_rsf_host=fake.url,
            default_api_host=fake.url,
            default_uc_host=fake.url,
            connection_timeout=connection_timeout,
            default_upload_threshold=upload_threshold,
        )
        if record_folder is not None:
            recorder_init.__defaults__ = (os.fspath(record_folder),)
        yield zone
    finally:
        qiniu_config._config.clear()
        qiniu_config._config.update(saved_config)
        qiniu_config._is_customized_default.clear()
        qiniu_config._is_customized_default.update(saved_customized)
        recorder_init.__defaults__ = saved_recorder_defaults


# --- The server -----------------------------------------------------------------------------------


@dataclass
class _Upload:
    upload_id: str
    key: str | None
    policy: dict[str, Any]
    expire_at: int
    parts: dict[int, tuple[bytes, str]] = field(default_factory=dict)  # number -> (data, etag)


@dataclass
class _FormPart:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Exchange:
    method: str
    raw_path: str  # the request target exactly as received
    path: str
    query: str
    headers: Any  # http.client.HTTPMessage
    body: bytes
    record: dict[str, Any]


class _ProtocolError(Exception):
    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status = status
        self.error = error


def _json_reply(status: int, obj: Any) -> _Reply:
    return _Reply(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"))


class _Handler(BaseHTTPRequestHandler):
    server_version = "Qiniu-Fake/1.0"

    def do_GET(self):
        self.server.owner._handle(self, "GET")

    def do_HEAD(self):
        self.server.owner._handle(self, "HEAD")

    def do_POST(self):
        self.server.owner._handle(self, "POST")

    def do_PUT(self):
        self.server.owner._handle(self, "PUT")

    def do_DELETE(self):
        self.server.owner._handle(self, "DELETE")

    def log_message(self, format, *args):
        pass

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


_UPLOADS_RE = re.compile(
    r"^/buckets/(?P<bucket>[^/]+)/objects/(?P<obj>[^/]+)/uploads"
    r"(?:/(?P<upload_id>[^/]+)(?:/(?P<part>[^/]+))?)?$"
)
_RS_RE = re.compile(r"^/(?P<op>stat|delete)/(?P<entry>[^/]+)$")
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class FakeQiniu(LocalHTTPServer):
    """Qiniu's up, rs, io and uc hosts for one bucket, on http://127.0.0.1:<port>.

    State (public, change it freely between calls; guarded by `lock`):
      objects      key -> bytes of every stored object (seed with `put_object`).
      object_info  key -> {"hash", "fsize", "mimeType", "putTime" (100 ns units), "fname",
                   "customVars", "metadata"}; missing/stale entries are derived from the bytes.
      uploads      uploadId -> open resumable-v2 upload.
      requests     one dict per request: method, path, type ("form" | "init" | "part" |
                   "complete" | "abort" | "stat" | "delete" | "download" | "query" | "unknown"),
                   auth_ok (True/False, None when nothing to check), status, key, error, and for
                   parts part_number / md5_ok.
      errors       unexpected exceptions inside the server (should stay empty).
      mode         "ok" | "http500" (500 + X-Reqid, nothing done) | "no_reqid" (processed normally,
                   reply without X-Reqid) | "garbage" (200 HTML without X-Reqid, nothing done, like
                   a captive portal) | "fail_complete" (resumable "complete" answers 500; parts
                   and the uploadId stay, so the SDK can resume) | "corrupt" (uploads arrive intact
                   (crc32 / Content-MD5 still checked) but what is stored has its first byte
                   flipped: form uploads and part 1 of resumable uploads; hashes and replies
                   describe the stored bytes, like a storage that damaged the data).
      public       False: downloads need a valid `private_download_url` token (private bucket).
    """

    handler_class = _Handler
    thread_name = "fake-qiniu"

    def __init__(self, access_key: str, secret_key: str, bucket: str):
        super().__init__()
        self.access_key = access_key
        self.secret_key = secret_key
        self.bucket = bucket
        self.objects: dict[str, bytes] = {}
        self.object_info: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, _Upload] = {}
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"
        self.public = False
        self.lock = threading.RLock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- helpers for tests --

    def region(self) -> qiniu.Region:
        """A `qiniu.Region` (LegacyRegion) with every service on this server, scheme http."""
        return qiniu.Region(
            up_host=self.url,
            io_host=self.url,
            rs_host=self.url,
            rsf_host=self.url,
            api_host=self.url,
            scheme="http",
        )

    def download_url(self, key: str) -> str:
        """The base URL to hand to `Auth.private_download_url` (key percent-encoded, / kept)."""
        return f"{self.url}/{quote(key, safe='/')}"

    def put_object(self, key: str, data: bytes, mime_type: str | None = None) -> str:
        """Store an object directly (no HTTP); returns its hash."""
        mime = mime_type or _guess_by_name(key) or _sniff_mime(data) or "application/octet-stream"
        with self.lock:
            return self._store(key, data, mime, qiniu_etag(data), fname=None, custom={}, meta={})

    def stat_info(self, key: str) -> dict[str, Any] | None:
        """What `stat` would answer for `key`, or None."""
        with self.lock:
            data = self.objects.get(key)
            if data is None:
                return None
            info = self.object_info.get(key)
            if info is None or info.get("fsize") != len(data):
                info = {
                    "hash": qiniu_etag(data),
                    "fsize": len(data),
                    "mimeType": _guess_by_name(key)
                    or _sniff_mime(data)
                    or "application/octet-stream",
                    "putTime": time.time_ns() // 100,
                    "fname": None,
                    "customVars": {},
                    "metadata": {},
                }
                self.object_info[key] = info
            return dict(info)

    def requests_of(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["type"] == kind]

    def request_types(self) -> list[str]:
        with self.lock:
            return [r["type"] for r in self.requests]

    # -- HTTP plumbing --

    def _handle(self, handler: _Handler, method: str) -> None:
        body = handler.read_body()  # always drain the body first, even for refused requests
        parts = urlsplit(handler.path)
        record: dict[str, Any] = {
            "method": method,
            "path": parts.path,
            "type": "unknown",
            "auth_ok": None,
            "status": None,
            "key": None,
            "error": None,
        }
        ex = _Exchange(
            method=method,
            raw_path=handler.path,
            path=parts.path,
            query=parts.query,
            headers=handler.headers,
            body=body,
            record=record,
        )
        with self.lock:
            self.requests.append(record)
        mode = self.mode
        try:
            if mode not in _MODES:
                raise ValueError(f"unknown FakeQiniu.mode {mode!r}")
            kind, action = self._route(ex)
            record["type"] = kind
            if mode == "http500":
                reply = _json_reply(500, {"error": "fake qiniu: internal error (mode http500)"})
            elif mode == "garbage":
                reply = _Reply(200, b"<html><body>Portal login</body></html>", "text/html")
            elif mode == "fail_complete" and kind == "complete":
                reply = _json_reply(500, {"error": "fake qiniu: complete failed (fail_complete)"})
            else:
                try:
                    reply = action(ex)
                except _ProtocolError as err:
                    reply = _json_reply(err.status, {"error": err.error})
        except Exception as exc:
            self.errors.append(exc)
            reply = _json_reply(599, {"error": f"fake qiniu crashed: {exc!r}"})
        if reply.status >= 400 and record["error"] is None:
            with contextlib.suppress(ValueError, AttributeError):
                record["error"] = json.loads(reply.body).get("error")
        record["status"] = reply.status
        self._send(
            handler, reply, with_reqid=mode not in ("no_reqid", "garbage"), head=method == "HEAD"
        )

    @staticmethod
    def _send(handler: _Handler, reply: _Reply, *, with_reqid: bool, head: bool) -> None:
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        if with_reqid:
            handler.send_header("X-Reqid", secrets.token_urlsafe(12))
            handler.send_header("X-Log", "FAKE-UP")
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if not head and reply.body:
            handler.wfile.write(reply.body)

    def _route(self, ex: _Exchange):
        method, path = ex.method, ex.path
        if method == "POST" and path == "/":
            return "form", self._form_upload
        match = _UPLOADS_RE.match(path)
        if match:
            upload_id, part = match["upload_id"], match["part"]
            if method == "POST" and upload_id is None:
                return "init", self._init_upload
            if method == "PUT" and upload_id and part:
                return "part", self._upload_part
            if method == "POST" and upload_id and part is None:
                return "complete", self._complete_upload
            if method == "DELETE" and upload_id and part is None:
                return "abort", self._abort_upload
        match = _RS_RE.match(path)
        authorized = (ex.headers.get("Authorization") or "").startswith(("Qiniu ", "QBox "))
        if match and (method == "POST" or (method == "GET" and authorized)):
            return match["op"], self._stat if match["op"] == "stat" else self._delete
        if method in ("GET", "HEAD") and path == "/v4/query":
            return "query", self._query_region
        if method in ("GET", "HEAD") and path != "/":
            return "download", self._download
        return "unknown", self._unknown

    # -- upload tokens and policies --

    def _check_up_token(self, ex: _Exchange, token: str | None) -> dict[str, Any]:
        ex.record["auth_ok"] = False
        if not token:
            raise _ProtocolError(401, "token not specified")
        pieces = token.strip().split(":")
        if len(pieces) != 3:
            raise _ProtocolError(401, "bad token")
        access_key, signature, encoded_policy = pieces
        expected = _hmac_sha1_b64(self.secret_key, encoded_policy.encode("ascii", "replace"))
        if access_key != self.access_key or not hmac.compare_digest(signature, expected):
            raise _ProtocolError(401, "bad token")
        try:
            policy = json.loads(_b64decode(encoded_policy))
        except ValueError as exc:
            raise _ProtocolError(401, "invalid put policy encoding") from exc
        if not isinstance(policy, dict) or not isinstance(policy.get("scope"), str):
            raise _ProtocolError(401, "invalid put policy encoding")
        deadline = policy.get("deadline")
        if not isinstance(deadline, int) or deadline < time.time():
            raise _ProtocolError(401, "expired token")
        if policy["scope"].split(":", 1)[0] != self.bucket:
            raise _ProtocolError(631, "no such bucket")
        ex.record["auth_ok"] = True
        return policy

    @staticmethod
    def _check_key_scope(policy: dict[str, Any], key: str | None) -> None:
        scope = policy["scope"]
        if ":" not in scope:
            return
        scope_key = scope.split(":", 1)[1]
        if policy.get("isPrefixalScope") == 1:
            ok = key is not None and key.startswith(scope_key)
        else:
            ok = key == scope_key
        if not ok:
            raise _ProtocolError(403, "key doesn't match with scope")

    def _finish_object(
        self,
        policy: dict[str, Any],
        key: str | None,
        data: bytes,
        file_hash: str,
        *,
        declared_mime: str | None,
        fname: str | None,
        custom: dict[str, str],
        meta: dict[str, str],
    ) -> _Reply:
        """Policy checks shared by form upload and resumable complete; stores and answers."""
        size = len(data)
        fsize_limit = policy.get("fsizeLimit")
        if isinstance(fsize_limit, int) and size > fsize_limit:
            raise _ProtocolError(413, "exceed FsizeLimit")
        fsize_min = policy.get("fsizeMin")
        if isinstance(fsize_min, int) and size < fsize_min:
            raise _ProtocolError(403, "fsize too small")
        sniffed = _sniff_mime(data)
        mime_limit = policy.get("mimeLimit")
        if mime_limit:
            detected = sniffed or "application/octet-stream"
            if not _mime_allowed(detected, str(mime_limit)):
                raise _ProtocolError(
                    403, f"limited mimeType: this file type ({detected}) is forbidden to upload"
                )
        if policy.get("detectMime"):
            mime = sniffed or "application/octet-stream"
        elif declared_mime and declared_mime != "application/octet-stream":
            mime = declared_mime
        else:
            mime = (
                _guess_by_name(fname)
                or _guess_by_name(key)
                or sniffed
                or "application/octet-stream"
            )
        final_key = key if key is not None else file_hash
        with self.lock:
            if final_key in self.objects:
                may_overwrite = ":" in policy["scope"] and not policy.get("insertOnly")
                existing = self.stat_info(final_key)
                if not may_overwrite and existing and existing["hash"] != file_hash:
                    raise _ProtocolError(614, "file exists")
            self._store(final_key, data, mime, file_hash, fname=fname, custom=custom, meta=meta)
        return self._return_body(policy, final_key, data, file_hash, mime, fname, custom)

    def _store(self, key, data, mime, file_hash, *, fname, custom, meta) -> str:
        self.objects[key] = data
        self.object_info[key] = {
            "hash": file_hash,
            "fsize": len(data),
            "mimeType": mime,
            "putTime": time.time_ns() // 100,
            "fname": fname,
            "customVars": dict(custom),
            "metadata": dict(meta),
        }
        return file_hash

    def _return_body(self, policy, key, data, file_hash, mime, fname, custom) -> _Reply:
        template = policy.get("returnBody")
        if not template:
            return _json_reply(200, {"hash": file_hash, "key": key})
        values: dict[str, Any] = {
            "bucket": self.bucket,
            "key": key,
            "etag": file_hash,
            "fsize": len(data),
            "mimeType": mime,
            "fname": fname or "",
            "ext": os.path.splitext(key)[1] or os.path.splitext(fname or "")[1],
            "fprefix": os.path.splitext(fname or "")[0],
            "endUser": policy.get("endUser", ""),
            "uuid": secrets.token_hex(16),
            **custom,
        }

        def substitute(match: re.Match[str]) -> str:
            value = values.get(match[1], "")
            if isinstance(value, str):
                return json.dumps(value, ensure_ascii=False)[1:-1]
            return str(value)

        text = re.sub(r"\$\(([\w:.\-]+)\)", substitute, str(template))
        return _Reply(200, text.encode("utf-8"))

    # -- form upload --

    def _form_upload(self, ex: _Exchange) -> _Reply:
        fields = _parse_multipart(ex.body, ex.headers.get("Content-Type") or "")
        token = fields["token"].data.decode("utf-8") if "token" in fields else None
        policy = self._check_up_token(ex, token)
        key = fields["key"].data.decode("utf-8") if "key" in fields else None
        ex.record["key"] = key
        if "file" not in fields:
            raise _ProtocolError(400, "file is not specified in multipart")
        file_part = fields["file"]
        data = file_part.data
        self._check_key_scope(policy, key)
        if "crc32" in fields:
            try:
                declared_crc = int(fields["crc32"].data.decode("ascii"))
            except ValueError as exc:
                raise _ProtocolError(400, "invalid crc32") from exc
            if declared_crc != zlib.crc32(data) & 0xFFFFFFFF:
                raise _ProtocolError(406, "crc32 not match")
        if self.mode == "corrupt":
            data = _corrupt(data)
        custom = {n: p.data.decode("utf-8") for n, p in fields.items() if n.startswith("x:")}
        meta = {n: p.data.decode("utf-8") for n, p in fields.items() if n.startswith("x-qn-meta-")}
        reply = self._finish_object(
            policy,
            key,
            data,
            qiniu_etag(data),
            declared_mime=file_part.content_type,
            fname=file_part.filename,
            custom=custom,
            meta=meta,
        )
        if key is None:
            ex.record["key"] = qiniu_etag(data)
        return reply

    # -- resumable upload v2 --

    def _uptoken_from_header(self, ex: _Exchange) -> dict[str, Any]:
        header = ex.headers.get("Authorization") or ""
        if not header.startswith("UpToken "):
            ex.record["auth_ok"] = False
            raise _ProtocolError(401, "token not specified")
        return self._check_up_token(ex, header[len("UpToken ") :])

    def _upload_target(self, ex: _Exchange) -> tuple[dict[str, Any], str | None, re.Match[str]]:
        match = _UPLOADS_RE.match(ex.path)
        assert match is not None
        policy = self._uptoken_from_header(ex)
        if match["bucket"] != self.bucket or policy["scope"].split(":", 1)[0] != match["bucket"]:
            raise _ProtocolError(631, "no such bucket")
        key = None
        if match["obj"] != "~":
            try:
                key = _b64decode(match["obj"]).decode("utf-8")
            except ValueError as exc:
                raise _ProtocolError(400, "invalid object name encoding") from exc
        ex.record["key"] = key
        return policy, key, match

    def _open_upload(self, upload_id: str, key: str | None) -> _Upload:
        upload = self.uploads.get(upload_id)
        if upload is None or upload.key != key or upload.expire_at < time.time():
            raise _ProtocolError(612, "no such uploadId")
        return upload

    def _init_upload(self, ex: _Exchange) -> _Reply:
        policy, key, _ = self._upload_target(ex)
        self._check_key_scope(policy, key)
        upload = _Upload(
            upload_id=secrets.token_hex(16),
            key=key,
            policy=policy,
            expire_at=int(time.time()) + UPLOAD_TTL,
        )
        with self.lock:
            self.uploads[upload.upload_id] = upload
        return _json_reply(200, {"uploadId": upload.upload_id, "expireAt": upload.expire_at})

    def _upload_part(self, ex: _Exchange) -> _Reply:
        _, key, match = self._upload_target(ex)
        try:
            number = int(match["part"])
        except ValueError as exc:
            raise _ProtocolError(400, "invalid partNumber") from exc
        ex.record["part_number"] = number
        if not 1 <= number <= MAX_PART_NUMBER:
            raise _ProtocolError(400, "invalid partNumber")
        if len(ex.body) > MAX_PART_SIZE:
            raise _ProtocolError(413, "part too large")
        digest = hashlib.md5(ex.body, usedforsecurity=False).digest()
        declared_md5 = ex.headers.get("Content-MD5")
        if declared_md5 is not None:
            md5_ok = declared_md5.strip().lower() == digest.hex() or declared_md5.strip() == (
                base64.b64encode(digest).decode("ascii")
            )
            ex.record["md5_ok"] = md5_ok
            if not md5_ok:
                raise _ProtocolError(400, "Content-MD5 mismatch")
        body = _corrupt(ex.body) if self.mode == "corrupt" and number == 1 else ex.body
        etag = qiniu_etag(body)
        with self.lock:
            upload = self._open_upload(match["upload_id"], key)
            upload.parts[number] = (body, etag)
        return _json_reply(200, {"etag": etag, "md5": digest.hex()})

    def _complete_upload(self, ex: _Exchange) -> _Reply:
        policy, key, match = self._upload_target(ex)
        try:
            request = json.loads(ex.body or b"{}")
            listed = [(int(p["partNumber"]), str(p["etag"])) for p in request.get("parts") or []]
        except (ValueError, TypeError, KeyError) as exc:
            raise _ProtocolError(400, "invalid complete request body") from exc
        with self.lock:
            upload = self._open_upload(match["upload_id"], key)
            if not listed:
                raise _ProtocolError(400, "parts must not be empty")
            numbers = [n for n, _ in listed]
            if numbers != sorted(set(numbers)):
                raise _ProtocolError(400, "parts must be in ascending partNumber order")
            chunks = []
            for number, etag in listed:
                stored = upload.parts.get(number)
                if stored is None or stored[1] != etag:
                    raise _ProtocolError(
                        400, f"invalid part {number}: not uploaded or etag differs"
                    )
                chunks.append(stored[0])
            if any(len(c) < MIN_PART_SIZE for c in chunks[:-1]):
                raise _ProtocolError(400, "part too small: every part but the last needs >= 1 MiB")
            data = b"".join(chunks)
            file_hash = qiniu_etag_v2(data, [len(c) for c in chunks])
            custom = {
                str(k): str(v)
                for k, v in (request.get("customVars") or {}).items()
                if str(k).startswith("x:")
            }
            meta = {str(k): str(v) for k, v in (request.get("metadata") or {}).items()}
            reply = self._finish_object(
                policy,
                key,
                data,
                file_hash,
                declared_mime=request.get("mimeType"),
                fname=request.get("fname"),
                custom=custom,
                meta=meta,
            )
            del self.uploads[upload.upload_id]
        if key is None:
            ex.record["key"] = file_hash
        return reply

    def _abort_upload(self, ex: _Exchange) -> _Reply:
        _, key, match = self._upload_target(ex)
        with self.lock:
            upload = self._open_upload(match["upload_id"], key)
            del self.uploads[upload.upload_id]
        return _json_reply(200, {})

    # -- management (rs) --

    def _management_signature_ok(self, ex: _Exchange) -> bool:
        header = ex.headers.get("Authorization") or ""
        content_type = ex.headers.get("Content-Type")
        if header.startswith("Qiniu "):
            token = header[len("Qiniu ") :]
            text = f"{ex.method} {ex.raw_path}\nHost: {ex.headers.get('Host', '')}"
            if content_type:
                text += f"\nContent-Type: {content_type}"
            qiniu_headers = sorted(
                (_canonical_header(name), value)
                for name, value in ex.headers.items()
                if _canonical_header(name).startswith("X-Qiniu-") and len(name) > len("X-Qiniu-")
            )
            if qiniu_headers:
                text += "\n" + "\n".join(f"{name}: {value}" for name, value in qiniu_headers)
            signed = (text + "\n\n").encode("utf-8")
            if content_type and content_type != "application/octet-stream" and ex.body:
                signed += ex.body
        elif header.startswith("QBox "):
            token = header[len("QBox ") :]
            signed = (ex.raw_path + "\n").encode("utf-8")
            if content_type == "application/x-www-form-urlencoded" and ex.body:
                signed += ex.body
        else:
            return False
        access_key, _, signature = token.strip().partition(":")
        expected = _hmac_sha1_b64(self.secret_key, signed)
        return access_key == self.access_key and hmac.compare_digest(signature, expected)

    def _management_target(self, ex: _Exchange) -> str:
        ok = self._management_signature_ok(ex)
        ex.record["auth_ok"] = ok
        if not ok:
            raise _ProtocolError(401, "bad token")
        match = _RS_RE.match(ex.path)
        assert match is not None
        try:
            bucket, sep, key = _b64decode(match["entry"]).decode("utf-8").partition(":")
        except ValueError as exc:
            raise _ProtocolError(400, "invalid EncodedEntryURI") from exc
        ex.record["key"] = key if sep else None
        if bucket != self.bucket:
            raise _ProtocolError(631, "no such bucket")
        if not sep:
            raise _ProtocolError(400, "invalid EncodedEntryURI: no key")
        return key

    def _stat(self, ex: _Exchange) -> _Reply:
        key = self._management_target(ex)
        info = self.stat_info(key)
        if info is None:
            raise _ProtocolError(612, "no such file or directory")
        return _json_reply(
            200,
            {
                "fsize": info["fsize"],
                "hash": info["hash"],
                "mimeType": info["mimeType"],
                "putTime": info["putTime"],
                "type": 0,
            },
        )

    def _delete(self, ex: _Exchange) -> _Reply:
        key = self._management_target(ex)
        with self.lock:
            if key not in self.objects:
                raise _ProtocolError(612, "no such file or directory")
            del self.objects[key]
            self.object_info.pop(key, None)
        return _Reply(200, b"")  # Qiniu answers an empty body; the SDK returns ({}, info)

    # -- uc region query --

    def _query_region(self, ex: _Exchange) -> _Reply:
        params = parse_qs(ex.query)
        ok = params.get("ak", [""])[0] == self.access_key
        ex.record["auth_ok"] = ok
        if not ok or params.get("bucket", [""])[0] != self.bucket:
            raise _ProtocolError(612, "no such bucket")
        domains = {"domains": [self.host]}
        host_entry = {
            "region": "z0",
            "ttl": 86400,
            **{service: domains for service in ("up", "io", "rs", "rsf", "api", "uc")},
        }
        return _json_reply(200, {"hosts": [host_entry]})

    # -- downloads --

    def _download(self, ex: _Exchange) -> _Reply:
        key = unquote(ex.path[1:])
        ex.record["key"] = key
        cut = ex.raw_path.rfind("&token=")
        if cut < 0:
            cut = ex.raw_path.rfind("?token=")
        if cut >= 0:
            token = unquote(ex.raw_path[cut + len("&token=") :])
            signed_url = f"http://{ex.headers.get('Host', '')}{ex.raw_path[:cut]}"
            access_key, _, signature = token.partition(":")
            expected = _hmac_sha1_b64(self.secret_key, signed_url.encode("utf-8"))
            ok = access_key == self.access_key and hmac.compare_digest(signature, expected)
            ex.record["auth_ok"] = ok
            if not self.public:
                if not ok:
                    raise _ProtocolError(401, "bad token")
                deadline = parse_qs(urlsplit(ex.raw_path[:cut]).query).get("e", [""])[0]
                if not deadline.isdigit():
                    raise _ProtocolError(401, "bad token")
                if int(deadline) < time.time():
                    raise _ProtocolError(401, "token out of date")
        elif not self.public:
            raise _ProtocolError(401, "download token not specified")
        info = self.stat_info(key)
        with self.lock:
            data = self.objects.get(key)
        if info is None or data is None:
            raise _ProtocolError(404, "Document not found")
        headers = {"ETag": f'"{info["hash"]}"', "Accept-Ranges": "bytes"}
        range_header = ex.headers.get("Range")
        if range_header:
            match = _RANGE_RE.match(range_header.strip())
            start = end = None
            if match and (match[1] or match[2]):
                if match[1]:
                    start = int(match[1])
                    end = min(int(match[2]), len(data) - 1) if match[2] else len(data) - 1
                else:
                    start, end = max(len(data) - int(match[2]), 0), len(data) - 1
            if start is None or end is None or start > end or start >= len(data):
                headers["Content-Range"] = f"bytes */{len(data)}"
                return _Reply(416, b"", info["mimeType"], headers)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return _Reply(206, data[start : end + 1], info["mimeType"], headers)
        return _Reply(200, data, info["mimeType"], headers)

    def _unknown(self, ex: _Exchange) -> _Reply:
        return _json_reply(404, {"error": f"fake qiniu: no route for {ex.method} {ex.path}"})


def _disposition_param(disposition: str, name: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{name}="((?:[^"\\]|\\.)*)"', disposition)
    if match:
        return match[1].replace('\\"', '"').replace("\\\\", "\\").replace("%22", '"')
    match = re.search(rf"(?:^|;)\s*{name}\*=utf-8''([^;]*)", disposition, re.IGNORECASE)
    if match:
        return unquote(match[1])
    match = re.search(rf"(?:^|;)\s*{name}=([^;\s]+)", disposition)
    return match[1] if match else None


def _parse_multipart(body: bytes, content_type: str) -> dict[str, _FormPart]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or not match:
        raise _ProtocolError(400, "invalid multipart format: not multipart/form-data")
    delimiter = b"--" + match[1].encode("latin-1")
    fields: dict[str, _FormPart] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise _ProtocolError(400, "invalid multipart format: part without headers")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _disposition_param(disposition, "name")
        if name is None:
            raise _ProtocolError(400, "invalid multipart format: part without name")
        fields[name] = _FormPart(
            name=name,
            filename=_disposition_param(disposition, "filename"),
            content_type=headers.get("content-type"),
            data=content,
        )
    return fields
