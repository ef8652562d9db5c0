"""Reading settings from environment variables: the one set of parsers for settings.py and the
provider configs (libs/*/config.py). Errors name the variable to fix.

Each helper reads `env` (a mapping of variable names to text; os.environ by default), so the
provider configs can be built from a plain dict in scripts and tests, without Django settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})


class EnvError(ImproperlyConfigured, ValueError):
    """A variable's value cannot work; the message says which one and how to fix it."""


def env_str(name: str, default: str = "", *, env: Mapping[str, str] | None = None) -> str:
    """The variable without surrounding white space; `default` when unset or blank."""
    value = (os.environ if env is None else env).get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool, *, env: Mapping[str, str] | None = None) -> bool:
    """1/true/yes/on (any case) is true, anything else false; unset or blank is `default`."""
    value = env_str(name, env=env)
    if not value:
        return default
    return value.lower() in TRUE


def env_int(name: str, default: int, *, env: Mapping[str, str] | None = None) -> int:
    value = env_str(name, env=env)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise EnvError(f"{name} must be a whole number, got {value!r}.") from None


def env_list(name: str, default: str = "", *, env: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated items, each stripped; empty items are dropped."""
    value = (os.environ if env is None else env).get(name, default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(
    name: str, default: str, choices: Iterable[str], *, env: Mapping[str, str] | None = None
) -> str:
    """One of `choices` (compared without case); unset or blank is `default`."""
    allowed = list(choices)
    value = env_str(name, env=env).lower()
    if not value:
        return default
    if value not in allowed:
        raise EnvError(f"{name} must be one of {', '.join(allowed)}, got {value!r}.")
    return value
