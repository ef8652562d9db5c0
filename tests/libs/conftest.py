"""The RSA key pairs the Alipay wrapper's tests sign and verify with (one set per module)."""

from __future__ import annotations

import pytest

from tests.support.alipay import KeyPair, generate_keypair


@pytest.fixture(scope="module")
def app() -> KeyPair:
    """Our app key (PKCS#1 private key)."""
    return generate_keypair()


@pytest.fixture(scope="module")
def app8() -> KeyPair:
    """Another app key, its private half in PKCS#8."""
    return generate_keypair(pkcs8=True)


@pytest.fixture(scope="module")
def ali() -> KeyPair:
    """Alipay's key: it signs notifies and gateway answers."""
    return generate_keypair()
