"""The benchmark's half of Alipay: fresh RSA keys, and notifies signed like Alipay signs them.

Keys and signatures are made with `cryptography` (OpenSSL) because the harness signs thousands
of notifies and a 2048-bit key takes seconds to generate with pycryptodome. PKCS#1 v1.5
signatures are deterministic, so they are byte for byte what Alipay (and the SDK's own
Cryptodome code) would produce. The notify fields and the signing string come from
tests/support/alipay.py, which the test suite checks against the SDK.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.alipay import notify_params, signing_string

from . import config


@dataclass(frozen=True)
class KeyFiles:
    """PEM files: the shop's app key pair and "Alipay's" key pair (all made up for the bench)."""

    app_private: Path
    app_public: Path
    alipay_private: Path
    alipay_public: Path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _pair(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1 PEM, generated per run
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return (
        _write(directory / f"{name}_private.pem", private),
        _write(directory / f"{name}_public.pem", public),
    )


def generate_keys(directory: Path) -> KeyFiles:
    directory.mkdir(parents=True, exist_ok=True)
    app_private, app_public = _pair(directory, "app")
    alipay_private, alipay_public = _pair(directory, "alipay")
    return KeyFiles(app_private, app_public, alipay_private, alipay_public)


@lru_cache(maxsize=4)
def _private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path} is not an RSA private key")
    return key


def rsa2_sign(message: str, private_key_file: Path) -> str:
    """SHA256withRSA, PKCS#1 v1.5, base64 on one line (what Alipay's `sign` holds)."""
    signature = _private_key(private_key_file).sign(
        message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(signature).decode("ascii")


def signed_notify(
    out_trade_no: str,
    total_amount: Decimal,
    *,
    trade_no: str,
    gmt_payment: str,
    alipay_private_key: Path,
) -> dict[str, str]:
    """A TRADE_SUCCESS notify for one of our orders, signed with "Alipay's" private key."""
    params = notify_params(
        app_id=config.ALIPAY_APP_ID,
        out_trade_no=out_trade_no,
        total_amount=total_amount,
        trade_no=trade_no,
        seller_id=config.ALIPAY_SELLER_ID,
        gmt_payment=gmt_payment,
    )
    params["sign_type"] = "RSA2"
    params["sign"] = rsa2_sign(
        signing_string(params, exclude=("sign", "sign_type")), alipay_private_key
    )
    return params


def form_body(params: dict[str, str]) -> str:
    """The notify as Alipay POSTs it: application/x-www-form-urlencoded, UTF-8."""
    return urlencode(params)
