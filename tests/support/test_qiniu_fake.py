"""The Qiniu fake, exercised through the real qiniu SDK 7.18 with real upload/management tokens."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest
import qiniu
import qiniu.config as qiniu_config
import qiniu.http
import qiniu.http.regions_provider as regions_provider
import requests
from qiniu.services.storage.upload_progress_recorder import UploadProgressRecorder

from tests.support.qiniu import (
    BLOCK_SIZE,
    FakeQiniu,
    configure_sdk,
    loopback_only,
    qiniu_etag,
    qiniu_etag_v2,
    sample_mp4_bytes,
    sample_png_bytes,
    urlsafe_b64,
)

AK = "luffy-test-access-key"
SK = "luffy-test-secret-key"
BUCKET = "luffy-videos"
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _loopback_only():
    with loopback_only():
        yield


@pytest.fixture
def fake():
    with FakeQiniu(AK, SK, BUCKET) as server:
        yield server
    assert server.errors == []


@pytest.fixture
def records(tmp_path):
    folder = tmp_path / "upload-records"
    folder.mkdir()
    return folder


@pytest.fixture
def sdk(fake, records):
    """The SDK's globals pointed at the fake (SDK default threshold: resumable above 8 MiB)."""
    with configure_sdk(fake, record_folder=records) as zone:
        yield zone
    assert "query" not in fake.request_types()


@pytest.fixture
def small_sdk(fake, records):
    """Like `sdk`, but `put_file_v2` goes resumable above 1 MiB (keeps those tests small)."""
    with configure_sdk(fake, record_folder=records, upload_threshold=MIB) as zone:
        yield zone
    assert "query" not in fake.request_types()


@pytest.fixture
def auth():
    return qiniu.Auth(AK, SK)


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def error_of(info) -> str:
    return json.loads(info.text_body)["error"]


# --- hashes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, BLOCK_SIZE, BLOCK_SIZE + 1])
def test_qiniu_etag_equals_the_sdk_etag(tmp_path, size):
    data = random.randbytes(size)
    assert qiniu_etag(data) == qiniu.etag(str(write(tmp_path, "f.bin", data)))


def test_etag_v2_equals_v1_only_for_4mib_parts():
    data = random.randbytes(BLOCK_SIZE + 10)
    assert qiniu_etag_v2(data, [BLOCK_SIZE, 10]) == qiniu_etag(data)
    v2 = qiniu_etag_v2(data, [MIB, MIB, MIB, MIB, 10])
    assert v2 != qiniu_etag(data)
    assert v2.startswith("n")  # urlsafe base64 of the 0x9e prefix byte


# --- form upload ----------------------------------------------------------------------------------


def test_put_data_stores_the_bytes_and_answers_hash_and_key(fake, sdk, auth, tmp_path):
    data = b"lesson one notes\n" * 100
    token = auth.upload_token(BUCKET, "notes/1.txt", 3600)

    ret, info = qiniu.put_data(token, "notes/1.txt", data)

    assert info.ok(), info
    assert info.req_id
    assert ret == {"hash": qiniu.etag(str(write(tmp_path, "n.txt", data))), "key": "notes/1.txt"}
    assert fake.objects == {"notes/1.txt": data}
    [request] = fake.requests
    assert (request["type"], request["auth_ok"], request["status"]) == ("form", True, 200)


def test_put_data_without_key_stores_under_the_hash(fake, sdk, auth):
    ret, info = qiniu.put_data(auth.upload_token(BUCKET), None, b"anonymous")
    assert info.ok()
    assert ret["key"] == ret["hash"] == qiniu_etag(b"anonymous")
    assert fake.objects[ret["key"]] == b"anonymous"


def test_small_put_file_v2_is_a_form_upload_without_progress_calls(fake, sdk, auth, tmp_path):
    path = write(tmp_path, "intro.mp4", sample_mp4_bytes(MIB))
    calls = []

    ret, info = qiniu.put_file_v2(
        auth.upload_token(BUCKET, "v/intro.mp4"),
        "v/intro.mp4",
        str(path),
        version="v2",
        progress_handler=lambda done, total: calls.append((done, total)),
    )

    assert info.ok()
    assert ret["hash"] == qiniu.etag(str(path))
    assert fake.request_types() == ["form"]
    assert calls == []  # FormUploader stores progress_handler but never calls it
    assert fake.stat_info("v/intro.mp4")["mimeType"] == "video/mp4"


