"""Log lines as an operator reads them: one line per event, ISO times with their zone, the
request id on every line of a request, JSON lines on demand, refused Hosts as one warning."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client

from utils.logging import JsonFormatter, PlainFormatter

ROOT = Path(__file__).resolve().parents[2]
ISO_WITH_ZONE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
PLAIN_LINE = re.compile(
    rf"^(?P<time>{ISO_WITH_ZONE}) (?P<level>[A-Z]+) (?P<logger>\S+) "
    r"\[(?P<rid>[^\]]+)\] (?P<message>.*)$"
)
EMIT = """
import logging, django
django.setup()
logging.getLogger("django.request").warning("Not Found: /nowhere/")
logging.getLogger("django.server").info('"GET /x HTTP/1.1" 200 2')
logging.getLogger("luffy.order").info("order placed")
"""


def run_logging(**env: str) -> list[str]:
    """Configure logging as a real process does, write three lines, return stderr's lines."""
    base = {
        "PATH": os.environ["PATH"],
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
        "DJANGO_SECRET_KEY": "logging-test-key-" + "x" * 40,
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", EMIT],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


@pytest.mark.parametrize("debug", ["true", "false"])
def test_each_event_is_one_line_with_an_iso_time_and_zone(debug):
    lines = run_logging(DJANGO_DEBUG=debug)
    assert len(lines) == 3, lines  # Django's own console handlers used to print them twice
    parsed = [PLAIN_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["level"], m["logger"], m["rid"]) for m in parsed] == [
        ("WARNING", "django.request", "-"),
        ("INFO", "django.server", "-"),
        ("INFO", "luffy.order", "-"),
    ]
    assert parsed[2]["message"] == "order placed"


def test_log_format_json_writes_one_json_object_a_line():
    lines = run_logging(DJANGO_DEBUG="false", LOG_FORMAT="json")
    entries = [json.loads(line) for line in lines]
    assert [e["logger"] for e in entries] == ["django.request", "django.server", "luffy.order"]
    assert entries[0]["level"] == "WARNING" and entries[0]["message"] == "Not Found: /nowhere/"
    assert all(re.fullmatch(ISO_WITH_ZONE, e["time"]) for e in entries)
    assert all(e["request_id"] == "-" for e in entries)


def test_an_unknown_log_format_refuses_to_start():
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", EMIT],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "LUFFY_IGNORE_DOTENV": "1",
            "DJANGO_DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
            "LOG_FORMAT": "xml",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr


@pytest.fixture
def console():
    """What the configured console handler writes, while the test runs."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    out = io.StringIO()
    previous = handler.setStream(out)
    yield out
    handler.setStream(previous)


def lines_of(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


@pytest.mark.django_db
def test_a_request_logs_with_the_id_it_was_sent_and_echoes_it(console):
    response = Client().get("/api/v1/nowhere/", HTTP_X_REQUEST_ID="edge-7f3a9c01")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "edge-7f3a9c01"
    [line] = lines_of(console)
    match = PLAIN_LINE.match(line)
    assert match and match["rid"] == "edge-7f3a9c01" and match["level"] == "WARNING"
    assert match["message"] == "Not Found: /api/v1/nowhere/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sent",
    [None, "", "short", "has space in it", 'quote"d-id-1234', "x" * 129, "line\nbreak-1234"],
)
def test_a_missing_or_insane_request_id_is_replaced_by_a_fresh_one(console, sent):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    response = Client().get("/api/v1/nowhere/", **headers)
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = lines_of(console)
    assert PLAIN_LINE.match(line)["rid"] == request_id


@pytest.mark.django_db
def test_two_requests_get_different_ids_and_lines_outside_a_request_have_none(console):
    first = Client().get("/api/v1/nowhere/")["X-Request-ID"]
    second = Client().get("/api/v1/nowhere/")["X-Request-ID"]
    logging.getLogger("luffy.test").warning("between requests")
    assert first != second
    assert [PLAIN_LINE.match(line)["rid"] for line in lines_of(console)] == [first, second, "-"]


@pytest.mark.django_db
def test_a_bad_host_header_is_one_warning_line_without_a_traceback(console):
    response = Client().get(
        "/api/v1/course/category/", HTTP_HOST="evil.example", HTTP_X_REQUEST_ID="probe-000001"
    )
    assert response.status_code == 400
    assert response.json() == {"code": 400, "msg": "请求错误"}
    assert response["X-Request-ID"] == "probe-000001"
    lines = lines_of(console)
    assert len(lines) == 1, lines
    match = PLAIN_LINE.match(lines[0])
    assert (match["level"], match["logger"], match["rid"]) == (
        "WARNING",
        "django.security.DisallowedHost",
        "probe-000001",
    )
    assert "Invalid HTTP_HOST header: 'evil.example'" in match["message"]


FORGED = "A1\r\n2026-12-07T10:00 INFO paid\x1b[2J\u2028x"


@pytest.mark.django_db
def test_a_notify_cannot_forge_a_log_line_with_its_out_trade_no(console):
    """Before: the out_trade_no went into the line as it came, newline and all."""
    Client().post(
        "/api/v1/order/success/",
        urlencode({"out_trade_no": FORGED, "sign": "QUJD", "trade_status": "TRADE_SUCCESS"}),
        content_type="application/x-www-form-urlencoded",
    )

    lines = lines_of(console)
    notify = [line for line in lines if "Alipay notify for" in line]
    assert len(notify) == 1 and PLAIN_LINE.match(notify[0])
    assert "A1\\r\\n2026-12-07T10:00 INFO paid\\x1b[2J\\u2028x" in notify[0]
    assert not any(line.startswith("2026-12-07T10:00 INFO") for line in lines)


def test_every_field_of_a_plain_line_is_escaped_and_a_traceback_is_indented():
    formatter = PlainFormatter()
    try:
        raise ValueError("bad\nINFO forged line")
    except ValueError:
        record = logging.LogRecord(
            "luffy.x\n", logging.ERROR, __file__, 1, "got %s", ("a\tb\x00",), sys.exc_info()
        )
    record.request_id = "rid\r\n"

    first, *rest = formatter.format(record).split("\n")

    assert first.endswith("ERROR luffy.x\\n [rid\\r\\n] got a\\tb\\x00")
    assert rest and all(line.startswith("    ") for line in rest)
    assert rest[-2:] == ["    ValueError: bad", "    INFO forged line"]  # indented too
    assert not any(line.startswith("INFO") for line in rest)


def test_json_lines_stay_one_object_a_line():
    record = logging.LogRecord("luffy.x", logging.INFO, __file__, 1, "%s", (FORGED,), None)
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\r" not in line
    assert json.loads(line)["message"] == FORGED
