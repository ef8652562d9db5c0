"""scripts/qiniu_test.py, run as an operator would, against a FakeQiniu in this process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import qiniu

from tests.support.media import MIB, qiniu_env
from tests.support.qiniu import sample_mp4_bytes

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "scripts/qiniu_test.py"


@pytest.fixture
def fake(fake_qiniu):
    return fake_qiniu  # tests/support/media.py


@pytest.fixture
def run(tmp_path):
    """Run the script with exactly the QINIU_* variables given; the SDK's resume records (system
    temp dir) go to a folder of this test."""
    temp = tmp_path / "tmp"
    temp.mkdir()

    def do(*args: str, **qiniu_vars: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QINIU_")}
        env.update(LUFFY_IGNORE_DOTENV="1", TMPDIR=str(temp), **qiniu_vars)
        return subprocess.run(  # noqa: S603
            [sys.executable, SCRIPT, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    do.temp = temp
    return do


def video(tmp_path, size: int, name: str = "lesson.mp4") -> tuple[Path, bytes]:
    data = sample_mp4_bytes(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def printed(result, label: str) -> str:
    match = re.search(rf"^{label}:\s+(\S+)", result.stdout, re.MULTILINE)
    assert match, result.stdout
    return match[1]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_a_small_file_goes_up_in_one_form_upload(fake, run, tmp_path):
    path, data = video(tmp_path, MIB)

    result = run(str(path), "--key", "videos/intro.mp4", **qiniu_env(fake))

    assert result.returncode == 0, result.stderr
    assert printed(result, "key") == "videos/intro.mp4"
    assert printed(result, "hash") == qiniu.etag(str(path))
    assert "(equals local etag)" in result.stdout
    url = printed(result, "url")
    assert url.startswith(f"{fake.url}/videos/intro.mp4?e=") and "&token=" in url
    assert fake.request_types() == ["form", "stat"]  # the upload, then the check
    assert fake.objects == {"videos/intro.mp4": data}
    assert fetch(url) == (200, data)
    assert f"100% {MIB}/{MIB} bytes" in result.stderr


def test_the_key_defaults_to_the_file_name_and_public_links_are_plain(fake, run, tmp_path):
    path, data = video(tmp_path, 1000, name="第1课.mp4")
    fake.public = True

    result = run(str(path), **qiniu_env(fake, QINIU_PRIVATE_BUCKET="false"))

    assert result.returncode == 0, result.stderr
    assert printed(result, "key") == "第1课.mp4"
    assert printed(result, "url") == f"{fake.url}/%E7%AC%AC1%E8%AF%BE.mp4"
    assert fake.objects == {"第1课.mp4": data}


def test_a_large_file_goes_resumable(fake, run, tmp_path):
    size = 8 * MIB + 1
    path, data = video(tmp_path, size)

    result = run(str(path), "--key", "videos/big.mp4", **qiniu_env(fake))

    assert result.returncode == 0, result.stderr
    assert printed(result, "hash") == qiniu.etag(str(path))
    assert fake.objects["videos/big.mp4"] == data
    assert sorted(fake.request_types()) == ["complete", "init", "part", "part", "part", "stat"]
    assert f"100% {size}/{size} bytes" in result.stderr
    assert "[" + "#" * 30 + "]" in result.stderr  # the bar is full
    assert list(run.temp.iterdir()) == []  # no resume record left behind


def test_missing_configuration_exits_3(run, tmp_path):
    path, _ = video(tmp_path, 100)

    result = run(str(path))

    assert result.returncode == 3
    assert "Qiniu is not configured" in result.stderr
    assert "QINIU_ACCESS_KEY" in result.stderr


def test_half_configuration_exits_3(fake, run, tmp_path):
    path, _ = video(tmp_path, 100)
    env = qiniu_env(fake)
    del env["QINIU_SECRET_KEY"], env["QINIU_DOMAIN"]

    result = run(str(path), **env)

    assert result.returncode == 3
    assert "half configured: set QINIU_SECRET_KEY, QINIU_DOMAIN too" in result.stderr
    assert fake.requests == []


def test_bad_link_ttl_exits_3(fake, run, tmp_path):
    path, _ = video(tmp_path, 100)
    result = run(str(path), **qiniu_env(fake, QINIU_LINK_TTL="0"))
    assert result.returncode == 3
    assert "QINIU_LINK_TTL" in result.stderr
    assert fake.requests == []


def test_a_missing_file_exits_2(fake, run, tmp_path):
    result = run(str(tmp_path / "nope.mp4"), **qiniu_env(fake))
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert fake.requests == []


def test_a_wrong_secret_key_exits_4_with_qinius_answer(fake, run, tmp_path):
    path, _ = video(tmp_path, 1000)

    result = run(str(path), **qiniu_env(fake, QINIU_SECRET_KEY="not-the-secret"))

    assert result.returncode == 4
    assert "upload failed" in result.stderr
    assert "status 401" in result.stderr and "bad token" in result.stderr
    assert re.search(r"reqid \S+", result.stderr)
    assert fake.objects == {}


def test_a_damaged_upload_exits_4_and_is_not_kept(fake, run, tmp_path):
    path, _ = video(tmp_path, 1000)
    fake.mode = "corrupt"

    result = run(str(path), "--key", "k.mp4", **qiniu_env(fake))

    assert result.returncode == 4
    assert "expected key 'k.mp4'" in result.stderr
    assert fake.objects == {}