def test_return_body_and_custom_vars(fake, sdk, auth):
    policy = {
        "returnBody": '{"key":"$(key)","hash":"$(etag)","size":$(fsize),'
        '"mime":"$(mimeType)","title":"$(x:title)","bucket":"$(bucket)"}'
    }
    data = sample_png_bytes(2048)
    token = auth.upload_token(BUCKET, "img/cover.png", 3600, policy)

    ret, info = qiniu.put_data(token, "img/cover.png", data, params={"x:title": 'Vue "入门"'})

    assert info.ok(), info
    assert ret == {
        "key": "img/cover.png",
        "hash": qiniu_etag(data),
        "size": 2048,
        "mime": "image/png",
        "title": 'Vue "入门"',
        "bucket": BUCKET,
    }
    assert fake.object_info["img/cover.png"]["customVars"] == {"x:title": 'Vue "入门"'}


def test_form_upload_with_a_wrong_crc32_is_refused(fake, auth):
    token = auth.upload_token(BUCKET, "k", 3600)
    reply = requests.post(
        fake.url + "/",
        data={"token": token, "key": "k", "crc32": "12345"},
        files={"file": ("k", b"payload", "application/octet-stream")},
        timeout=5,
    )
    assert reply.status_code == 406
    assert reply.headers["X-Reqid"]
    assert fake.objects == {}


# --- credentials and scope ------------------------------------------------------------------------


def test_wrong_secret_key_is_refused(fake, sdk):
    token = qiniu.Auth(AK, "not-the-secret").upload_token(BUCKET, "k", 3600)

    ret, info = qiniu.put_data(token, "k", b"data")

    assert ret is None
    assert info.status_code == 401
    assert error_of(info) == "bad token"
    assert fake.objects == {}
    assert [r["auth_ok"] for r in fake.requests] == [False]


def test_wrong_access_key_is_refused(fake, sdk):
    token = qiniu.Auth("someone-else", SK).upload_token(BUCKET, "k", 3600)
    ret, info = qiniu.put_data(token, "k", b"data")
    assert (ret, info.status_code) == (None, 401)


def test_wrong_secret_key_is_refused_on_resumable_init(fake, small_sdk, tmp_path):
    path = write(tmp_path, "big.bin", random.randbytes(MIB + 1))
    token = qiniu.Auth(AK, "not-the-secret").upload_token(BUCKET, "big.bin", 3600)

    ret, info = qiniu.put_file_v2(token, "big.bin", str(path), version="v2")

    assert (ret, info.status_code) == (None, 401)
    assert fake.request_types() == ["init"]


def test_expired_upload_token_is_refused(fake, sdk, auth):
    token = auth.upload_token(BUCKET, "k", expires=-10)
    ret, info = qiniu.put_data(token, "k", b"data")
    assert (ret, info.status_code, error_of(info)) == (None, 401, "expired token")


def test_token_scope_is_enforced(fake, sdk, auth):
    _, info = qiniu.put_data(auth.upload_token(BUCKET, "a.mp4", 3600), "b.mp4", b"x")
    assert (info.status_code, error_of(info)) == (403, "key doesn't match with scope")

    _, info = qiniu.put_data(auth.upload_token("other-bucket", "a.mp4", 3600), "a.mp4", b"x")
    assert info.status_code == 631

    prefixal = auth.upload_token(BUCKET, "videos/", 3600, {"isPrefixalScope": 1})
    assert qiniu.put_data(prefixal, "videos/1.mp4", b"x")[1].ok()
    assert qiniu.put_data(prefixal, "images/1.png", b"x")[1].status_code == 403
    assert list(fake.objects) == ["videos/1.mp4"]


