"""Alipay settings from the environment: a frozen AlipaySettings, built once in settings.py.

The keys are parsed and checked here (PEM or bare base64, not our own key twice), so a server
with a half or unusable Alipay configuration refuses to start, naming the variable to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.env import EnvError, env_int, env_str

from .keys import KeyFormatError, load_rsa_key, to_pem


class AlipayConfigError(EnvError):
    """The Alipay settings cannot work; the message says which variable to fix."""


SANDBOX_GATEWAY = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"


@dataclass(frozen=True)
class AlipaySettings:
    app_id: str
    app_private_key: str  # PEM
    alipay_public_key: str  # PEM
    gateway: str
    seller_id: str
    notify_url: str
    return_url: str
    timeout_seconds: int


def _read_key(conf: Mapping[str, Any], name: str) -> str:
    text = conf.get(name) or ""
    path = conf.get(f"{name}_FILE") or ""
    if text.strip() and path:
        raise AlipayConfigError(f"Set ALIPAY_{name} or ALIPAY_{name}_FILE, not both.")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise AlipayConfigError(f"ALIPAY_{name}_FILE={path!r} cannot be read: {exc}") from exc
    return text


def settings_from_mapping(conf: Mapping[str, Any]) -> AlipaySettings | None:
    """AlipaySettings from a dict keyed like the variables without `ALIPAY_` (APP_ID,
    APP_PRIVATE_KEY, APP_PRIVATE_KEY_FILE, PUBLIC_KEY, PUBLIC_KEY_FILE, SANDBOX, GATEWAY,
    SELLER_ID, NOTIFY_URL, RETURN_URL, TIMEOUT_SECONDS); None when no app id or key is given.

    Raises AlipayConfigError, naming the variable, for a half configuration or unusable keys.
    """
    private_text = _read_key(conf, "APP_PRIVATE_KEY")
    public_text = _read_key(conf, "PUBLIC_KEY")
    given = [bool(conf.get("APP_ID")), bool(private_text.strip()), bool(public_text.strip())]
    if not any(given):
        return None
    if not all(given):
        raise AlipayConfigError(
            "Alipay is half configured: ALIPAY_APP_ID, ALIPAY_APP_PRIVATE_KEY(_FILE) and "
            "ALIPAY_PUBLIC_KEY(_FILE) must all be set, or none of them."
        )
    advice = (
        "Paste the PEM text with its BEGIN/END lines, or the bare base64 from Alipay's console."
    )
    try:
        private_key = load_rsa_key(private_text, private=True)
    except KeyFormatError as exc:
        raise AlipayConfigError(
            f"ALIPAY_APP_PRIVATE_KEY cannot be used ({exc}). {advice}"
        ) from None
    try:
        public_key = load_rsa_key(public_text, private=False)
    except KeyFormatError as exc:
        raise AlipayConfigError(f"ALIPAY_PUBLIC_KEY cannot be used ({exc}). {advice}") from None
    if public_key == private_key.public_key():
        raise AlipayConfigError(
            "ALIPAY_PUBLIC_KEY is the public half of your own app key. It must be *Alipay's* "
            "public key, shown in Alipay's console after you upload the app public key."
        )
    default_gateway = SANDBOX_GATEWAY if conf.get("SANDBOX") else PRODUCTION_GATEWAY
    gateway = conf.get("GATEWAY") or default_gateway
    return AlipaySettings(
        app_id=str(conf["APP_ID"]),
        app_private_key=to_pem(private_key),
        alipay_public_key=to_pem(public_key),
        gateway=gateway,
        seller_id=conf.get("SELLER_ID") or "",
        notify_url=conf["NOTIFY_URL"],
        return_url=conf["RETURN_URL"],
        timeout_seconds=int(conf.get("TIMEOUT_SECONDS") or 15),
    )


def env_mapping(
    env: Mapping[str, str], *, sandbox: bool, notify_url: str, return_url: str
) -> dict[str, Any]:
    """The ALIPAY_* variables in the shape settings_from_mapping reads (not checked yet).

    `sandbox` picks the default gateway (settings.ALIPAY_SANDBOX, which follows DEBUG unless
    ALIPAY_SANDBOX is set); `notify_url` and `return_url` are the defaults (from SITE_URL and
    FRONTEND_URL) that ALIPAY_NOTIFY_URL and ALIPAY_RETURN_URL replace.
    """
    try:
        timeout = env_int("ALIPAY_TIMEOUT_SECONDS", 15, env=env)
    except EnvError as exc:
        raise AlipayConfigError(str(exc)) from None
    return {
        "APP_ID": env_str("ALIPAY_APP_ID", env=env),
        "APP_PRIVATE_KEY": env.get("ALIPAY_APP_PRIVATE_KEY", ""),
        "APP_PRIVATE_KEY_FILE": env_str("ALIPAY_APP_PRIVATE_KEY_FILE", env=env),
        "PUBLIC_KEY": env.get("ALIPAY_PUBLIC_KEY", ""),
        "PUBLIC_KEY_FILE": env_str("ALIPAY_PUBLIC_KEY_FILE", env=env),
        "SANDBOX": sandbox,
        "GATEWAY": env_str("ALIPAY_GATEWAY", env=env),
        "SELLER_ID": env_str("ALIPAY_SELLER_ID", env=env),
        "NOTIFY_URL": env_str("ALIPAY_NOTIFY_URL", notify_url, env=env),
        "RETURN_URL": env_str("ALIPAY_RETURN_URL", return_url, env=env),
        "TIMEOUT_SECONDS": timeout,
    }


def settings_from_env(
    env: Mapping[str, str], *, sandbox: bool, notify_url: str, return_url: str
) -> AlipaySettings | None:
    """AlipaySettings from ALIPAY_* variables; None when Alipay is not configured at all."""
    return settings_from_mapping(
        env_mapping(env, sandbox=sandbox, notify_url=notify_url, return_url=return_url)
    )
