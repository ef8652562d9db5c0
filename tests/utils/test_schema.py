"""The OpenAPI schema is a document a front-end developer can work from alone: every operation
has a summary and a description, no internal docstring leaks into it, and every example in it
is valid against the schema it illustrates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft7Validator

# Words of our Python code that have no business in the docs: calls, mixins, internals.
INTERNAL = re.compile(r"\w\(\)|\bmixin\b|\bself\.|\bdispatch\b|\bcontext\b|\bselectors?\b", re.I)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def descriptions(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"description", "summary"} and isinstance(value, str):
                yield f"{where}.{key}", value
            elif key not in {"example", "examples"}:
                yield from descriptions(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from descriptions(item, f"{where}[{i}]")


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema: `nullable` becomes a null alternative."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: as_json_schema(value)
        for key, value in node.items()
        if key not in {"nullable", "example", "readOnly", "writeOnly"}
    }
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def examples_with_schemas(schema: dict[str, Any]) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    for name, operation in operations(schema):
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, r) for status, r in operation.get("responses", {}).items()]
        for status, body in bodies:
            for media, content in body.get("content", {}).items():
                for title, example in content.get("examples", {}).items():
                    where = f"{name} {status} {media} {title!r}"
                    yield where, example["value"], content["schema"]


def test_every_operation_has_a_summary_and_a_description(schema):
    missing = [
        name
        for name, operation in operations(schema)
        if not operation.get("summary", "").strip() or not operation.get("description", "").strip()
    ]
    assert missing == []


def test_no_operation_is_documented_by_a_view_docstring(schema):
    from django.urls import get_resolver

    docstrings = set()
    for pattern in get_resolver().url_patterns:
        for view in getattr(pattern, "url_patterns", []) or [pattern]:
            cls = getattr(getattr(view, "callback", None), "cls", None)
            if cls is not None and cls.__doc__:
                docstrings.add(" ".join(cls.__doc__.split()))
    leaked = [
        name
        for name, operation in operations(schema)
        if " ".join(operation.get("description", "").split()) in docstrings
    ]
    assert leaked == []


def test_no_description_speaks_of_our_code(schema):
    leaked = [(where, text) for where, text in descriptions(schema) if INTERNAL.search(text)]
    assert leaked == []


def test_every_operation_of_the_front_end_has_a_real_example(schema):
    with_examples = {" ".join(where.split(" ")[:2]) for where, *_ in examples_with_schemas(schema)}
    front_end = {
        name
        for name, _operation in operations(schema)
        if name != "POST /api/v1/order/success/"  # Alipay's notify: only Alipay calls it
    }
    assert front_end - with_examples == set()


def test_every_example_is_valid_against_its_schema(schema):
    components = as_json_schema(schema["components"])
    failures = []
    checked = 0
    for where, value, media_schema in examples_with_schemas(schema):
        root = {**as_json_schema(media_schema), "components": components}
        errors = list(Draft7Validator(root).iter_errors(value))
        failures += [f"{where}: {e.json_path}: {e.message}" for e in errors]
        checked += 1
    assert checked >= 20
    assert failures == []


def test_amounts_are_never_shown_negative(schema):
    decimals = [
        (where, node)
        for where, node in _schemas(schema["components"]["schemas"])
        if node.get("format") == "decimal"
    ]
    assert decimals
    assert [where for where, node in decimals if "-" in node.get("pattern", "-")] == []


def _schemas(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _schemas(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _schemas(item, f"{where}[{i}]")
