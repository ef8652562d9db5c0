"""Dependencies read one way: the catalog does not import the order app (ownership reaches the
views through apps/course/ownership.py), and no module imports another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "apps" / "course"


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in a file, relative ones resolved to dotted paths."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            module = ".".join([*base, node.module or ""]) if node.level else node.module or ""
            found.append((module.strip("."), [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


COURSE_FILES = sorted(p for p in COURSE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", COURSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_catalog_does_not_import_the_order_app(path):
    assert not [m for m, _names in _imports(path) if m.startswith("apps.order")]


@pytest.mark.parametrize("path", COURSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_from_another_module(path):
    private = [
        (module, name)
        for module, names in _imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []


def test_owners_still_get_their_links_through_the_registered_lookup():
    from apps.course import ownership
    from apps.order.selectors import owned_course_ids

    assert ownership._lookup is owned_course_ids  # registered by OrderConfig.ready
