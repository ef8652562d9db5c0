"""The targets `make bench` prints: ratios, limits, PASS/FAIL, and "n/a" when a figure is
missing (bench/report.py, bench/config.py)."""

from __future__ import annotations

import json

import pytest

from bench import config, report


def _row(rps, ceiling_rps=4_000.0, errors=0, p50_ms=5.0):
    return {
        "rps": rps,
        "ceiling_ratio": round(rps / ceiling_rps, 5),
        "errors": errors,
        "bad_sample": "500 boom" if errors else "",
        "p50_ms": p50_ms,
    }


def _size(**overrides):
    endpoints = {
        "ceiling": _row(4_000.0),
        "list": _row(3_000.0),
        "detail": _row(2_400.0),
        "chapters": _row(1_000.0),
        "detail_zipf": _row(3_000.0),
        "chapters_zipf": _row(2_100.0),
        "search": _row(2_800.0),
        "pay": _row(500.0),
        "notify": _row(500.0),
        "login": _row(40.0),
        "progress": _row(2_200.0),
    }
    data = {
        "endpoints": endpoints,
        "rsa": {"sign_ms": 1.8, "verify_ms": 0.6},
        "probe_costs": {
            "commit_ms": 1.0,
            "single_request_ms": {"notify_first": 2.5, "notify": 3.2, "pay": 6.0},
        },
    }
    data.update(overrides)
    return data


def _find(targets, endpoint, size, starts):
    found = [
        t
        for t in targets
        if t.endpoint == endpoint and t.size == size and t.target.startswith(starts)
    ]
    assert len(found) == 1, [t for t in targets if t.endpoint == endpoint]
    return found[0]


def test_the_tutorials_share_of_the_ceiling_comes_from_the_issues_table():
    # Issue 12: notify 371 req/s at 0.6x the tutorial, ceiling 4,200 req/s.
    assert config.tutorial_ceiling_ratio("notify", "small") == pytest.approx(371 / 0.6 / 4200)
    assert config.tutorial_ceiling_ratio("notify", "small") == pytest.approx(0.147, abs=0.001)
    assert config.tutorial_ceiling_ratio("login", "small") == pytest.approx(8.5 / 0.29 / 4200)
    # Placement must reach 1.5x the tutorial's share.
    assert config.tutorial_target("pay", "large") == pytest.approx(1.5 * 318 / 1.1 / 4200)
    assert config.tutorial_target("notify", "large") == pytest.approx(421 / 0.7 / 4200)


def test_detail_and_chapters_pass_at_half_the_ceiling_uniform_and_zipf():
    targets = report.evaluate({"sizes": {"small": _size()}})
    assert _find(targets, "detail", "small", "catalog").status == "PASS"  # 0.6
    assert _find(targets, "detail_zipf", "small", "catalog").status == "PASS"
    chapters = _find(targets, "chapters", "small", "catalog")
    assert (chapters.measured, chapters.limit, chapters.status) == (0.25, 0.5, "FAIL")
    assert _find(targets, "chapters_zipf", "small", "catalog").status == "PASS"  # 0.525


def test_progress_reports_pass_at_half_the_ceiling():
    data = _size()
    targets = report.evaluate({"sizes": {"large": data}})
    assert _find(targets, "progress", "large", "progress reports").status == "PASS"  # 0.55
    data["endpoints"]["progress"] = _row(1_600.0)
    slow = _find(report.evaluate({"sizes": {"large": data}}), "progress", "large", "progress")
    assert (slow.measured, slow.limit, slow.status) == (0.4, 0.5, "FAIL")
    del data["endpoints"]["progress"]  # a result from before the scenario: no target
    assert not [t for t in report.evaluate({"sizes": {"large": data}}) if t.endpoint == "progress"]


