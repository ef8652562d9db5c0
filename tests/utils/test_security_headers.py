"""Every HTML answer carries the site's CSP (frame-ancestors 'none') and X-Frame-Options: DENY,
whoever answers it: the storefront's fallback view, WhiteNoise's /index.html, the admin, the API
docs, the local cashier, the 503 of a missing build. Other answers are left as they are."""

from __future__ import annotations

import pytest
from django.test import Client

from utils.security_headers import current_policy, policy_header

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(settings, tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="app"></div>', encoding="utf-8")
    (tmp_path / "assets" / "index-B2BhwRft.js").write_text("console.log(1)", encoding="utf-8")
    settings.STOREFRONT_DIR = tmp_path
    settings.WHITENOISE_ROOT = tmp_path
    return tmp_path


HTML_PATHS = [
    "/",
    "/index.html",  # WhiteNoise's own answer: no middleware after it ran
    "/free",
    "/course/3",
    "/pay/success?out_trade_no=1",
    "/no/such/page",
    "/admin/login/",
    "/api/docs/",
    "/cashier/gateway.do?method=alipay.trade.page.pay",  # a refusal page
]


@pytest.mark.parametrize("path", HTML_PATHS)
def test_every_html_answer_forbids_framing_and_inline_script(built, settings, cashier_keys, path):
    settings.ROOT_URLCONF = "tests.support.cashier_urls"
    settings.LOCAL_CASHIER = True
    settings.LOCAL_CASHIER_KEY_DIR = cashier_keys.folder

    response = Client().get(path)

    assert response["Content-Type"].startswith("text/html")
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_a_missing_build_page_has_the_headers_too(settings, tmp_path):
    settings.STOREFRONT_DIR = tmp_path / "dist"
    response = Client().get("/")
    assert response.status_code == 503
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "style=" not in response.content.decode()  # the page keeps to the policy itself


def test_the_api_docs_init_script_is_a_file_not_inline():
    page = Client().get("/api/docs/")
    body = page.content.decode()
    assert "<script>" not in body and "<style>" not in body
    script = Client().get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_json_and_assets_get_no_page_policy(built):
    api = Client().get("/api/v1/home/banner/")
    asset = Client().get("/assets/index-B2BhwRft.js")
    assert "Content-Security-Policy" not in api
    assert "Content-Security-Policy" not in asset


def test_media_origins_and_the_api_are_allowed_where_the_storefront_needs_them(settings):
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "img-src": ["'self'", "data:", "https://video.example.com", "'self'"],
    }
    assert "img-src 'self' data: https://video.example.com;" in current_policy()


def test_the_policy_header_reads_like_the_dict():
    assert policy_header({"default-src": ["'self'"], "object-src": ["'none'"]}) == (
        "default-src 'self'; object-src 'none'"
    )
