"""Log lines: one handler, ISO 8601 times with their zone, the request id on every line of a
request, plain text or JSON lines (LOG_FORMAT), and refused Host headers as one warning.

Project code logs under the `luffy.` namespace (get_logger). luffy_api/settings.py wires these
classes into LOGGING; gunicorn.conf.py uses the same formatters for gunicorn's own lines.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime

from utils.request_id import current_request_id


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"luffy.{name}")


class AtMostEvery:
    """Says yes at most once per `seconds` in this process: for a line about an outage, which
    every request would otherwise log while it lasts."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: float | None = None

    def due(self) -> bool:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        return True


def iso_time(record: logging.LogRecord) -> str:
    """2026-11-26T10:23:19.123+08:00: the server's local time with its offset from UTC."""
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record ("-" outside a request). On the handler, so
    every record is stamped, whichever logger wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class RefusedHostFilter(logging.Filter):
    """A request with a Host we do not serve is noise from scanners, not an error of ours:
    Django logs it at ERROR with a traceback; we keep one WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


class PlainFormatter(logging.Formatter):
    default_format = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

    def __init__(self, fmt: str | None = None, **kwargs) -> None:
        super().__init__(fmt or self.default_format, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_time(record)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers (LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": iso_time(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or current_request_id.get(),
            "message": record.getMessage(),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
