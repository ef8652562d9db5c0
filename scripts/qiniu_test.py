#!/usr/bin/env python
"""Upload a local file to the configured Qiniu bucket and check what was stored.

    python scripts/qiniu_test.py FILE [--key KEY]

Reads QINIU_ACCESS_KEY, QINIU_SECRET_KEY, QINIU_BUCKET, QINIU_DOMAIN (and the optional
QINIU_PRIVATE_BUCKET, QINIU_LINK_TTL, QINIU_UP_HOST, QINIU_RS_HOST) from the environment or the
project's .env. Small files go up in one form upload, large ones (over 8 MiB) by resumable v2
upload. Afterwards the stored key and hash must equal the local key and etag; the download URL
(signed on a private bucket) is printed. Exit codes: 0 ok, 2 usage or missing file, 3 missing or
bad configuration, 4 upload failed or stored object differs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project root, so `libs.qiniu` (not the SDK) is importable

from libs.qiniu import (  # noqa: E402
    QiniuClient,
    QiniuConfigError,
    QiniuError,
    file_etag,
    settings_from_env,
)


class ProgressBar:
    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream, self.width, self.last = stream, width, -1

    def __call__(self, uploaded: int, total: int) -> None:
        percent = 100 if total <= 0 else min(100, uploaded * 100 // total)
        if percent == self.last:
            return
        self.last = percent
        filled = self.width * percent // 100
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {percent:3d}% {uploaded}/{total} bytes")
        if percent == 100:
            self.stream.write("\n")
        self.stream.flush()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    dotenv = ROOT / ".env"
    if dotenv.exists() and not env.get("LUFFY_IGNORE_DOTENV"):
        from dotenv import dotenv_values

        for name, value in dotenv_values(dotenv).items():
            env.setdefault(name, value or "")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="local file to upload")
    parser.add_argument("--key", help="object key (default: the file's name)")
    args = parser.parse_args(argv)

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    try:
        conf = settings_from_env(_env())
    except QiniuConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if conf is None:
        print(
            "error: Qiniu is not configured: set QINIU_ACCESS_KEY, QINIU_SECRET_KEY, "
            "QINIU_BUCKET and QINIU_DOMAIN (see .env.example).",
            file=sys.stderr,
        )
        return 3

    key = args.key or path.name
    local_etag = file_etag(path)
    client = QiniuClient(conf)
    print(f"uploading {path} ({path.stat().st_size} bytes) to {conf.bucket}:{key}")
    try:
        stored = client.upload_file(path, key, progress=ProgressBar())
        info = client.stat(key)
    except QiniuError as exc:
        print(f"error: upload failed: {exc}", file=sys.stderr)
        return 4
    if info is None or info.hash != local_etag or stored.key != key:
        print(f"error: stored object {info} differs from local etag {local_etag}", file=sys.stderr)
        return 4
    print(f"key:  {stored.key}")
    print(f"hash: {stored.hash} (equals local etag)")
    print(f"url:  {client.url(key)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
