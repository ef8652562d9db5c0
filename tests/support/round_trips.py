"""Counting round trips to MariaDB at the driver: each request the client sends and waits for.

MariaDB's `Questions` counts statements, and a batch (utils/db/batch.py) or a BEGIN sent with
the first statement (utils/db/mysql) is several statements in one request. So the driver's
calls are counted: `query` (one request, however many statements it holds), `commit` and
`rollback` (one each). Reading further results of the same request (`next_result`) is not one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from django.db import connection


@dataclass
class RoundTrips:
    sent: list[str] = field(default_factory=list)  # what each request was (first 80 chars)

    @property
    def count(self) -> int:
        return len(self.sent)


@contextmanager
def counting_round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[RoundTrips]:
    """Count the requests this connection sends to the server inside the block."""
    connection.ensure_connection()
    raw = connection.connection
    trips = RoundTrips()

    def counted(name: str):
        real = getattr(type(raw), name)

        def call(self, *args):
            if self is raw:
                label = bytes(args[0])[:80].decode("utf-8", "replace") if args else name.upper()
                trips.sent.append(label)
            return real(self, *args)

        return call

    # On the class (the driver's connection refuses to lose an instance attribute), for this
    # connection only.
    with monkeypatch.context() as patch:
        for name in ("query", "commit", "rollback"):
            patch.setattr(type(raw), name, counted(name))
        yield trips
