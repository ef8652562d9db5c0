"""The Zipf table the wrk script and the mixed scenario draw course ids from (bench/zipf.py)."""

from __future__ import annotations

import random
from collections import Counter
from itertools import pairwise

import pytest

from bench import zipf


def _probabilities(rows):
    previous, out = 0.0, []
    for _, cdf in rows:
        out.append(cdf - previous)
        previous = cdf
    return out


def test_rank_k_is_drawn_with_probability_k_to_the_minus_s_over_the_harmonic_number():
    rows = zipf.table(range(1, 1_001), s=1.1)
    harmonic = sum(k**-1.1 for k in range(1, 1_001))
    p = _probabilities(rows)
    assert p[0] == pytest.approx(1 / harmonic)
    for k in (2, 10, 100, 1_000):
        assert p[k - 1] / p[0] == pytest.approx(k**-1.1)


def test_the_cdf_rises_strictly_and_ends_at_exactly_one():
    rows = zipf.table(range(500))
    cdfs = [cdf for _, cdf in rows]
    assert all(a < b for a, b in pairwise(cdfs))
    assert cdfs[-1] == 1.0


def test_every_id_is_in_the_table_once_and_the_popular_ones_are_not_the_low_ids():
    ids = list(range(1, 20_001))
    rows = zipf.table(ids)
    ranked = [course_id for course_id, _ in rows]
    assert sorted(ranked) == ids
    assert ranked[:10] != ids[:10]
    # The 1% most popular ids are spread over the catalog, not bunched at its start.
    top = ranked[:200]
    assert 5_000 < sum(top) / len(top) < 15_000


def test_the_shuffle_is_the_same_on_every_run():
    assert zipf.table(range(1_000)) == zipf.table(range(1_000))


def test_draws_from_the_written_table_follow_the_distribution(tmp_path):
    ids = list(range(1, 1_001))
    path = tmp_path / "course_zipf.txt"
    zipf.write_table(path, ids)
    rows = zipf.read_table(path)
    assert rows == zipf.table(ids)  # the text round-trips exactly (repr floats)
    sampler = zipf.Sampler(rows)
    rng = random.Random(5)
    draws = 200_000
    counts = Counter(sampler.draw(rng) for _ in range(draws))
    p = _probabilities(rows)
    # The five most popular ids and the top 1% come out as often as the table says (within
    # 4 standard deviations of a binomial count).
    for rank in range(5):
        expected = draws * p[rank]
        assert abs(counts[rows[rank][0]] - expected) < 4 * (expected * (1 - p[rank])) ** 0.5
    top_share = sum(counts[course_id] for course_id, _ in rows[:10]) / draws
    assert top_share == pytest.approx(rows[9][1], abs=0.01)
    # And far from uniform: the top 1% of a uniform draw would be 1%.
    assert top_share > 0.4


def test_the_sampler_picks_the_first_row_whose_cdf_exceeds_u_as_the_lua_script_does():
    sampler = zipf.Sampler([(7, 0.5), (8, 0.75), (9, 1.0)])
    assert [sampler.pick(u) for u in (0.0, 0.4999, 0.5, 0.74, 0.75, 0.9999)] == [7, 7, 8, 8, 9, 9]


def test_an_empty_catalog_is_refused():
    with pytest.raises(ValueError, match="no ids"):
        zipf.table([])
