"""A video's duration read from its MP4 header: the `mvhd` box inside `moov` (ISO/IEC 14496-12).

Only box headers are read (seeking over the media data), so a large upload costs a few reads.
Anything that is not a readable MP4 gives None; the caller keeps what staff typed. A header that
states a duration no lesson has (over MAX_DURATION: a crafted or broken file; `mvhd` version 1
holds 64 bits, up to 10**19 seconds, past what timedelta can hold) raises ImplausibleDuration,
which the admin shows as a form error.
"""

from __future__ import annotations

import contextlib
import struct
from datetime import timedelta
from typing import BinaryIO

_MAX_BOXES = 10_000  # a hostile file of tiny boxes cannot keep us busy
MAX_DURATION = timedelta(hours=24)  # a section's video; anything longer is not a lesson


class ImplausibleDuration(ValueError):
    """The MP4 header says the video lasts longer than MAX_DURATION."""


def _boxes(stream: BinaryIO, start: int, end: int | None):
    """(type, payload start, payload end) of each box in [start, end)."""
    pos = start
    for _ in range(_MAX_BOXES):
        if end is not None and pos + 8 > end:
            return
        stream.seek(pos)
        header = stream.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        head = 8
        if size == 1:  # 64-bit size follows
            big = stream.read(8)
            if len(big) < 8:
                return
            size, head = struct.unpack(">Q", big)[0], 16
        elif size == 0:  # to the end of the enclosing box (or file)
            if end is None:
                stream.seek(0, 2)
                size = stream.tell() - pos
            else:
                size = end - pos
        if size < head:
            return
        yield kind, pos + head, pos + size
        pos += size


def mp4_duration(stream: BinaryIO) -> timedelta | None:
    """The movie's duration from `moov/mvhd`, or None when the file has none (not an MP4).
    Raises ImplausibleDuration for a duration over MAX_DURATION."""
    try:
        stream.seek(0)
        moov = next(((s, e) for kind, s, e in _boxes(stream, 0, None) if kind == b"moov"), None)
        if moov is None:
            return None
        mvhd = next((s for kind, s, _e in _boxes(stream, *moov) if kind == b"mvhd"), None)
        return None if mvhd is None else _mvhd_duration(stream, mvhd)
    except (OSError, struct.error):
        return None
    finally:
        with contextlib.suppress(OSError):
            stream.seek(0)


def _mvhd_duration(stream: BinaryIO, start: int) -> timedelta | None:
    """The duration an `mvhd` box's payload at `start` gives (version 0 or 1)."""
    stream.seek(start)
    version = stream.read(1)
    stream.read(3)  # flags
    size, layout = (28, ">16xIQ") if version == b"\x01" else (16, ">8xII")
    data = stream.read(size)
    if len(data) < size:
        return None
    timescale, duration = struct.unpack(layout, data)
    if not timescale or duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    seconds = duration / timescale  # a float: no overflow, unlike timedelta
    if seconds > MAX_DURATION.total_seconds():
        raise ImplausibleDuration(f"mvhd duration of {seconds:.0f} s")
    return timedelta(seconds=seconds)


def format_duration(length: timedelta) -> str:
    """ "05:07", or "1:02:03" past an hour (seconds rounded)."""
    total = round(length.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def duration_seconds(text: str) -> int | None:
    """The seconds a `duration` as format_duration writes it ("05:07", "1:02:03") says; None
    when staff typed something else (or nothing): such a lesson has no known length."""
    parts = text.strip().split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds or None
