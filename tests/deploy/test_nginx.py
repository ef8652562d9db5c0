"""deploy/nginx/luffy.conf, run by the real nginx (rendered with test ports and paths): valid,
proxies to the app with X-Forwarded-* and a request id, serves static files itself, and
keeps answering when one of two app nodes is down."""

from __future__ import annotations

import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.app_server import http_request
from utils.gunicorn_process import free_port

from .cluster import NGINX, Nginx, Node, served_by

pytestmark = pytest.mark.skipif(
    not os.path.exists(NGINX), reason="nginx missing: scripts/bootstrap.sh --nginx"
)


def make_nginx(tmp_path, upstreams: list[int]) -> Nginx:
    static_root = tmp_path / "static"
    (static_root / "luffy").mkdir(parents=True)
    (static_root / "luffy" / "probe.txt").write_text("static from nginx\n")
    return Nginx(
        port=free_port(),
        upstreams=upstreams,
        prefix=tmp_path / "nginx",
        static_root=static_root,
        media_root=tmp_path / "media",
    )


def test_the_rendered_site_config_passes_nginx_t(tmp_path):
    result = make_nginx(tmp_path, [free_port(), free_port()]).check()
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


@pytest.fixture
def node(tmp_path):
    """One app node on an empty SQLite file (liveness and static files need no tables)."""
    env = {
        "PATH": os.environ["PATH"],
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_SECRET_KEY": "nginx-test-key-" + "z" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "NUM_PROXIES": "1",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
    }
    node = Node("a", free_port(), env, tmp_path / "node-a.log")
    node.start()
    yield node
    node.kill()


def test_nginx_proxies_with_a_request_id_serves_static_and_skips_a_dead_node(tmp_path, node):
    dead = free_port()  # a second node that is down: nobody listens there
    nginx = make_nginx(tmp_path, [dead, node.port])
    nginx.start()
    try:
        answers = [http_request("GET", nginx.url + "/health/") for _ in range(6)]
        static = http_request("GET", nginx.url + "/static/luffy/probe.txt")
    finally:
        nginx.stop()
    assert [a.status for a in answers] == [200] * 6  # the dead node costs no request
    assert static.body == b"static from nginx\n"
    assert node.served("/static/") == 0
    # X-Forwarded-For: came by nginx. Counted once gunicorn has written its access lines (it
    # writes each after the answer left: on a loaded host the sixth was not there yet).
    assert served_by([node], '] 127.0.0.1 "GET /health/', 6) == [6]
    # nginx's $request_id reached the app (its access line) and came back in the answer.
    access = nginx.access_log.read_text()
    ids = re.findall(r"rid=([0-9a-f]{32})", access)
    assert len(ids) == 6  # static files are not logged (access_log off)
    app_lines = node.log.read_text()
    assert all(f"[{rid}]" in app_lines for rid in ids)
    assert "connect() failed (111: Connection refused)" in nginx.error_log.read_text()


class SignedLinkApp(BaseHTTPRequestHandler):
    """Stands for the app behind /media/signed/: `good` passes the checks (X-Accel-Redirect to
    the internal location, as MEDIA_ACCEL_REDIRECT makes it answer), anything else is a 403."""

    def do_GET(self) -> None:
        if self.path == "/media/signed/good/":
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("X-Accel-Redirect", "/protected-media/videos/lesson.mp4")
        else:
            self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def signed_link_app():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SignedLinkApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join()


def test_media_is_served_as_files_and_videos_only_through_checked_signed_links(
    tmp_path, signed_link_app
):
    nginx = make_nginx(tmp_path, [signed_link_app])
    media = nginx.media_root
    (media / "videos").mkdir(parents=True)
    (media / "demo").mkdir()
    (media / "videos" / "lesson.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"v" * 100)
    (media / "demo" / "lesson.mp4").write_bytes(b"demo video")
    (media / "evil.html").write_text("<script>alert(document.domain)</script>")
    (media / "evil.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    (media / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    nginx.start()
    try:
        get = {
            path: http_request("GET", nginx.url + path)
            for path in [
                "/media/evil.html",
                "/media/evil.svg",
                "/media/cover.png",
                "/media/videos/lesson.mp4",
                "/media/demo/lesson.mp4",
                "/protected-media/videos/lesson.mp4",
                "/media/signed/good/",
                "/media/signed/forged/",
            ]
        }
        ranged = http_request(
            "GET", nginx.url + "/media/signed/good/", headers={"Range": "bytes=0-9"}
        )
    finally:
        nginx.stop()
    for page in ("/media/evil.html", "/media/evil.svg"):  # a download, never a page
        answer = get[page]
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "application/octet-stream"
        assert answer.headers["Content-Disposition"] == "attachment"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in answer.headers["Content-Security-Policy"]
    picture = get["/media/cover.png"]
    assert picture.headers["Content-Type"] == "image/png"
    assert picture.headers["Content-Disposition"] == "inline"
    # videos: never at their plain path, nor at the internal one
    for path in ("/media/videos/lesson.mp4", "/media/demo/lesson.mp4"):
        assert get[path].status == 404
    assert get["/protected-media/videos/lesson.mp4"].status == 404
    # a checked signed link: nginx sends the file, with ranges
    video = get["/media/signed/good/"]
    assert video.status == 200 and video.body.startswith(b"\x00\x00\x00\x18ftyp")
    assert video.headers["Content-Type"] == "video/mp4"
    assert video.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Accel-Redirect" not in video.headers
    assert ranged.status == 206 and ranged.body == b"\x00\x00\x00\x18ftypmp"
    assert get["/media/signed/forged/"].status == 403


def _get_from(source: str, port: int, path: str) -> int:
    """The status of a GET sent from the loopback address `source` (not 127.0.0.1)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        head = s.recv(1024).decode("latin-1")
    return int(head.split()[1])


def test_readiness_is_only_for_internal_addresses_and_liveness_for_all(tmp_path, node):
    """Before: /health/ready/ (a migration plan, a cache and a storage write per request) was
    answered to anyone. 127.0.0.2 stands for an outside client: not in the allow list."""
    nginx = make_nginx(tmp_path, [node.port])
    nginx.start()
    try:
        outside_ready = _get_from("127.0.0.2", nginx.port, "/health/ready/")
        outside_live = _get_from("127.0.0.2", nginx.port, "/health/")
        inside_ready = http_request("GET", nginx.url + "/health/ready/")
    finally:
        nginx.stop()
    assert outside_ready == 403
    assert outside_live == 200
    # Passed on to the app (its empty database has no tables yet: not ready).
    assert inside_ready.status in (200, 503)
    assert node.served("/health/ready/") == 1
