"""The development secret key: random, made once per checkout, kept in a gitignored file.

A key written in the source would let anyone who has read the repository sign sessions and
JWTs for every development instance; a key made per checkout is known only to that machine.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def load_or_create_dev_secret_key(path: Path) -> str:
    """Return the key stored at `path`, creating it (mode 0600) on first use.

    Two processes may start at once (runserver's autoreloader starts a child right away): the
    key is written to a private temporary file and published with os.link, which fails if the
    other process published first, so both end up using the same key.
    """
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        # FileExistsError: another process won the race; its key is the one to use.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
