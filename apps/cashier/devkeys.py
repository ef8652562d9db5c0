"""The local cashier's development key pairs: made once, kept out of git, reused.

Two pairs, as with the real Alipay: the app's (the shop signs requests, the cashier checks them)
and "Alipay's" (the cashier signs notifies and answers, the shop checks them). Imported by
settings, so nothing here may touch Django.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from Cryptodome.PublicKey import RSA

DEV_APP_ID = "9021000000000001"
DEV_SELLER_ID = "2088000000000001"
_FILES = ("app_private.pem", "app_public.pem", "alipay_private.pem", "alipay_public.pem")


@dataclass(frozen=True)
class DevKeys:
    folder: Path

    @property
    def app_private(self) -> Path:
        return self.folder / "app_private.pem"

    @property
    def app_public(self) -> Path:
        return self.folder / "app_public.pem"

    @property
    def alipay_private(self) -> Path:
        return self.folder / "alipay_private.pem"

    @property
    def alipay_public(self) -> Path:
        return self.folder / "alipay_public.pem"


def _write(path: Path, text: str, mode: int) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def ensure_dev_keys(folder: Path) -> DevKeys:
    """The key files in `folder`, generated on first use (private keys 0600)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = DevKeys(folder)
    if all((folder / name).is_file() for name in _FILES):
        return keys
    # runserver's reloader and a parallel `manage.py` may start together: one generates.
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((folder / name).is_file() for name in _FILES):
            for prefix in ("app", "alipay"):
                key = RSA.generate(2048)
                _write(folder / f"{prefix}_private.pem", key.export_key("PEM").decode(), 0o600)
                public = key.publickey().export_key("PEM").decode()
                _write(folder / f"{prefix}_public.pem", public, 0o644)
    return keys


def alipay_overrides(keys: DevKeys, *, gateway: str) -> dict[str, str]:
    """What settings.ALIPAY takes from the local cashier: its app id, keys and gateway."""
    return {
        "APP_ID": DEV_APP_ID,
        "APP_PRIVATE_KEY": "",
        "APP_PRIVATE_KEY_FILE": str(keys.app_private),
        "PUBLIC_KEY": "",
        "PUBLIC_KEY_FILE": str(keys.alipay_public),
        "GATEWAY": gateway,
        "SELLER_ID": DEV_SELLER_ID,
    }
