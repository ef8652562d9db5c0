"""bench/search_scale.py runs end to end on a small catalog: every figure the report needs, the
indexed backend when the server has Mroonga, and the same counts as the LIKE scan."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from apps.course.search.mroonga import engine_available

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


def test_the_search_bench_returns_every_figure_for_a_small_catalog():
    with connection.cursor() as cursor:
        backend = "mroonga" if engine_available(cursor) else "like"
    params = connection.settings_dict
    server = f"mysql://{params['USER']}:{params['PASSWORD']}@{params['HOST']}:{params['PORT']}/"
    result = run_as_the_bench_does(server, courses=3_000)
    assert set(result) >= {
        "courses", "seed_s", "index_s", "queries", "p50_ms", "p99_ms", "like_p50_ms", "backend",
        "per_query", "warm_p50_ms", "warm_p99_ms", "first_p50_ms",
    }  # fmt: skip
    # Cold (the first search since a catalog change) and warm (repeated) for every query.
    assert all({"p50_ms", "warm_p50_ms", "first_ms"} <= set(q) for q in result["per_query"])
    assert result["courses"] == 3_000 and result["backend"] == backend
    # Counted by Groonga's select on Mroonga (the bench creates the mroonga_command UDF).
    assert result["groonga_select"] == (backend == "mroonga")
    assert result["queries"] >= 200 and result["errors"] == []
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    found = {q["query"]: q["matches"] for q in result["per_query"]}
    assert found["量子纠缠"] == 0 and found["课程"] > 1_000  # a no-match and a common word
    assert all(q["matches"] < 3_000 for q in result["per_query"])


def run_as_the_bench_does(server: str, *, courses: int) -> dict:
    """`search_scale.run` called from a process where Django is not set up, as bench/run.py
    calls it (importing the search package there once failed the 1M run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    script = (
        "import json, sys; from bench import search_scale; "
        f"print(json.dumps(search_scale.run(sys.argv[1], courses={courses})))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-c", script, server],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
