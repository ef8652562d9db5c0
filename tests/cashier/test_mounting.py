"""The local cashier exists only in development: off and unmounted with DEBUG off."""

from __future__ import annotations

import stat

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.test_settings import manage


@pytest.mark.django_db
def test_with_debug_off_the_cashier_is_off_and_its_urls_answer_404(settings):
    assert settings.LOCAL_CASHIER is False
    try:
        reverse("cashier:gateway")
    except NoReverseMatch:
        pass
    else:
        raise AssertionError("the cashier is mounted with DEBUG off")
    assert Client().get("/cashier/gateway.do?method=alipay.trade.query").status_code == 404


@pytest.mark.django_db
def test_mounted_by_mistake_without_local_cashier_it_still_answers_404(settings):
    settings.ROOT_URLCONF = "tests.support.cashier_urls"

    assert Client().get("/cashier/gateway.do?method=alipay.trade.query").status_code == 404


def test_forcing_local_cashier_on_with_debug_off_refuses_to_start(tmp_path):
    result = manage(
        "check",
        LOCAL_CASHIER="true",
        DJANGO_SECRET_KEY="a-production-like-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        LOCAL_CASHIER_KEY_DIR=str(tmp_path / "keys"),
    )

    assert result.returncode != 0
    assert "LOCAL_CASHIER is on but DJANGO_DEBUG is off" in result.stderr
    assert not (tmp_path / "keys").exists()


def test_debug_without_alipay_keys_turns_the_cashier_on_with_private_dev_keys(tmp_path):
    folder = tmp_path / "keys"
    code = (
        "from django.conf import settings as s; from django.urls import reverse; "
        "print(s.LOCAL_CASHIER, s.ALIPAY.gateway, reverse('cashier:gateway'))"
    )
    env = {"DJANGO_DEBUG": "true", "LOCAL_CASHIER_KEY_DIR": str(folder), "SITE_URL": "http://h:1"}

    first = manage("shell", "--no-imports", "-c", code, **env)
    keys = {p.name: p.read_text() for p in folder.glob("*.pem")}
    second = manage("shell", "--no-imports", "-c", code, **env)

    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["True", "http://h:1/cashier/gateway.do", "/cashier/gateway.do"]
    assert sorted(keys) == [
        "alipay_private.pem",
        "alipay_public.pem",
        "app_private.pem",
        "app_public.pem",
    ]
    for name in ("app_private.pem", "alipay_private.pem"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert keys["app_private.pem"] != keys["alipay_private.pem"]
    # Generated once, then reused.
    assert second.returncode == 0, second.stderr
    assert {p.name: p.read_text() for p in folder.glob("*.pem")} == keys


def test_a_configured_alipay_app_id_keeps_the_cashier_off_in_development(tmp_path):
    code = "from django.conf import settings as s; print(s.LOCAL_CASHIER)"

    result = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        DJANGO_DEBUG="true",
        ALIPAY_APP_ID="2021000122600001",
        LOCAL_CASHIER_KEY_DIR=str(tmp_path / "keys"),
    )

    # Half an Alipay configuration is refused at start; either way no local cashier.
    assert result.stdout.strip() in {"", "False"}
    assert not (tmp_path / "keys").exists()
