"""Read RSA keys in the shapes people paste them, and hand the SDK PEM it can load.

python-alipay-sdk only loads multi-line PEM. Alipay's console shows keys as bare base64 and
environment variables often squeeze a PEM onto one line; both are normalised here. Anything that
is still not an RSA key of the right kind is rejected with a message that says what to do.
"""

from __future__ import annotations

import base64
import binascii
import re

from Cryptodome.PublicKey import RSA

_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.DOTALL)


class KeyFormatError(ValueError):
    pass


def _der(text: str) -> bytes:
    text = text.strip().replace("\\n", "\n")
    match = _PEM.search(text)
    body = match.group(2) if match else text
    try:
        return base64.b64decode(re.sub(r"\s+", "", body), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError("not PEM and not base64") from exc


def load_rsa_key(text: str, *, private: bool) -> RSA.RsaKey:
    if not text or not text.strip():
        raise KeyFormatError("empty")
    try:
        key = RSA.import_key(_der(text))
    except (ValueError, IndexError, TypeError) as exc:
        raise KeyFormatError("not an RSA key") from exc
    if key.has_private() != private:
        raise KeyFormatError(
            "a public key where a private key belongs"
            if private
            else "a private key where Alipay's public key belongs"
        )
    return key


def to_pem(key: RSA.RsaKey) -> str:
    return key.export_key(format="PEM").decode()
