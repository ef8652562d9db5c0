"""Targets, and the results as Markdown, JSON and a latency plot under bench/results/."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import config

CATALOG_MIN_CEILING_RATIO = 0.5
RSA_MAX_RATIO = 3.0
GROWTH_MAX_RATIO = 1.5
RSA_OPS = {"pay": ("sign_ms", "one RSA2 signature"), "notify": ("verify_ms", "one RSA2 verify")}


@dataclass(frozen=True)
class Target:
    target: str
    endpoint: str
    size: str
    measured: float
    limit: float
    passed: bool
    note: str = ""


def _endpoints(results: dict[str, Any], size: str) -> dict[str, Any]:
    return results["sizes"][size]["endpoints"]


def evaluate(results: dict[str, Any]) -> list[Target]:
    targets: list[Target] = []
    sizes = list(results["sizes"])
    for size in sizes:
        rows = _endpoints(results, size)
        for ep in config.ENDPOINTS:
            r = rows.get(ep.name)
            if r is None:
                continue
            if ep.catalog:
                ratio = r["ceiling_ratio"]
                targets.append(
                    Target(
                        "catalog read >= 0.5x ceiling req/s",
                        ep.name,
                        size,
                        ratio,
                        CATALOG_MIN_CEILING_RATIO,
                        ratio >= CATALOG_MIN_CEILING_RATIO,
                    )
                )
            if ep.name in RSA_OPS:
                ratio = r["rsa_ratio"]
                targets.append(
                    Target(
                        f"p50 <= 3x {RSA_OPS[ep.name][1]}",
                        ep.name,
                        size,
                        ratio,
                        RSA_MAX_RATIO,
                        ratio <= RSA_MAX_RATIO,
                    )
                )
            targets.append(
                Target(
                    "zero errors",
                    ep.name,
                    size,
                    r["errors"],
                    0,
                    r["errors"] == 0,
                    r["bad_sample"] if r["errors"] else "",
                )
            )
    if "small" in sizes and "large" in sizes:
        for ep in config.ENDPOINTS:
            small = _endpoints(results, "small").get(ep.name)
            large = _endpoints(results, "large").get(ep.name)
            if small and large and small["p50_ms"] > 0:
                ratio = large["p50_ms"] / small["p50_ms"]
                targets.append(
                    Target(
                        "large p50 <= 1.5x small p50",
                        ep.name,
                        "large/small",
                        round(ratio, 2),
                        GROWTH_MAX_RATIO,
                        ratio <= GROWTH_MAX_RATIO,
                    )
                )
    return targets


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _queries(r: dict[str, Any]) -> str:
    first, repeat = r.get("queries_first"), r.get("queries_repeat")
    if first is None:
        return "?"
    return str(first) if first == repeat else f"{first} → {repeat}"


def markdown(results: dict[str, Any], targets: list[Target]) -> str:
    setup = results["setup"]
    machine = results["machine"]
    out = [
        "# Luffy API benchmark (`make bench`)",
        "",
        f"Generated {results['generated_at']} in {results['wall_s']:.0f} s wall time "
        f"on {machine['cpus']} × {machine['cpu_model']}, {machine['mem_gb']:.0f} GB, "
        f"Python {machine['python']}, {machine['mariadb']}. Overwritten by every run.",
        "",
        f"gunicorn {setup['workers']} {setup['worker_class']} workers on 127.0.0.1 (production "
        f"settings, DB_CONN_MAX_AGE={setup['conn_max_age']}); MariaDB on 127.0.0.1:"
        f"{setup['mariadb_port']} (buffer pool {setup['buffer_pool']}); "
        f"`wrk {setup['wrk']}` per endpoint, all on the same {machine['cpus']} cores.",
        "",
        "## Results",
        "",
        "| endpoint | size | req/s | p50 ms | p99 ms | errors | SQL/req | × ceiling "
        "| p50 / RSA op | 1 req ms | other CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for ep in config.ENDPOINTS:
        for size, data in results["sizes"].items():
            r = data["endpoints"].get(ep.name)
            if r is None:
                continue
            rsa = f"{r['rsa_ratio']:.1f}×" if "rsa_ratio" in r else ""
            out.append(
                f"| {ep.label} | {size} | {_fmt(r['rps'])} | {_fmt(r['p50_ms'])} | "
                f"{_fmt(r['p99_ms'])} | {r['errors']} | {_queries(r)} | "
                f"{r['ceiling_ratio']:.2f} | {rsa} | {_fmt(r['single_request_ms'])} | "
                f"{r['other_cpu_pct']:.0f}% |"
            )
    out += [
        "",
        "SQL/req: statements per request measured in-process (django.test.Client on the same "
        "database, queries captured), first call → identical second call (warm per-process "
        "caches; for the notify a redelivery). Errors: socket errors + non-2xx + (notify) a "
        "body other than `success`. p50 / RSA op: placement's p50 over one RSA2 signature, "
        "the notify's over one RSA2 verification (median CPU time in-process). 1 req ms: median "
        "time of one request at a time in-process (no HTTP, no queueing; distinct ids for "
        "detail/chapters, i.e. cache misses; for the notify a redelivery). Other CPU: share of "
        "the machine's CPU used by processes "
        "outside the benchmark during the run (other work on the machine).",
        "",
        "## Targets",
        "",
        "| target | endpoint | size | measured | limit | result |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    for t in targets:
        note = f" ({t.note})" if t.note else ""
        out.append(
            f"| {t.target} | {t.endpoint} | {t.size} | {_fmt(t.measured)} | {_fmt(t.limit)} | "
            f"{'PASS' if t.passed else '**FAIL**'}{note} |"
        )
    passed = sum(t.passed for t in targets)
    out += ["", f"{passed} of {len(targets)} targets pass."]
    sizes = results["sizes"]
    if "small" in sizes and "large" in sizes:
        small, large = (sizes[s]["endpoints"]["ceiling"]["p50_ms"] for s in ("small", "large"))
        out += [
            "",
            f"Noise check: the ceiling view touches no data, yet its p50 large/small is "
            f"{large / small:.2f}; a ratio far from 1 means the machine's load changed between "
            f"the runs (see the other CPU column), not the data size.",
        ]
    out += ["", "## Per size", ""]
    for data in results["sizes"].values():
        rsa, cpu = data["rsa"], data["seed_cpu_s"]
        rss = data["rss_kb"]
        rows = ", ".join(f"{table} {n:,}" for table, n in data["rows"].items())
        outcomes = ", ".join(f"{k} {v:,}" for k, v in data["notify_outcomes"].items())
        out += [
            f"### {data['label']}",
            "",
            f"- rows: {rows}",
            f"- migrate {data['migrate_s']:.1f} s, seed {data['seed_s']:.1f} s, request files "
            f"{data['fixtures_s']:.1f} s; the whole step cost {cpu['python']:.0f} CPU-s of "
            f"Python and {cpu['mariadb']:.0f} of MariaDB while other processes used "
            f"{data['seed_other_cpu_pct']:.0f}% of the machine",
            f"- RSA2 ({rsa['key_bits']}-bit, Cryptodome as the SDK), median CPU time: sign "
            f"{rsa['sign_ms']:.2f} ms ({rsa['sign_runs']} runs; wall {rsa['sign_wall_ms']:.2f}), "
            f"verify {rsa['verify_ms']:.3f} ms ({rsa['verify_runs']} runs; wall "
            f"{rsa['verify_wall_ms']:.3f})",
            f"- gunicorn workers' peak RSS (VmHWM): "
            f"{', '.join(f'{kb / 1024:.0f}' for kb in rss['workers'])} MiB "
            f"(master {rss['master'] / 1024:.0f} MiB)",
            f"- notifies logged by outcome: {outcomes}; orders placed during the run: "
            f"{data['orders_placed']:,}",
            "",
        ]
        scans = [(name, scan) for name, r in data["probe"].items() for scan in r["full_scans"]]
        if scans:
            out += [
                "Full scans (EXPLAIN type ALL/index over ≥ 1,000 rows) in the probed requests:",
                "",
                "| request | table | type | key | rows | statement |",
                "| --- | --- | --- | --- | ---: | --- |",
            ]
            for name, s in scans:
                sql = s["sql"].replace("|", "\\|").replace("\n", " ")[:220]
                out.append(
                    f"| {name} | {s['table']} | {s['type']} | {s['key'] or ''} | "
                    f"{s['rows']:,} | `{sql}` |"
                )
            out.append("")
        else:
            out += ["No full scans over 1,000 rows in the probed requests.", ""]
    return "\n".join(out)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(results["sizes"])
    labels = [
        f"{s}\n{results['sizes'][s]['courses']:,} courses\n{results['sizes'][s]['orders']:,} orders"
        for s in sizes
    ]
    fig, ax = plt.subplots(figsize=(11, 6), dpi=110)
    for ep in config.ENDPOINTS:
        values = [results["sizes"][s]["endpoints"].get(ep.name, {}).get("p50_ms") for s in sizes]
        if any(v is None for v in values):
            continue
        ax.plot(range(len(sizes)), values, marker="o", label=ep.label)
    ax.set_yscale("log")
    ax.set_xticks(range(len(sizes)), labels)
    ax.set_ylabel("p50 latency (ms, log scale)")
    ax.set_title(
        f"p50 latency per endpoint vs catalog/order size "
        f"(wrk -c{config.WRK_CONNECTIONS}, {results['setup']['workers']} gunicorn workers)"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(results: dict[str, Any], directory: Path) -> list[Target]:
    targets = evaluate(results)
    results = {**results, "targets": [asdict(t) for t in targets]}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    )
    (directory / "results.md").write_text(markdown(results, targets) + "\n")
    plot(results, directory / "latency.png")
    return targets
