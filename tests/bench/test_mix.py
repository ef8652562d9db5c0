"""The mixed scenario's per-endpoint figures from recorded samples, and its request plan
(bench/mix.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import mix, zipf
from bench.mix import Sample


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert mix.percentile(values, 50) == 50.0
    assert mix.percentile(values, 99) == 99.0
    assert mix.percentile(values, 100) == 100.0
    assert mix.percentile([3.0], 99) == 3.0
    # Ranks round up: the median of 5 is the 3rd value, p99 of 150 the 149th (148.5 → 149).
    assert mix.percentile([float(v) for v in range(1, 6)], 50) == 3.0
    assert mix.percentile([float(v) for v in range(1, 151)], 99) == 149.0


def test_each_endpoint_gets_its_own_count_errors_and_latencies():
    samples = [Sample("detail", ms / 1000, True) for ms in range(1, 101)]
    samples += [Sample("login", 0.5, True), Sample("login", 0.7, False, "500 oops")]
    samples += [Sample("notify", 0.004, False, "200 failure")]
    stats = mix.summarize(samples, duration_s=10.0)

    assert list(stats) == ["detail", "login", "notify"]  # most requests first
    detail = stats["detail"]
    assert (detail.count, detail.errors) == (100, 0)
    assert detail.p50_ms == 50.0
    assert detail.p99_ms == 99.0
    assert detail.max_ms == 100.0
    assert detail.rps == 10.0
    assert detail.share_pct == pytest.approx(100 * 100 / 103, abs=0.05)
    assert detail.bad_sample == ""

    login = stats["login"]
    assert (login.count, login.errors, login.p50_ms, login.p99_ms) == (2, 1, 500.0, 700.0)
    assert login.bad_sample == "500 oops"
    assert stats["notify"].errors == 1
    assert stats["notify"].bad_sample == "200 failure"


def test_a_slow_endpoint_does_not_change_another_ones_percentiles():
    fast = [Sample("list", 0.002, True)] * 50
    slow = [Sample("login", 2.0, True)] * 50
    stats = mix.summarize(fast + slow, duration_s=1.0)
    assert stats["list"].p99_ms == 2.0
    assert stats["login"].p50_ms == 2000.0


def _workdir(tmp_path, courses=300):
    ids = list(range(1, courses + 1))
    zipf.write_table(tmp_path / "course_zipf.txt", ids)
    (tmp_path / "login.txt").write_text("".join(f'{{"username": "u{i}"}}\n' for i in range(8)))
    pay_lines = 16 + mix.PROBED_PAY_LINES  # the probe placed the last ones
    (tmp_path / "pay.txt").write_text(
        "".join(f'jwt t{i}\t{{"n": {i}}}\n' for i in range(pay_lines))
    )
    (tmp_path / "notify.txt").write_text("".join(f"out_trade_no={i}\n" for i in range(40)))
    (tmp_path / "progress.txt").write_text(
        "".join(f'jwt p{i}\t/api/v1/course/progress/{i}/\t{{"position": {i}}}\n' for i in range(16))
    )
    return tmp_path


def test_the_plan_follows_the_written_proportions(tmp_path):
    workload = mix.Workload(_workdir(tmp_path), 300, share=0, shares=8, seed=3)
    counts = Counter(workload.next().endpoint for _ in range(20_000))
    total = sum(mix.MIX_WEIGHTS.values())
    for name, weight in mix.MIX_WEIGHTS.items():
        assert counts[name] / 20_000 == pytest.approx(weight / total, abs=0.015), name


def test_threads_send_disjoint_notifies_from_the_end_of_the_file(tmp_path):
    workdir = _workdir(tmp_path)
    first = mix.Workload(workdir, 300, share=0, shares=8, seed=1)
    second = mix.Workload(workdir, 300, share=1, shares=8, seed=2)
    mine = [first._notify().body for _ in range(5)]
    theirs = [second._notify().body for _ in range(5)]
    assert mine[0] == b"out_trade_no=39"
    assert mine[:2] == [b"out_trade_no=39", b"out_trade_no=31"]
    assert not set(mine) & set(theirs)
    assert first._notify().expect_body == b"success"


def test_placements_come_from_the_end_of_the_file_before_the_lines_the_probe_placed(tmp_path):
    workload = mix.Workload(_workdir(tmp_path), 300, share=2, shares=8, seed=1)
    request = workload._pay()
    assert request.method == "POST"
    # Lines 16.. were placed by the probe; this thread's first is the 3rd from line 15 down.
    assert dict(request.headers)["Authorization"] == "jwt t13"
    assert request.body == b'{"n": 13}'


def test_the_mix_skips_as_many_placement_lines_as_the_probe_places():
    from bench import probe

    assert mix.PROBED_PAY_LINES == probe.SERVICE_RUNS


def test_list_pages_stay_within_the_catalog_and_search_words_are_url_encoded(tmp_path):
    workload = mix.Workload(_workdir(tmp_path), 35, share=0, shares=8, seed=1)
    pages = {workload._list().path for _ in range(200)}
    assert pages == {f"/api/v1/course/list/?page={n}" for n in (1, 2, 3)}
    paths = {workload._search().path for _ in range(500)}
    assert all(" " not in p and p.isascii() for p in paths)
    assert len(paths) > 40  # varied, so the page cache does not answer them all


def test_progress_reports_are_puts_of_each_threads_own_lines(tmp_path):
    workdir = _workdir(tmp_path)
    first = mix.Workload(workdir, 300, share=0, shares=8, seed=1)
    second = mix.Workload(workdir, 300, share=1, shares=8, seed=2)
    request = first._progress()
    assert (request.method, request.path) == ("PUT", "/api/v1/course/progress/0/")
    assert dict(request.headers)["Authorization"] == "jwt p0"
    assert request.body == b'{"position": 0}'
    assert first._progress().path == "/api/v1/course/progress/8/"
    assert second._progress().path == "/api/v1/course/progress/1/"
