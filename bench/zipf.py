"""Popularity-skewed course ids (Zipf) for the detail and chapters loads and the mixed scenario.

A shop's catalog is not read uniformly: a few courses get most of the views. The ids are
shuffled with a fixed seed (so the popular ids are not the low, oldest ones that a cache might
favour by accident) and rank k of n gets probability k^-s / H(n, s), with H(n, s) = sum of i^-s
for i = 1..n. With ZIPF_S = 1.1 the most popular course gets about 18% of the reads at 1,000
courses and 15% at 20,000; the top 1% of the catalog about 48% and 68% of them.

The table is written once per size as "id cdf" lines (cumulative probability, the last one 1);
bench/wrk/zipf_id.lua and bench/mix.py both draw u uniformly in [0, 1) and take the first line
whose cdf exceeds u (a binary search), so the table written here is the distribution they send.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from pathlib import Path

ZIPF_S = 1.1  # the exponent; web page popularity is usually measured between 0.7 and 1.2
SHUFFLE_SEED = 1_100


def table(
    ids: Sequence[int], s: float = ZIPF_S, seed: int = SHUFFLE_SEED
) -> list[tuple[int, float]]:
    """(id, cumulative probability) by decreasing popularity; the ids in a seeded random order."""
    if not ids:
        raise ValueError("no ids to draw from")
    ranked = list(ids)
    random.Random(seed).shuffle(ranked)  # noqa: S311 - a benchmark's workload, not a secret
    weights = [k**-s for k in range(1, len(ranked) + 1)]
    total = sum(weights)
    rows, running = [], 0.0
    for course_id, weight in zip(ranked, weights, strict=True):
        running += weight
        rows.append((course_id, running / total))
    rows[-1] = (rows[-1][0], 1.0)  # no gap above the last cdf from rounding
    return rows


def write_table(path: Path, ids: Sequence[int], s: float = ZIPF_S) -> None:
    path.write_text("".join(f"{course_id} {cdf!r}\n" for course_id, cdf in table(ids, s)))


def read_table(path: Path) -> list[tuple[int, float]]:
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            course_id, cdf = line.split()
            rows.append((int(course_id), float(cdf)))
    return rows


class Sampler:
    """Draws ids from a table as the wrk script does: the first row whose cdf exceeds u."""

    def __init__(self, rows: Sequence[tuple[int, float]]) -> None:
        self.ids = [course_id for course_id, _ in rows]
        self.cdf = [cdf for _, cdf in rows]

    def pick(self, u: float) -> int:
        return self.ids[min(bisect.bisect_right(self.cdf, u), len(self.ids) - 1)]

    def draw(self, rng: random.Random) -> int:
        return self.pick(rng.random())
