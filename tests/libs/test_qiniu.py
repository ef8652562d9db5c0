"""libs.qiniu through the real qiniu SDK against the local FakeQiniu (never the network)."""

from __future__ import annotations

import io
import re
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
import qiniu

from libs.qiniu import (
    FORM_UPLOAD_LIMIT,
    QiniuClient,
    QiniuConfigError,
    QiniuError,
    client_for,
    file_etag,
    settings_from_env,
    stream_etag,
)
from tests.support.media import AK, BUCKET, MIB, SK, keep_upload_records_in, qiniu_settings
from tests.support.qiniu import (
    qiniu_etag,
    sample_mp4_bytes,
    sample_png_bytes,
)

REQUIRED = {
    "QINIU_ACCESS_KEY": "ak",
    "QINIU_SECRET_KEY": "sk",
    "QINIU_BUCKET": "videos",
    "QINIU_DOMAIN": "https://video.example.com",
}
LARGE = FORM_UPLOAD_LIMIT + 1  # the smallest size that goes resumable


@pytest.fixture
def fake(fake_qiniu):
    return fake_qiniu  # tests/support/media.py


@pytest.fixture
def records(tmp_path, monkeypatch):
    folder = tmp_path / "upload-records"
    folder.mkdir()
    keep_upload_records_in(monkeypatch, folder)
    return folder


@pytest.fixture
def client(fake, records) -> QiniuClient:
    return QiniuClient(qiniu_settings(fake))


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def deadline_of(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["e"][0])


def assert_qiniu_error(exc: QiniuError, status: int, *, reqid: bool = True) -> None:
    """The status (and Qiniu's request id when there is one) are on the error and in its text."""
    assert exc.status == status
    assert f"status {status}" in str(exc)
    if reqid:
        assert exc.reqid
        assert f"reqid {exc.reqid}" in str(exc)
    else:
        assert exc.reqid is None
        assert "reqid" not in str(exc)


# --- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"QINIU_ACCESS_KEY": "", "QINIU_SECRET_KEY": "  ", "QINIU_BUCKET": "", "QINIU_DOMAIN": ""},
        {"QINIU_LINK_TTL": "60", "QINIU_PRIVATE_BUCKET": "false", "QINIU_UP_HOST": "up.example"},
    ],
    ids=["nothing", "blank", "only-optional"],
)
def test_no_required_variable_means_local_storage(env):
    assert settings_from_env(env) is None


@pytest.mark.parametrize(
    "given",
    [
        ["QINIU_ACCESS_KEY"],
        ["QINIU_ACCESS_KEY", "QINIU_SECRET_KEY", "QINIU_BUCKET"],
        ["QINIU_DOMAIN"],
        ["QINIU_SECRET_KEY", "QINIU_BUCKET"],
    ],
)
def test_half_configuration_names_the_missing_variables(given):
    env = {name: REQUIRED[name] for name in given}

    with pytest.raises(QiniuConfigError) as caught:
        settings_from_env(env)

    message = str(caught.value)
    asked = re.search(r"set (.*?) too", message)
    assert asked, message
    assert asked[1].split(", ") == [name for name in REQUIRED if name not in given]
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("ttl", ["soon", "1.5", "0", "-60", "1e3"])
def test_a_bad_link_ttl_is_refused(ttl):
    with pytest.raises(QiniuConfigError, match="QINIU_LINK_TTL"):
        settings_from_env({**REQUIRED, "QINIU_LINK_TTL": ttl})


def test_values_are_normalised():
    conf = settings_from_env(
        {
            "QINIU_ACCESS_KEY": "  ak ",
            "QINIU_SECRET_KEY": "sk\n",
            "QINIU_BUCKET": "videos",
            "QINIU_DOMAIN": "video.example.com/",
            "QINIU_UP_HOST": "up-z0.qiniup.com",
            "QINIU_RS_HOST": "http://rs.internal:8080/",
            "QINIU_LINK_TTL": " 600 ",
        }
    )

    assert conf is not None
    assert (conf.access_key, conf.secret_key, conf.bucket) == ("ak", "sk", "videos")
    assert conf.domain == "https://video.example.com"
    assert conf.up_host == "https://up-z0.qiniup.com"
    assert conf.rs_host == "http://rs.internal:8080"
    assert conf.link_ttl == 600
    assert conf.private is True  # private unless said otherwise


