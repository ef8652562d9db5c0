"""One seed for every random draw of a test run, printed so that a failure seen once can be rerun.

The suite draws RSA keys, sample media bytes, factory data and Hypothesis examples. Each run
picks a seed (or takes `--seed N` / `TEST_SEED=N`), prints it in pytest's header and again under
a failed run, and:

* reseeds Python's `random` and factory_boy's generator before each test's fixtures are set up,
  from the seed and the test's node id, so a test's draws do not depend on the tests that ran
  before it (module-scoped fixtures draw from the stream of the first test that needs them);
* hands the seed to Hypothesis (`--hypothesis-seed`), unless that option is given itself.

Test helpers that draw must use `random` (not `secrets` or `os.urandom`) to be reproducible; the
exception is an identifier a fake server hands out (a Qiniu request id or upload id).

Rerun the same selection with the same draws: `make test-sqlite PYTEST_ARGS="--seed N"`.
"""

from __future__ import annotations

import os
import random

import factory.random
import pytest

SEED_ENV = "TEST_SEED"
_SEED = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seed",
        type=int,
        default=None,
        help=f"seed of the run's random draws (default: ${SEED_ENV}, else a new one)",
    )


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's own pytest_configure reads its option
def pytest_configure(config: pytest.Config) -> None:
    seed = config.getoption("--seed")
    if seed is None:
        seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(10**9))
    config.stash[_SEED] = seed
    if config.getoption("hypothesis_seed", default=None) is None:
        config.option.hypothesis_seed = str(seed)


def pytest_report_header(config: pytest.Config) -> str:
    return f"random draws: --seed {run_seed(config)} (or {SEED_ENV}={run_seed(config)})"


@pytest.hookimpl(tryfirst=True)  # before the fixtures of the test, module-scoped ones included
def pytest_runtest_setup(item: pytest.Item) -> None:
    reseed(f"{run_seed(item.config)}:{item.nodeid}")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        seed = run_seed(config)
        terminalreporter.write_line(
            f"random draws of this run: rerun with --seed {seed} "
            f'(make test-sqlite PYTEST_ARGS="--seed {seed}")'
        )


def run_seed(config: pytest.Config) -> int:
    return config.stash[_SEED]


def reseed(label: str) -> None:
    random.seed(label)
    factory.random.reseed_random(label)
