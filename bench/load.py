"""Run wrk against one endpoint and read its numbers (the JSON line bench/wrk/common.lua prints)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import config

MARKER = "BENCH_JSON "


class LoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class LoadResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int  # connect + read + write + timeout
    bad_responses: int  # non-2xx, or not the body the endpoint must answer (counted in Lua)
    bad_sample: str
    wraps: int  # times a thread ran out of pre-built bodies and started over

    @property
    def errors(self) -> int:
        return self.socket_errors + self.bad_responses

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "errors": self.errors}


def parse(stdout: str) -> LoadResult:
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise LoadError(f"wrk printed no {MARKER.strip()} line:\n{stdout[-2000:]}")
    raw = json.loads(line[len(MARKER) :])
    duration = raw["duration_us"] / 1e6
    return LoadResult(
        requests=raw["requests"],
        duration_s=round(duration, 3),
        rps=round(raw["requests"] / duration, 1) if duration else 0.0,
        p50_ms=round(raw["p50_us"] / 1000, 2),
        p90_ms=round(raw["p90_us"] / 1000, 2),
        p99_ms=round(raw["p99_us"] / 1000, 2),
        max_ms=round(raw["max_us"] / 1000, 2),
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        bad_responses=raw["bad"],
        bad_sample=raw["bad_sample"],
        wraps=raw["wraps"],
    )


def run_wrk(
    base_url: str,
    endpoint: config.Endpoint,
    args: list[str],
    log: Path,
    duration_s: int = config.WRK_DURATION_S,
) -> LoadResult:
    """wrk -t2 -c8 -d10s --latency with the endpoint's script; its output is kept in `log`."""
    command = [
        "wrk",
        f"-t{config.WRK_THREADS}",
        f"-c{config.WRK_CONNECTIONS}",
        f"-d{duration_s}s",
        f"--timeout={config.WRK_TIMEOUT_S}s",
        "--latency",
        "-s",
        endpoint.script,
        base_url + endpoint.path,
        "--",
        *args,
    ]
    completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
        command,
        cwd=config.WRK_DIR,
        capture_output=True,
        text=True,
        timeout=duration_s + config.WRK_TIMEOUT_S + 30,
        check=False,
    )
    log.write_text(f"$ {' '.join(command)}\n{completed.stdout}\n{completed.stderr}")
    if completed.returncode != 0:
        raise LoadError(f"wrk exited {completed.returncode}: {completed.stderr.strip()[-500:]}")
    return parse(completed.stdout)