def test_defaults_and_public_bucket():
    conf = settings_from_env({**REQUIRED, "QINIU_DOMAIN": "http://cdn.example.com"})
    assert conf is not None
    assert (conf.domain, conf.link_ttl, conf.private) == ("http://cdn.example.com", 3600, True)
    assert (conf.up_host, conf.rs_host) == ("", "")
    for value in ("false", "0", "no", "off"):
        public = settings_from_env({**REQUIRED, "QINIU_PRIVATE_BUCKET": value})
        assert public is not None and public.private is False, value


def test_one_client_per_configuration(fake):
    conf = qiniu_settings(fake)
    assert client_for(conf) is client_for(qiniu_settings(fake))
    assert client_for(conf) is not client_for(qiniu_settings(fake, QINIU_LINK_TTL="5"))


# --- hashes ---------------------------------------------------------------------------------------


def test_local_hashes_equal_qiniu_etag(tmp_path):
    data = sample_mp4_bytes(4 * MIB + 10)  # two etag blocks
    path = write(tmp_path, "clip.mp4", data)
    stream = io.BytesIO(data)
    stream.seek(123)

    assert file_etag(path) == qiniu.etag(str(path)) == qiniu_etag(data)
    assert stream_etag(stream) == qiniu_etag(data)
    assert stream.tell() == 123  # the caller's position is kept


# --- uploads --------------------------------------------------------------------------------------


def test_small_file_is_one_form_upload(client, fake, tmp_path):
    data = sample_mp4_bytes(MIB)
    path = write(tmp_path, "intro.mp4", data)
    calls = []

    stored = client.upload_file(
        path, "videos/intro.mp4", mime_type="video/mp4", progress=lambda *a: calls.append(a)
    )

    assert (stored.key, stored.size) == ("videos/intro.mp4", MIB)
    assert stored.hash == qiniu.etag(str(path)) == fake.stat_info("videos/intro.mp4")["hash"]
    assert fake.objects == {"videos/intro.mp4": data}
    assert fake.request_types() == ["form"]
    assert calls and calls[-1] == (MIB, MIB)
    assert fake.stat_info("videos/intro.mp4")["mimeType"] == "video/mp4"


def test_large_file_goes_resumable_v2(client, fake, tmp_path, records):
    data = sample_mp4_bytes(LARGE)
    path = write(tmp_path, "lesson.mp4", data)
    calls = []

    stored = client.upload_file(path, "videos/lesson.mp4", progress=lambda *a: calls.append(a))

    assert stored.hash == qiniu.etag(str(path)) == fake.stat_info("videos/lesson.mp4")["hash"]
    assert stored.size == LARGE
    assert fake.objects["videos/lesson.mp4"] == data
    assert sorted(fake.request_types()) == ["complete", "init", "part", "part", "part"]
    assert sorted(p["part_number"] for p in fake.requests_of("part")) == [1, 2, 3]
    assert all(p["md5_ok"] and p["auth_ok"] for p in fake.requests_of("part"))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (LARGE, LARGE)
    assert fake.uploads == {}
    assert list(records.iterdir()) == []  # no resume record left behind


def test_small_stream_is_one_form_upload_from_the_start(client, fake):
    data = sample_mp4_bytes(200_000)
    stream = io.BytesIO(data)
    stream.seek(0, io.SEEK_END)  # wherever the caller left it, the whole stream goes up
    calls = []

    stored = client.upload_stream(
        stream, "videos/s.mp4", len(data), progress=lambda *a: calls.append(a)
    )

    assert stored.hash == qiniu_etag(data) == fake.stat_info("videos/s.mp4")["hash"]
    assert fake.objects["videos/s.mp4"] == data
    assert fake.request_types() == ["form"]
    assert calls and calls[-1] == (len(data), len(data))


def test_large_stream_goes_resumable_v2(client, fake, records):
    data = sample_mp4_bytes(LARGE)
    calls = []

    stored = client.upload_stream(
        io.BytesIO(data), "videos/big.mp4", LARGE, progress=lambda *a: calls.append(a)
    )

    assert stored.hash == qiniu_etag(data) == fake.stat_info("videos/big.mp4")["hash"]
    assert fake.objects["videos/big.mp4"] == data
    assert sorted(fake.request_types()) == ["complete", "init", "part", "part", "part"]
    assert calls[-1] == (LARGE, LARGE)
    assert list(records.iterdir()) == []


