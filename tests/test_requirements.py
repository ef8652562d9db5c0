"""The hash-locked requirement files agree with the pins people edit, and production's lock holds
no test tools (scripts/lock-requirements.sh regenerates them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
DEV_TOOLS = {"pytest", "pytest-django", "factory-boy", "schemathesis", "hypothesis", "ruff"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a `uv pip compile --generate-hashes` file."""
    entries: dict[str, tuple[str, int]] = {}
    name = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = normalise(match.group(1))
            entries[name] = (match.group(2), 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            version, hashes = entries[name]
            entries[name] = (version, hashes + 1)
    return entries


@pytest.mark.parametrize(
    ("inputs", "lock"),
    [
        (["requirements.txt"], "requirements.lock"),
        (["requirements.txt", "requirements-dev.txt"], "requirements-dev.lock"),
    ],
)
def test_every_pin_is_locked_at_its_version_with_hashes(inputs, lock):
    entries = locked(ROOT / lock)
    assert entries, f"{lock} is empty"
    for source in inputs:
        for name, version in pins(ROOT / source).items():
            assert name in entries, f"{name} ({source}) is missing from {lock}"
            assert entries[name][0] == version, (
                f"{source} pins {name}=={version} but {lock} has {entries[name][0]}: "
                "run scripts/lock-requirements.sh"
            )
    unhashed = [name for name, (_version, hashes) in entries.items() if hashes == 0]
    assert not unhashed, f"{lock} has packages without hashes: {unhashed}"


def test_the_production_lock_holds_no_test_tools():
    assert not DEV_TOOLS & set(locked(ROOT / "requirements.lock"))
    assert set(locked(ROOT / "requirements-dev.lock")) >= DEV_TOOLS
