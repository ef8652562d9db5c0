"""A gunicorn master and its workers as one process group on 127.0.0.1, for the tools that start
the shop to measure or break it: the benchmark (bench/run.py) and the suite's drills
(tests/support/app_server.py, tests/deploy/cluster.py, tests/order/test_fault_drills.py).
The shop itself never imports this module.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


class GunicornFailed(RuntimeError):
    """gunicorn exited at start or never answered; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str, timeout: float) -> int | None:
    """The status of GET `url`, None when nothing answers (refused, reset, timed out)."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    conn = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        conn.request("GET", "/" + path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


class GunicornProcess:
    """`gunicorn ARGS` (plus `--bind` unless the args or env bind it) in its own session, so
    stopping or killing it reaches the master and every worker at once."""

    def __init__(
        self,
        args: list[str],
        *,
        env: dict[str, str],
        log_path: Path,
        port: int | None = None,
        ready_path: str = "/health/",
        ready_status: int | None = 200,
        cwd: Path = ROOT,
    ) -> None:
        self.args, self.env, self.log_path, self.cwd = args, env, log_path, cwd
        self.port = port or free_port()
        # Started once `ready_path` answers `ready_status` (None: any HTTP answer at all).
        self.ready_path, self.ready_status = ready_path, ready_status
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [str(GUNICORN), *self.args, f"--bind=127.0.0.1:{self.port}"]

    def start(self, timeout: float = 30.0) -> GunicornProcess:
        """Start it and return once it is ready (raises GunicornFailed)."""
        assert self.proc is None, "already started"  # noqa: S101
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts}: {' '.join(self.command())} ===\n".encode())
            log.flush()
            self.proc = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn (or manage.py)
                self.command(),
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the master and its workers
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise GunicornFailed(f"{self.url} exited at start:\n{self.log_tail()}")
            status = http_status(self.url + self.ready_path, timeout=5)
            if status is not None and self.ready_status in (None, status):
                return self
            time.sleep(0.1)
        raise GunicornFailed(f"{self.url} did not answer within {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful), then SIGKILL whatever is left of the group."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group we started, by its id
            proc.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a power cut would; returns when
        nothing listens on the port any more."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except OSError:
                return
            time.sleep(0.05)
        raise GunicornFailed(f"{self.url} still accepts connections after SIGKILL")

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc."""
        if self.proc is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> GunicornProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
