"""A shop of several machines, on loopback: gunicorn app nodes (gunicorn.conf.py) behind nginx
running deploy/nginx/luffy.conf, rendered with the drill's ports and paths (not a copy of it).

Used by tests/deploy/test_two_nodes.py; scripts/two_nodes.sh runs that drill on its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from utils.gunicorn_process import GunicornProcess

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx" / "luffy.conf"
NGINX = next((p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.path.exists(p)), "nginx")


def tail(path: Path, lines: int = 60) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Node:
    """One app node: its own gunicorn master and workers (and so its own per-worker caches)."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: GunicornProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 40.0) -> None:
        env = {**self.env, "GUNICORN_PROC_NAME": f"luffy-{self.name}"}
        env["GUNICORN_BIND"] = f"127.0.0.1:{self.port}"  # as deployed; --bind says the same
        conf = ["-c", str(ROOT / "gunicorn.conf.py")]
        self.process = GunicornProcess(conf, env=env, log_path=self.log, port=self.port)
        self.process.start(timeout)

    def kill(self) -> None:
        """SIGKILL the master and all its workers at once, as a machine dying would."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()

    def served(self, pattern: str = "") -> int:
        """Requests this node answered (its gunicorn access lines), optionally matching."""
        lines = self.log.read_text(errors="replace").splitlines()
        return sum(1 for x in lines if " gunicorn.access " in x and pattern in x)


def served_by(nodes: list[Node], pattern: str, total: int, timeout: float = 5.0) -> list[int]:
    """How many requests matching `pattern` each node answered, once their sum reaches `total`.

    gunicorn writes a request's access line after the answer has left, so a client can be
    faster than the last lines; give them a moment instead of reading a count that is short.
    """
    deadline = time.monotonic() + timeout
    while True:
        counts = [node.served(pattern) for node in nodes]
        if sum(counts) >= total or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


@dataclass
class Nginx:
    """nginx as root of a temporary prefix, running the project's site config."""

    port: int
    upstreams: list[int]
    prefix: Path
    static_root: Path
    media_root: Path
    proc: subprocess.Popen | None = None
    replaced: Counter = field(default_factory=Counter)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "luffy.access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "luffy.error.log"

    def render_site(self) -> str:
        """deploy/nginx/luffy.conf with this drill's ports and paths. Every substitution must
        hit as often as expected: if the file changes shape, the drill says so instead of testing a
        config that is not the one deployed."""
        text = NGINX_CONF.read_text()
        servers = "\n    ".join(
            f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in self.upstreams
        )
        substitutions = [
            (r"server 127\.0\.0\.1:8000 max_fails=1 fail_timeout=10s;", servers, 1),
            (r"listen 80;", f"listen 127.0.0.1:{self.port};", 1),
            (r"server_name shop\.example\.com;", "server_name 127.0.0.1;", 1),
            (r"alias /srv/luffy/staticfiles/;", f"alias {self.static_root}/;", 1),
            # /media/ and the internal /protected-media/ of signed video links
            (r"alias /srv/luffy/media/;", f"alias {self.media_root}/;", 2),
            (r"/var/log/nginx/luffy\.access\.log", str(self.access_log), 1),
            (r"/var/log/nginx/luffy\.error\.log", str(self.error_log), 1),
        ]
        expected = {pattern: hits for pattern, _r, hits in substitutions}
        for pattern, replacement, _hits in substitutions:
            text, count = re.subn(pattern, lambda _m, r=replacement: r, text)
            self.replaced[pattern] = count
        bad = {p: n for p, n in self.replaced.items() if n != expected[p]}
        assert not bad, f"deploy/nginx/luffy.conf changed shape: {bad}"
        return text

    def write_config(self) -> Path:
        self.prefix.mkdir(parents=True, exist_ok=True)
        (self.prefix / "luffy.conf").write_text(self.render_site())
        temp = self.prefix / "temp"
        temp.mkdir(exist_ok=True)
        # As root, workers would drop to `nobody` and lose access to this private prefix.
        user = "user root;\n" if os.geteuid() == 0 else ""
        main = f"""{user}worker_processes 1;
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.prefix}/luffy.conf;
}}
"""
        path = self.prefix / "nginx.conf"
        path.write_text(main)
        return path

    def command(self, *extra: str) -> list[str]:
        conf = self.write_config()
        return [
            NGINX,
            "-p",
            str(self.prefix),
            "-e",
            str(self.prefix / "error.log"),
            "-c",
            str(conf),
            *extra,
        ]

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)  # noqa: S603

    def start(self) -> None:
        command = self.command()
        log = self.prefix / "stderr.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - the system's nginx, our config
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, tail(log) + tail(self.prefix / "error.log")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not listen:\n" + tail(self.prefix / "error.log"))

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@dataclass
class Redis:
    """scripts/redis.sh on a port of its own."""

    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _script(self, action: str) -> None:
        subprocess.run(  # noqa: S603 - the project's own script
            [str(ROOT / "scripts" / "redis.sh"), action],
            env={**os.environ, "REDIS_PORT": str(self.port)},
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self._script("start")

    def stop(self) -> None:
        self._script("stop")