def test_upload_token_limits_are_enforced_by_qiniu(client, fake):
    small_only = client.upload_token(max_bytes=100)
    ret, info = qiniu.put_data(small_only, "a.bin", b"x" * 100, regions=client.regions)
    assert info.ok(), info
    ret, info = qiniu.put_data(small_only, "b.bin", b"x" * 101, regions=client.regions)
    assert (ret, info.status_code) == (None, 413)

    videos_only = client.upload_token("v.mp4", mime_limit="video/*")
    ret, info = qiniu.put_data(videos_only, "v.mp4", sample_png_bytes(), regions=client.regions)
    assert (ret, info.status_code) == (None, 403)
    ret, info = qiniu.put_data(videos_only, "v.mp4", sample_mp4_bytes(500), regions=client.regions)
    assert info.ok(), info
    # a token for one key is refused for another
    _, info = qiniu.put_data(videos_only, "w.mp4", sample_mp4_bytes(500), regions=client.regions)
    assert info.status_code == 403

    assert sorted(fake.objects) == ["a.bin", "v.mp4"]


# --- stat, delete ---------------------------------------------------------------------------------


def test_stat_present_and_missing(client, fake):
    data = sample_mp4_bytes(5000)
    before = time.time_ns() // 100
    fake.put_object("videos/a.mp4", data)

    info = client.stat("videos/a.mp4")

    assert info is not None
    assert (info.key, info.size, info.hash) == ("videos/a.mp4", 5000, qiniu_etag(data))
    assert info.mime_type == "video/mp4"
    assert before <= info.put_time <= time.time_ns() // 100
    assert client.stat("videos/missing.mp4") is None
    assert [r["auth_ok"] for r in fake.requests] == [True, True]


def test_delete_says_whether_something_was_deleted(client, fake):
    fake.put_object("videos/a.mp4", b"a")
    fake.put_object("videos/b.mp4", b"b")

    assert client.delete("videos/a.mp4") is True
    assert list(fake.objects) == ["videos/b.mp4"]
    assert client.delete("videos/a.mp4") is False
    assert list(fake.objects) == ["videos/b.mp4"]


# --- links ----------------------------------------------------------------------------------------


def test_public_bucket_gets_plain_urls(fake, records):
    client = QiniuClient(qiniu_settings(fake, QINIU_PRIVATE_BUCKET="false"))
    fake.public = True
    fake.put_object("videos/第1课 intro.mp4", b"public bytes")

    url = client.url("videos/第1课 intro.mp4")

    assert url == f"{fake.url}/videos/%E7%AC%AC1%E8%AF%BE%20intro.mp4"
    assert "token=" not in url and "e=" not in url
    assert fetch(url) == (200, b"public bytes")


def test_private_bucket_gets_signed_urls_that_qiniu_serves(fake, records):
    client = QiniuClient(qiniu_settings(fake, QINIU_LINK_TTL="600"))
    data = sample_mp4_bytes(3000)
    fake.put_object("videos/第1课.mp4", data)

    url = client.url("videos/第1课.mp4")

    assert url.startswith(f"{fake.url}/videos/%E7%AC%AC1%E8%AF%BE.mp4?e=")
    assert "&token=" in url
    assert abs(deadline_of(url) - (time.time() + 600)) <= 2
    assert fetch(url) == (200, data)
    assert fetch(url.split("?")[0])[0] == 401  # the bare URL is refused
    assert abs(deadline_of(client.url("videos/第1课.mp4", ttl=30)) - (time.time() + 30)) <= 2


def test_expired_links_are_refused(fake, records):
    client = QiniuClient(qiniu_settings(fake))
    fake.put_object("videos/a.mp4", b"paid")
    base = fake.download_url("videos/a.mp4")

    status, body = fetch(client.auth.private_download_url(base, expires=-10))
    assert (status, b"token out of date" in body) == (401, True)

    # A real one: wait for the start of a second so a 1 s link is surely valid at first.
    time.sleep(1.02 - time.time() % 1)
    url = client.url("videos/a.mp4", ttl=1)
    assert fetch(url) == (200, b"paid")
    time.sleep(deadline_of(url) + 1.1 - time.time())
    assert fetch(url)[0] == 401


def test_a_link_signed_with_another_secret_is_refused(fake, records):
    fake.put_object("videos/a.mp4", b"paid")
    stranger = QiniuClient(qiniu_settings(fake, QINIU_SECRET_KEY="not-the-secret"))
    assert fetch(stranger.url("videos/a.mp4"))[0] == 401


# --- failures -------------------------------------------------------------------------------------


