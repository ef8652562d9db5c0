"""Django serves the built storefront: index.html for its pages, the API and admin untouched."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent.parent
# Node builds the storefront (scripts/bootstrap.sh installs it); a missing one fails, never skips.
NODE = shutil.which("node") or "node"


@pytest.fixture
def built(settings, tmp_path):
    """A storefront build: index.html and one hashed asset, as Vite writes them."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="app"></div>', encoding="utf-8")
    (tmp_path / "assets" / "index-B2BhwRft.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    settings.STOREFRONT_DIR = tmp_path
    settings.WHITENOISE_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize("path", ["/", "/free", "/course/3", "/pay/success?out_trade_no=1", "/x/y"])
def test_every_storefront_page_answers_index_html_which_is_revalidated(built, path):
    response = Client().get(path)
    assert response.status_code == 200
    assert b'<div id="app">' in response.content
    assert response["Cache-Control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year_and_other_root_files_briefly(built):
    asset = Client().get("/assets/index-B2BhwRft.js")
    assert asset.status_code == 200
    assert "immutable" in asset["Cache-Control"]
    icon = Client().get("/favicon.svg")
    assert icon.status_code == 200
    assert "immutable" not in icon["Cache-Control"]


@pytest.mark.parametrize(
    ("accepts", "encoding"),
    [("gzip, deflate, br", "br"), ("gzip, deflate", "gzip"), ("identity", None)],
)
def test_assets_go_out_in_the_compressed_copy_the_browser_accepts(built, accepts, encoding):
    source = built / "assets" / "index-B2BhwRft.js"
    body = b"console.log('the storefront');\n" * 200
    source.write_bytes(body)
    copies = {
        None: body,
        "gzip": gzip.compress(body),
        "br": b"(brotli bytes as the build wrote them)",
    }
    Path(f"{source}.gz").write_bytes(copies["gzip"])
    Path(f"{source}.br").write_bytes(copies["br"])
    response = Client().get("/assets/index-B2BhwRft.js", HTTP_ACCEPT_ENCODING=accepts)
    assert response.status_code == 200
    assert response.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response["Vary"]
    assert b"".join(response.streaming_content) == copies[encoding]


def test_the_build_writes_a_gzip_and_a_brotli_copy_of_each_text_asset(tmp_path):
    (tmp_path / "assets").mkdir()
    script = b"export const shop = 'luffy';\n" * 100
    (tmp_path / "assets" / "index-B2BhwRft.js").write_bytes(script)
    (tmp_path / "assets" / "tiny-C1.css").write_bytes(b"a{}")
    (tmp_path / "assets" / "logo-D2.png").write_bytes(b"\x89PNG" * 400)
    subprocess.run(  # noqa: S603 - the build's own Node and script
        [NODE, str(ROOT / "web" / "scripts" / "compress.mjs"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    written = sorted(p.name for p in (tmp_path / "assets").iterdir())
    assert written == [
        "index-B2BhwRft.js",
        "index-B2BhwRft.js.br",
        "index-B2BhwRft.js.gz",
        "logo-D2.png",
        "tiny-C1.css",
    ]
    assets = tmp_path / "assets"
    assert gzip.decompress((assets / "index-B2BhwRft.js.gz").read_bytes()) == script
    # Python has no brotli decoder in the standard library; Node's zlib has one.
    unbrotli = subprocess.run(  # noqa: S603 - Node's zlib on the file just written
        [
            NODE,
            "-e",
            "process.stdout.write(require('zlib').brotliDecompressSync(require('fs')"
            ".readFileSync(process.argv[1])))",
            str(assets / "index-B2BhwRft.js.br"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert unbrotli.stdout == script


@pytest.mark.parametrize("path", ["/api/v1/nowhere/", "/api/", "/static/nothing.css", "/media/x"])
def test_reserved_paths_never_get_the_storefront(built, path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response.json()["code"] == 404


def test_the_admin_is_still_the_admin(built):
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert b'<div id="app">' not in response.content


def test_a_missing_build_answers_a_clear_message_not_a_500(settings, tmp_path):
    settings.STOREFRONT_DIR = tmp_path / "dist"
    response = Client().get("/")
    assert response.status_code == 503
    assert "npm run build" in response.content.decode()
    assert "make run" in response.content.decode()


def test_pages_refuse_writes(built):
    assert Client().post("/free").status_code == 405


def test_alipay_returns_buyers_to_the_sites_own_pay_success_page_by_default(tmp_path):
    # The local cashier (on by default with DEBUG and no keys) configures Alipay, so the
    # settings carry the return URL; its development keys go to a temporary folder.
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.ALIPAY.return_url)",
        ],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "LUFFY_IGNORE_DOTENV": "1",
            "DJANGO_DEBUG": "true",
            "SITE_URL": "https://shop.example.com/",
            "LOCAL_CASHIER_KEY_DIR": str(tmp_path / "dev-alipay"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "https://shop.example.com/pay/success"
