"""The bench's ceiling view lives in its own URLconf; the shop's URL map never imports bench/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, resolve, reverse

ROOT = Path(__file__).resolve().parents[2]


def test_the_shop_has_no_benchmark_route():
    # The path itself is a storefront page like any other non-API path (history mode).
    with pytest.raises(NoReverseMatch):
        reverse("bench-ceiling")
    assert resolve("/bench/ceiling/").url_name == "storefront"


def test_the_bench_urlconf_serves_the_ceiling_and_every_route_of_the_shop():
    assert resolve("/bench/ceiling/", urlconf="bench.urls").url_name == "bench-ceiling"
    assert resolve("/api/v1/course/list/", urlconf="bench.urls").url_name == "course-list"


def test_loading_the_shops_urls_imports_nothing_from_bench():
    code = (
        "import django, sys; django.setup(); import luffy_api.urls; "
        "print(sorted(m for m in sys.modules if m == 'bench' or m.startswith('bench.')))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "luffy_api.settings_test", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_bench_settings_are_the_projects_with_the_bench_urlconf():
    code = (
        "import bench.settings as b, luffy_api.settings as p; "
        "print(b.ROOT_URLCONF, b.INSTALLED_APPS == p.INSTALLED_APPS)"
    )
    env = {
        "DJANGO_SECRET_KEY": "bench-settings-check-" + "k" * 50,
        "LUFFY_IGNORE_DOTENV": "1",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout.split() == ["bench.urls", "True"], out.stderr[-2000:]