def test_bucket_scope_cannot_overwrite_but_key_scope_can(fake, sdk, auth):
    bucket_token = auth.upload_token(BUCKET, None, 3600)
    assert qiniu.put_data(bucket_token, "v.mp4", b"first")[1].ok()
    assert qiniu.put_data(bucket_token, "v.mp4", b"first")[1].ok()  # same content: fine

    ret, info = qiniu.put_data(bucket_token, "v.mp4", b"second")
    assert (ret, info.status_code, error_of(info)) == (None, 614, "file exists")

    assert qiniu.put_data(auth.upload_token(BUCKET, "v.mp4", 3600), "v.mp4", b"second")[1].ok()
    assert fake.objects["v.mp4"] == b"second"

    insert_only = auth.upload_token(BUCKET, "v.mp4", 3600, {"insertOnly": 1})
    assert qiniu.put_data(insert_only, "v.mp4", b"third")[1].status_code == 614


# --- put policy -----------------------------------------------------------------------------------


def test_fsize_limit_is_enforced(fake, sdk, auth):
    token = auth.upload_token(BUCKET, None, 3600, {"fsizeLimit": 100})

    assert qiniu.put_data(token, "ok.bin", b"x" * 100)[1].ok()
    ret, info = qiniu.put_data(token, "big.bin", b"x" * 101)

    assert (ret, info.status_code, error_of(info)) == (None, 413, "exceed FsizeLimit")
    assert list(fake.objects) == ["ok.bin"]


def test_fsize_limit_is_enforced_on_resumable_uploads(fake, small_sdk, auth, tmp_path):
    path = write(tmp_path, "big.bin", random.randbytes(2 * MIB))
    token = auth.upload_token(BUCKET, "big.bin", 3600, {"fsizeLimit": 2 * MIB - 1})

    ret, info = qiniu.put_file_v2(token, "big.bin", str(path), version="v2", part_size=MIB)

    assert (ret, info.status_code) == (None, 413)
    assert fake.request_types() == ["init", "part", "part", "complete"]
    assert fake.objects == {}


def test_mime_limit_uses_content_sniffing(fake, sdk, auth):
    token = auth.upload_token(BUCKET, None, 3600, {"mimeLimit": "video/*"})

    ret, info = qiniu.put_data(token, "ok.mp4", sample_mp4_bytes(4096))
    assert info.ok(), info

    ret, info = qiniu.put_data(token, "cover.png", sample_png_bytes())
    assert (ret, info.status_code) == (None, 403)
    assert error_of(info) == "limited mimeType: this file type (image/png) is forbidden to upload"

    noise = bytes(range(256)) * 16  # no magic number: sniffed as application/octet-stream
    ret, info = qiniu.put_data(token, "noise.mp4", noise, mime_type="video/mp4")
    assert info.status_code == 403  # neither the name nor the declared type count

    not_images = auth.upload_token(BUCKET, None, 3600, {"mimeLimit": "!image/*"})
    assert qiniu.put_data(not_images, "b.mp4", sample_mp4_bytes(100))[1].ok()
    assert qiniu.put_data(not_images, "b.png", sample_png_bytes())[1].status_code == 403
    assert sorted(fake.objects) == ["b.mp4", "ok.mp4"]


def test_declared_mime_type_is_kept_unless_detect_mime(fake, sdk, auth):
    token = auth.upload_token(BUCKET, None, 3600)
    qiniu.put_data(token, "a.bin", sample_png_bytes(), mime_type="image/x-custom")
    assert fake.stat_info("a.bin")["mimeType"] == "image/x-custom"

    detect = auth.upload_token(BUCKET, None, 3600, {"detectMime": 1})
    qiniu.put_data(detect, "b.bin", sample_png_bytes(), mime_type="image/x-custom")
    assert fake.stat_info("b.bin")["mimeType"] == "image/png"


# --- resumable upload v2 --------------------------------------------------------------------------


