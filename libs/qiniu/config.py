"""Qiniu settings from the environment (no Django settings needed: scripts/qiniu_test.py uses
it too)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from utils.env import EnvError, env_bool, env_int, env_str


class QiniuConfigError(EnvError):
    """The Qiniu settings cannot work; the message says which variable to fix."""


@dataclass(frozen=True)
class QiniuSettings:
    access_key: str
    secret_key: str
    bucket: str
    domain: str  # download base URL of the bucket, e.g. https://video.example.com
    private: bool = True
    link_ttl: int = 3600  # seconds a signed download link stays valid
    up_host: str = ""  # explicit upload host (tests point it at a local server)
    rs_host: str = ""  # explicit management host (stat, delete)


def _base_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if value and "://" not in value:
        value = f"https://{value}"
    return value


REQUIRED = ("QINIU_ACCESS_KEY", "QINIU_SECRET_KEY", "QINIU_BUCKET", "QINIU_DOMAIN")


def settings_from_env(env: Mapping[str, str]) -> QiniuSettings | None:
    """QiniuSettings from QINIU_* variables; None when none of the required ones is set."""
    given = {name: env_str(name, env=env) for name in REQUIRED}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise QiniuConfigError(
            f"Qiniu is half configured: set {', '.join(missing)} too, or unset all of "
            f"{', '.join(REQUIRED)} to store media locally."
        )
    try:
        ttl = env_int("QINIU_LINK_TTL", 3600, env=env)
    except EnvError:
        ttl_text = env_str("QINIU_LINK_TTL", env=env)
        raise QiniuConfigError(f"QINIU_LINK_TTL must be seconds, got {ttl_text!r}") from None
    if ttl <= 0:
        raise QiniuConfigError("QINIU_LINK_TTL must be a positive number of seconds")
    return QiniuSettings(
        access_key=given["QINIU_ACCESS_KEY"],
        secret_key=given["QINIU_SECRET_KEY"],
        bucket=given["QINIU_BUCKET"],
        domain=_base_url(given["QINIU_DOMAIN"]),
        private=env_bool("QINIU_PRIVATE_BUCKET", True, env=env),
        link_ttl=ttl,
        up_host=_base_url(env_str("QINIU_UP_HOST", env=env)),
        rs_host=_base_url(env_str("QINIU_RS_HOST", env=env)),
    )
