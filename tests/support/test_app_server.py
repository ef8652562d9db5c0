"""tests/support/app_server.py's http_request: every broken connection is an OSError, which the
drills count as a request the server never answered."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.support.app_server import http_request


def _server_answering(raw: bytes) -> tuple[str, threading.Thread]:
    """A one-shot server on loopback: reads the request, sends `raw`, closes the connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(raw)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{port}/x", thread


def test_a_whole_answer_is_returned():
    url, thread = _server_answering(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsuccess")
    answer = http_request("POST", url, body="a=1")
    thread.join(5)
    assert (answer.status, answer.body) == (200, b"success")


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n",  # killed after the headers
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsuc",  # killed mid-body
        b"",  # killed before answering
    ],
    ids=["no-body", "half-body", "nothing"],
)
def test_an_answer_cut_short_is_an_oserror(raw):
    url, thread = _server_answering(raw)
    with pytest.raises(OSError):
        http_request("POST", url, body="a=1", timeout=5)
    thread.join(5)