def test_wrong_secret_key_fails_every_operation_with_status_and_reqid(fake, records, tmp_path):
    client = QiniuClient(qiniu_settings(fake, QINIU_SECRET_KEY="not-the-secret"))
    fake.put_object("keep.mp4", b"keep")
    path = write(tmp_path, "a.mp4", sample_mp4_bytes(1000))

    for operation in (
        lambda: client.upload_file(path, "a.mp4"),
        lambda: client.upload_stream(io.BytesIO(b"abc"), "b.mp4", 3),
        lambda: client.stat("keep.mp4"),
        lambda: client.delete("keep.mp4"),
    ):
        with pytest.raises(QiniuError) as caught:
            operation()
        assert_qiniu_error(caught.value, 401)
        assert "bad token" in str(caught.value)

    assert fake.objects == {"keep.mp4": b"keep"}
    assert [r["auth_ok"] for r in fake.requests] == [False] * 4


def test_server_errors_carry_status_and_reqid(client, fake, tmp_path):
    fake.put_object("keep.mp4", b"keep")
    path = write(tmp_path, "a.mp4", sample_mp4_bytes(1000))
    fake.mode = "http500"

    for action, operation in (
        ("upload", lambda: client.upload_file(path, "a.mp4")),
        ("upload", lambda: client.upload_stream(io.BytesIO(b"abc"), "b.mp4", 3)),
        ("stat", lambda: client.stat("keep.mp4")),
        ("delete", lambda: client.delete("keep.mp4")),
    ):
        with pytest.raises(QiniuError, match=f"Qiniu {action} failed") as caught:
            operation()
        assert_qiniu_error(caught.value, 500)
        assert "internal error" in str(caught.value)

    assert fake.objects == {"keep.mp4": b"keep"}


@pytest.mark.parametrize("mode", ["no_reqid", "garbage"])
def test_a_200_without_reqid_is_not_qiniu(client, fake, tmp_path, mode):
    """Proxies and captive portals answer 200 too; only Qiniu sends X-Reqid."""
    fake.put_object("keep.mp4", b"keep")
    path = write(tmp_path, "a.mp4", sample_mp4_bytes(1000))
    fake.mode = mode

    for operation in (
        lambda: client.upload_file(path, "a.mp4"),
        lambda: client.upload_stream(io.BytesIO(b"abc"), "b.mp4", 3),
        lambda: client.stat("keep.mp4"),
        lambda: client.delete("keep.mp4"),
    ):
        with pytest.raises(QiniuError, match="server is not qiniu") as caught:
            operation()
        assert_qiniu_error(caught.value, 200, reqid=False)


def test_unreachable_qiniu_says_cannot_connect(client, fake, tmp_path):
    path = write(tmp_path, "a.mp4", sample_mp4_bytes(1000))
    fake.stop()
    started = time.monotonic()

    for operation in (
        lambda: client.upload_file(path, "a.mp4"),
        lambda: client.upload_stream(io.BytesIO(b"abc"), "b.mp4", 3),
        lambda: client.stat("a.mp4"),
        lambda: client.delete("a.mp4"),
    ):
        with pytest.raises(QiniuError, match="cannot connect") as caught:
            operation()
        assert_qiniu_error(caught.value, -1, reqid=False)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("how", ["file", "stream"])
def test_a_stored_hash_that_differs_is_deleted_and_refused(client, fake, tmp_path, how):
    data = sample_mp4_bytes(2000)
    path = write(tmp_path, "a.mp4", data)
    fake.put_object("videos/other.mp4", b"other")
    fake.mode = "corrupt"  # the bytes arrive intact, Qiniu stores different ones

    expected = f"expected key 'videos/a.mp4' with hash {qiniu_etag(data)}"
    with pytest.raises(QiniuError, match=expected):
        if how == "file":
            client.upload_file(path, "videos/a.mp4")
        else:
            client.upload_stream(io.BytesIO(data), "videos/a.mp4", len(data))

    assert fake.request_types() == ["form", "delete"]
    assert fake.requests_of("delete")[0]["key"] == "videos/a.mp4"
    assert fake.objects == {"videos/other.mp4": b"other"}  # nothing half-stored


def test_the_corrupt_mode_really_stores_other_bytes(fake):
    """The fault mode the test above relies on (tests/support/qiniu.py)."""
    auth = qiniu.Auth(AK, SK)
    fake.mode = "corrupt"
    ret, info = qiniu.put_data(auth.upload_token(BUCKET, "k"), "k", b"abc", regions=[fake.region()])
    assert info.ok() and info.req_id
    assert fake.objects["k"] != b"abc"
    assert ret["hash"] == qiniu_etag(fake.objects["k"]) != qiniu_etag(b"abc")