def test_large_file_goes_resumable_v2(fake, sdk, auth, tmp_path, records):
    assert qiniu_config.get_default("default_upload_threshold") == 8 * MIB
    data = sample_mp4_bytes(9 * MIB)
    path = write(tmp_path, "lesson.mp4", data)
    calls = []

    ret, info = qiniu.put_file_v2(
        auth.upload_token(BUCKET, "videos/lesson.mp4", 3600),
        "videos/lesson.mp4",
        str(path),
        version="v2",
        part_size=BLOCK_SIZE,
        progress_handler=lambda done, total: calls.append((done, total)),
    )

    assert info.ok(), info
    assert ret == {"hash": qiniu.etag(str(path)), "key": "videos/lesson.mp4"}
    assert fake.objects["videos/lesson.mp4"] == data
    assert sorted(fake.request_types()) == ["complete", "init", "part", "part", "part"]
    parts = fake.requests_of("part")
    assert sorted(p["part_number"] for p in parts) == [1, 2, 3]
    assert all(p["md5_ok"] and p["auth_ok"] for p in parts)
    assert len(calls) == 3
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (9 * MIB, 9 * MIB)
    assert fake.uploads == {}
    assert list(records.iterdir()) == []  # the resume record is deleted after success

    stat, info = qiniu.BucketManager(auth).stat(BUCKET, "videos/lesson.mp4")
    assert info.ok()
    assert (stat["fsize"], stat["hash"]) == (9 * MIB, ret["hash"])
    # put_file_v2 declares application/octet-stream, which means "unknown": the name decides
    assert stat["mimeType"] == "video/mp4"


def test_threshold_is_strictly_greater_than(fake, small_sdk, auth, tmp_path):
    exact = write(tmp_path, "exact.bin", random.randbytes(MIB))
    over = write(tmp_path, "over.bin", random.randbytes(MIB + 1))

    assert qiniu.put_file_v2(auth.upload_token(BUCKET), "exact", str(exact))[1].ok()
    assert fake.request_types() == ["form"]

    ret, info = qiniu.put_file_v2(auth.upload_token(BUCKET), "over", str(over), part_size=MIB)
    assert info.ok()
    assert sorted(fake.request_types()[1:]) == ["complete", "init", "part", "part"]
    # parts of 1 MiB + 1 byte are not "4 MiB parts": the hash is etag v2, not qiniu.etag()
    assert ret["hash"] == qiniu_etag_v2(over.read_bytes(), [MIB, 1]) != qiniu.etag(str(over))


