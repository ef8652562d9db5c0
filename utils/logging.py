"""Log lines: one handler, ISO 8601 times with their zone, the request id on every line of a
request, plain text or JSON lines (LOG_FORMAT), and refused Host headers as one warning.

No field can forge a line: request text logged as it came (a notify's out_trade_no, a user
agent, a path) may hold a newline followed by something that looks like a record of its own.
The plain format escapes every control character of a record's line (`\n` becomes the two
characters backslash and n), and indents the lines of a traceback, so each record starts a
line and nothing else does. JSON lines escape them by construction (json.dumps).

Project code logs under the `luffy.` namespace (get_logger). luffy_api/settings.py wires these
classes into LOGGING; gunicorn.conf.py uses the same formatters for gunicorn's own lines.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime

from utils.request_id import current_request_id

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators some viewers break on.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape_controls(text: str) -> str:
    """`text` on one line: every control character written as its escape (\\n, \\x1b...)."""
    return _CONTROLS.sub(_escape, text)


def _indented_block(text: str) -> str:
    """A traceback or stack below its record: controls escaped line by line, every line
    indented, so an exception's message cannot start a line that looks like a record."""
    return "\n".join("    " + escape_controls(line) for line in text.split("\n"))


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
        """logging.Formatter.format, with the record's line escaped (every field of it) and
        its traceback and stack indented below."""
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = escape_controls(self.formatMessage(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + _indented_block(record.exc_text)
        if record.stack_info:
            line += "\n" + _indented_block(self.formatStack(record.stack_info))
        return line


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