def test_notify_placement_and_login_are_compared_with_the_tutorials_share():
    data = _size()
    data["endpoints"]["notify"] = _row(500.0)  # 0.125 < 0.147
    data["endpoints"]["pay"] = _row(400.0)  # 0.1 >= 1.5 x 0.0639 = 0.0958
    data["endpoints"]["login"] = _row(27.0)  # 0.00675 < 0.00698
    targets = report.evaluate({"sizes": {"small": data}})
    notify = _find(targets, "notify", "small", "req/s / ceiling")
    assert notify.limit == pytest.approx(0.1472, abs=1e-4)
    assert notify.status == "FAIL"
    assert "371 / 0.6 / 4,200" in notify.note
    pay = _find(targets, "pay", "small", "req/s / ceiling")
    assert pay.status == "PASS"
    assert "x 1.5" in pay.note
    assert _find(targets, "login", "small", "req/s / ceiling").status == "FAIL"


def test_single_request_costs_are_printed_not_judged():
    costs = {
        "commit_ms": 0.2,
        "single_request_ms": {
            "notify_first": 2.0,
            "notify": 1.1,
            "pay": 2.5,
            "ceiling": 0.19,
        },
        "single_request_db_ms": {"notify_first": 0.9, "notify": 0.38},
    }
    targets = report.evaluate({"sizes": {"small": _size(probe_costs=costs)}})
    assert not [t for t in targets if t.target.startswith("1 request")]
    printed = report._costs(costs)
    assert "notify first delivery 2.00 ms (MariaDB 0.9)" in printed
    assert "redelivery 1.10 ms (MariaDB 0.38)" in printed
    assert "placement 2.50 ms" in printed


def test_an_older_result_without_probe_costs_still_reports():
    data = _size()
    del data["probe_costs"]
    targets = report.evaluate({"sizes": {"small": data}})
    assert _find(targets, "pay", "small", "req/s / ceiling").status == "PASS"
    assert "notify first delivery n/a" in report._costs({})


def test_errors_on_an_endpoint_or_in_the_mix_fail_with_the_first_bad_answer():
    data = _size()
    data["endpoints"]["search"] = _row(2_800.0, errors=3)
    data["mix"] = {
        "endpoints": {
            "list": {"errors": 0, "bad_sample": ""},
            "notify": {"errors": 2, "bad_sample": "200 failure"},
        }
    }
    targets = report.evaluate({"sizes": {"small": data}})
    search = _find(targets, "search", "small", "zero errors")
    assert (search.status, search.note) == ("FAIL", "500 boom")
    assert _find(targets, "mix: list", "small", "zero errors").status == "PASS"
    assert _find(targets, "mix: notify", "small", "zero errors").note == "200 failure"


def test_the_large_size_may_be_at_most_one_and_a_half_times_slower():
    small, large = _size(), _size()
    large["endpoints"]["detail_zipf"] = _row(3_000.0, p50_ms=8.0)  # 1.6x
    large["endpoints"]["list"] = _row(3_000.0, p50_ms=7.5)  # 1.5x
    targets = report.evaluate({"sizes": {"small": small, "large": large}})
    assert _find(targets, "detail_zipf", "large/small", "large p50").status == "FAIL"
    assert _find(targets, "list", "large/small", "large p50").status == "PASS"


@pytest.mark.parametrize(
    ("run", "status"),
    [
        ({"status": "ran", "p50_ms": 12.0, "backend": "mroonga"}, "PASS"),
        ({"status": "ran", "p50_ms": 35.0, "backend": "like"}, "FAIL"),
        ({"status": "not run", "reason": "bench/search_scale.py does not exist"}, "n/a"),
        ({"status": "failed", "reason": "RuntimeError: no engine"}, "FAIL"),
    ],
)
def test_search_at_a_million_courses_needs_a_p50_of_at_most_20_ms(run, status):
    targets = report.evaluate({"sizes": {}, "search1m": run})
    assert [(t.endpoint, t.size, t.status) for t in targets] == [("search", "search1m", status)]


def test_search_at_a_million_courses_is_judged_on_the_cold_count_and_shows_the_warm_beside():
    run = {"status": "ran", "p50_ms": 35.0, "warm_p50_ms": 4.0, "warm_p99_ms": 9.0}
    (target,) = report.evaluate({"sizes": {}, "search1m": {**run, "backend": "mroonga"}})
    assert (target.measured, target.status) == (35.0, "FAIL")  # not the warm 4 ms
    assert "repeated searches: p50 4" in target.note
    text = "\n".join(report.search_1m_markdown(run))
    assert "count cache cold" in text and "Repeated searches" in text