def test_non_4mib_parts_give_an_etag_v2_hash(fake, small_sdk, auth, tmp_path):
    data = random.randbytes(3 * MIB + MIB // 2)
    path = write(tmp_path, "clip.bin", data)

    ret, info = qiniu.put_file_v2(
        auth.upload_token(BUCKET, "clip", 3600), "clip", str(path), part_size=MIB
    )

    assert info.ok(), info
    assert ret["hash"] == qiniu_etag_v2(data, [MIB, MIB, MIB, MIB // 2])
    assert ret["hash"] != qiniu.etag(str(path))
    assert qiniu.BucketManager(auth).stat(BUCKET, "clip")[0]["hash"] == ret["hash"]


def test_parts_under_1mib_are_rejected_at_complete(fake, small_sdk, auth, tmp_path):
    path = write(tmp_path, "x.bin", random.randbytes(MIB + MIB // 2))

    ret, info = qiniu.put_file_v2(
        auth.upload_token(BUCKET, "x", 3600), "x", str(path), part_size=MIB // 2
    )

    assert (ret, info.status_code) == (None, 400)
    assert "part too small" in error_of(info)
    assert fake.objects == {}


def test_failed_complete_is_resumed_from_the_progress_record(
    fake, small_sdk, auth, tmp_path, records
):
    data = random.randbytes(2 * MIB + 5)
    path = write(tmp_path, "resume.bin", data)
    token = auth.upload_token(BUCKET, "resume", 3600)
    fake.mode = "fail_complete"

    ret, info = qiniu.put_file_v2(token, "resume", str(path), part_size=MIB)

    assert (ret, info.status_code) == (None, 500)
    assert fake.objects == {}
    assert len(list(records.iterdir())) == 1  # the SDK keeps uploadId + part etags on disk
    assert sorted(fake.request_types()) == ["complete", "init", "part", "part", "part"]

    fake.mode = "ok"
    before = len(fake.requests)
    ret, info = qiniu.put_file_v2(token, "resume", str(path), part_size=MIB)

    assert info.ok(), info
    assert fake.request_types()[before:] == ["complete"]  # no new init, no part re-sent
    assert fake.objects["resume"] == data
    assert list(records.iterdir()) == []


def test_raw_v2_protocol_checks(fake, auth):
    token = auth.upload_token(BUCKET, "raw.bin", 3600)
    base = f"{fake.url}/buckets/{BUCKET}/objects/{urlsafe_b64('raw.bin')}/uploads"
    headers = {"Authorization": f"UpToken {token}"}

    assert requests.post(base, timeout=5).status_code == 401  # no token
    bad = qiniu.Auth(AK, "wrong").upload_token(BUCKET, "raw.bin", 3600)
    assert (
        requests.post(base, headers={"Authorization": f"UpToken {bad}"}, timeout=5).status_code
        == 401
    )

    init = requests.post(base, headers=headers, timeout=5)
    assert init.status_code == 200 and init.headers["X-Reqid"]
    upload_id = init.json()["uploadId"]
    assert init.json()["expireAt"] > time.time()

    part_url = f"{base}/{upload_id}/1"
    wrong_md5 = requests.put(
        part_url, data=b"abc", headers={**headers, "Content-MD5": "0" * 32}, timeout=5
    )
    assert wrong_md5.status_code == 400
    part = requests.put(part_url, data=b"abc", headers=headers, timeout=5)
    assert part.json()["etag"] == qiniu_etag(b"abc")

    wrong_etag = {"parts": [{"partNumber": 1, "etag": "nope"}]}
    assert (
        requests.post(
            f"{base}/{upload_id}", json=wrong_etag, headers=headers, timeout=5
        ).status_code
        == 400
    )

    assert requests.delete(f"{base}/{upload_id}", headers=headers, timeout=5).status_code == 200
    gone = requests.put(part_url, data=b"abc", headers=headers, timeout=5)
    assert (gone.status_code, gone.json()["error"]) == (612, "no such uploadId")
    assert [r["type"] for r in fake.requests] == [
        "init", "init", "init", "part", "part", "complete", "abort", "part",
    ]  # fmt: skip


# --- management -----------------------------------------------------------------------------------


def test_stat_and_delete_through_bucket_manager(fake, sdk, auth):
    before = time.time_ns() // 100
    qiniu.put_data(auth.upload_token(BUCKET, "v/1.mp4"), "v/1.mp4", sample_mp4_bytes(1000))
    manager = qiniu.BucketManager(auth)

    stat, info = manager.stat(BUCKET, "v/1.mp4")

    assert info.ok()
    assert stat["fsize"] == 1000
    assert stat["hash"] == qiniu_etag(fake.objects["v/1.mp4"])
    assert stat["mimeType"] == "video/mp4"
    assert stat["type"] == 0
    assert before <= stat["putTime"] <= time.time_ns() // 100  # 100-nanosecond units
    assert fake.requests_of("stat")[0]["auth_ok"] is True

    ret, info = manager.delete(BUCKET, "v/1.mp4")
    assert info.ok() and ret == {}
    assert fake.objects == {}

    ret, info = manager.stat(BUCKET, "v/1.mp4")
    assert (ret, info.status_code, error_of(info)) == (None, 612, "no such file or directory")
    assert manager.delete(BUCKET, "v/1.mp4")[1].status_code == 612


def test_management_with_a_wrong_secret_key_is_refused(fake, sdk):
    fake.put_object("keep.mp4", b"data")
    manager = qiniu.BucketManager(qiniu.Auth(AK, "not-the-secret"))

    assert manager.stat(BUCKET, "keep.mp4")[1].status_code == 401
    ret, info = manager.delete(BUCKET, "keep.mp4")

    assert (ret, info.status_code, error_of(info)) == (None, 401, "bad token")
    assert fake.objects == {"keep.mp4": b"data"}
    assert [r["auth_ok"] for r in fake.requests] == [False, False]


def test_legacy_qbox_signature_is_verified(fake, auth):
    fake.put_object("a.txt", b"hi")
    url = f"{fake.url}/stat/{urlsafe_b64(f'{BUCKET}:a.txt')}"

    ret, info = qiniu.http._post_with_auth(url, None, auth)
    assert info.ok() and ret["fsize"] == 2

    _, info = qiniu.http._post_with_auth(url, None, qiniu.Auth(AK, "wrong"))
    assert info.status_code == 401
    signed = "QBox " + auth.token_of_request(url)
    tampered = requests.post(url + "x", headers={"Authorization": signed}, timeout=5)
    assert tampered.status_code == 401


def test_per_call_regions_need_no_globals(fake, auth):
    region = fake.region()
    customized = dict(qiniu_config._is_customized_default)

    ret, info = qiniu.put_data(auth.upload_token(BUCKET, "r.txt"), "r.txt", b"r", regions=[region])
    assert info.ok(), info
    stat, info = qiniu.BucketManager(auth, regions=[fake.region()]).stat(BUCKET, "r.txt")
    assert info.ok() and stat["hash"] == ret["hash"]
    assert qiniu.BucketManager(auth, zone=fake.region()).delete(BUCKET, "r.txt")[1].ok()

    assert qiniu_config._is_customized_default == customized
    assert "query" not in fake.request_types()


# --- downloads ------------------------------------------------------------------------------------


def test_private_download_url(fake, auth):
    data = sample_mp4_bytes(1000)
    fake.put_object("videos/第1课.mp4", data)
    base = fake.download_url("videos/第1课.mp4")

    good = requests.get(auth.private_download_url(base, expires=3600), timeout=5)
    assert good.status_code == 200
    assert good.content == data
    assert good.headers["Content-Type"] == "video/mp4"
    assert good.headers["X-Reqid"]

    ranged = requests.get(
        auth.private_download_url(base, 3600), headers={"Range": "bytes=10-19"}, timeout=5
    )
    assert (ranged.status_code, ranged.content) == (206, data[10:20])

    expired = requests.get(auth.private_download_url(base, expires=-10), timeout=5)
    assert (expired.status_code, expired.json()["error"]) == (401, "token out of date")

    url = auth.private_download_url(base, 3600)
    deadline = url.split("e=")[1].split("&")[0]
    tampered = url.replace(f"e={deadline}", f"e={int(deadline) + 1}")
    assert requests.get(tampered, timeout=5).status_code == 401

    stranger = qiniu.Auth(AK, "wrong").private_download_url(base, 3600)
    assert requests.get(stranger, timeout=5).status_code == 401
    assert requests.get(base, timeout=5).status_code == 401

    fake.public = True
    assert requests.get(base, timeout=5).content == data
    assert [r["type"] for r in fake.requests] == ["download"] * 7


# --- fault modes ----------------------------------------------------------------------------------


def test_http500_mode_fails_fast_without_retry_storm(fake, small_sdk, auth, tmp_path):
    fake.mode = "http500"
    started = time.monotonic()

    ret, info = qiniu.put_data(auth.upload_token(BUCKET, "k"), "k", b"data")
    assert (ret, info.status_code, info.ok()) == (None, 500, False)
    assert info.need_retry()

    path = write(tmp_path, "big.bin", random.randbytes(MIB + 1))
    ret, info = qiniu.put_file_v2(auth.upload_token(BUCKET, "big"), "big", str(path))
    assert (ret, info.ok()) == (None, False)

    ret, info = qiniu.BucketManager(auth).stat(BUCKET, "k")
    assert (ret, info.ok()) == (None, False)

    assert fake.request_types() == ["form", "init", "stat"]  # one try each: a single host
    assert time.monotonic() - started < 5
    assert fake.objects == {}


def test_no_reqid_mode_is_ok_to_the_sdk_but_flagged(fake, sdk, auth):
    fake.put_object("a.txt", b"a")
    fake.mode = "no_reqid"

    ret, info = qiniu.put_data(auth.upload_token(BUCKET, "k"), "k", b"data")
    # Surprise: the uploaders still say ok() and return the body; only req_id/error tell.
    assert info.ok() is True
    assert ret == {"hash": qiniu_etag(b"data"), "key": "k"}
    assert (info.req_id, info.error) == (None, "server is not qiniu")
    assert info.connect_failed()

    ret, info = qiniu.BucketManager(auth).stat(BUCKET, "a.txt")
    assert ret is None  # the legacy qiniu.http helpers drop the body
    assert info.ok() is True and info.req_id is None


def test_garbage_mode_stores_nothing(fake, sdk, auth):
    fake.mode = "garbage"
    ret, info = qiniu.put_data(auth.upload_token(BUCKET, "k"), "k", b"data")
    assert ret == {}
    assert (info.ok(), info.req_id, info.error) == (True, None, "server is not qiniu")
    assert fake.objects == {}


# --- SDK configuration ----------------------------------------------------------------------------


def sdk_globals():
    return (
        dict(qiniu_config._config),
        dict(qiniu_config._is_customized_default),
        UploadProgressRecorder.__init__.__defaults__,
    )


def test_configure_sdk_sets_and_restores_the_globals(fake, tmp_path):
    before = sdk_globals()
    assert not qiniu_config.is_customized_default("default_zone")

    with configure_sdk(fake, upload_threshold=123, record_folder=tmp_path) as zone:
        assert qiniu_config.get_default("default_zone") is zone
        assert zone.up_host == zone.rs_host == fake.url
        assert qiniu_config.get_default("default_query_region_host") == fake.url
        assert qiniu_config.get_default("default_query_region_backup_hosts") == []
        assert qiniu_config.get_default("default_upload_threshold") == 123
        assert UploadProgressRecorder().record_folder == str(tmp_path)
        assert qiniu.BucketManager(qiniu.Auth(AK, SK)).zone is zone

    assert sdk_globals() == before
    assert not qiniu_config.is_customized_default("default_zone")
    assert qiniu_config.get_default("default_zone").up_host is None


def test_configure_sdk_restores_after_errors_and_nesting(fake, tmp_path):
    before = sdk_globals()
    with FakeQiniu(AK, SK, BUCKET) as other, configure_sdk(other):
        outer = sdk_globals()
        with pytest.raises(RuntimeError), configure_sdk(fake):
            assert qiniu_config.get_default("default_zone").up_host == fake.url
            raise RuntimeError("boom")
        assert sdk_globals() == outer
        assert qiniu_config.get_default("default_zone").up_host == other.url
    assert sdk_globals() == before


def test_unconfigured_sdk_queries_uc_and_raises(fake, auth, monkeypatch, tmp_path):
    # Keep the SDK's region cache (normally <tmp>/qn-py-sdk/regions-cache.jsonl) in tmp_path.
    scope = regions_provider._global_cache_scope._replace(
        persist_path=str(tmp_path / "regions.jsonl"), memo_cache={}
    )
    monkeypatch.setattr(regions_provider, "_global_cache_scope", scope)

    with pytest.raises(RuntimeError, match="Query regions failed"):
        qiniu.put_data(auth.upload_token(BUCKET, "k"), "k", b"data")
    with pytest.raises(RuntimeError, match="Query regions failed"):
        qiniu.BucketManager(auth).stat(BUCKET, "k")
    assert fake.requests == []


# --- concurrency ----------------------------------------------------------------------------------


def test_concurrent_uploads(fake, sdk, auth):
    payloads = {f"k{i}": random.randbytes(1000 + i) for i in range(12)}
    results = {}

    def upload(key):
        results[key] = qiniu.put_data(auth.upload_token(BUCKET, key), key, payloads[key])

    threads = [threading.Thread(target=upload, args=(k,)) for k in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert all(info.ok() for _, info in results.values())
    assert fake.objects == payloads
    assert len(fake.requests) == 12