def test_search_at_a_million_courses_is_absent_when_the_size_was_not_selected():
    assert report.evaluate({"sizes": {}, "search1m": None}) == []


def test_the_sizes_to_run_include_the_million_course_search_by_default(monkeypatch):
    monkeypatch.delenv("BENCH_SIZES", raising=False)
    assert config.selected_names() == ("small", "large", "search1m", "flash")
    monkeypatch.setenv("BENCH_SIZES", "search1m, small")
    assert config.selected_names() == ("small", "search1m")
    assert [s.name for s in config.selected_sizes()] == ["small"]
    monkeypatch.setenv("BENCH_SIZES", "huge")
    with pytest.raises(SystemExit, match="huge"):
        config.selected_names()


def test_bench_endpoints_selects_endpoints_after_the_ceiling(monkeypatch):
    monkeypatch.setenv("BENCH_ENDPOINTS", "progress")
    assert [ep.name for ep in config.selected_endpoints()] == ["ceiling", "progress"]
    monkeypatch.setenv("BENCH_ENDPOINTS", "")
    assert config.selected_endpoints() == config.ENDPOINTS
    monkeypatch.setenv("BENCH_ENDPOINTS", "nope")
    with pytest.raises(SystemExit, match="nope"):
        config.selected_endpoints()


def _flash(**overrides):
    run = {
        "buyers": 1000,
        "attempts": 5,
        "seats": 100,
        "limit_s": 10.0,
        "sent": 5000,
        "statuses": {"201": 100, "409": 4900},
        "server_errors": 0,
        "wall_s": 6.5,
        "p50_ms": 20.0,
        "p99_ms": 80.0,
        "orders": 100,
        "seats_held": 100,
        "seats_with_order": 100,
        "seats_left": 0,
    }
    return {**run, **overrides}


def test_the_flash_burst_passes_with_exactly_the_seats_sold_no_5xx_in_the_limit():
    targets = report.flash_targets(_flash())
    assert [t.passed for t in targets] == [True, True, True]


@pytest.mark.parametrize(
    ("overrides", "failing"),
    [
        ({"orders": 101}, "orders − seats, either way = 0"),
        ({"orders": 99}, "orders − seats, either way = 0"),
        ({"server_errors": 1}, "5xx or no answer = 0"),
        ({"wall_s": 10.5}, "burst wall s <= 10"),
    ],
)
def test_the_flash_burst_fails_on_one_order_too_many_or_few_a_5xx_or_a_slow_burst(
    overrides, failing
):
    targets = report.flash_targets(_flash(**overrides))
    assert [t.target for t in targets if t.passed is False] == [failing]


def test_a_flash_only_run_replaces_its_own_section_and_keeps_the_rest(tmp_path):
    last = {"sizes": {"small": {"x": 1}}, "targets": [{"size": "small"}, {"size": "flash"}]}
    (tmp_path / "results.json").write_text(json.dumps(last))
    (tmp_path / "results.md").write_text("# r\n\n## Mixed\n\nmix\n\n## Targets\n\n| t |\n")

    report.write({"sizes": {}, "search1m": None, "flash": _flash(wall_s=6.5)}, tmp_path)
    report.write({"sizes": {}, "search1m": None, "flash": _flash(wall_s=7.5)}, tmp_path)

    data = json.loads((tmp_path / "results.json").read_text())
    assert data["sizes"] == {"small": {"x": 1}} and data["flash"]["wall_s"] == 7.5
    assert [t["size"] for t in data["targets"]] == ["small", "flash", "flash", "flash"]
    text = (tmp_path / "results.md").read_text()
    assert text.count("## Flash-sale burst") == 1 and "7.50 s" in text and "6.50 s" not in text
    assert text.index("## Mixed") < text.index("## Flash-sale") < text.index("## Targets")
    assert "| t |" in text and "5,000 tries" in text
