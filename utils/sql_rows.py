"""Whole model instances read with hand-written SQL, converted exactly as the ORM converts them.

For the hot reads of issue 12 (the token's user on every authenticated request, placement's
open orders): building an ORM statement costs 0.1-0.3 ms of CPU before the database sees it,
more than the statement itself. The SQL text is built once per process; the columns are every
concrete field of the model, in `_meta` order, so `Model.from_db` builds the same instance
`Model.objects.get()` would (nothing deferred), and each value goes through the converters the
ORM's compiler applies to that column (`SQLCompiler.apply_converters`: the backend's, then the
field's: booleans on MariaDB, aware datetimes, SQLite's decimals and datetimes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def columns(model: type[Model], table: str | None = None) -> str:
    """Every concrete column of `model`, quoted, in `_meta` order (what `load` expects),
    qualified with `table` (a quoted name or alias) when given."""
    quote = connection.ops.quote_name
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + quote(f.column) for f in model._meta.concrete_fields)


@cache
def _converters(model: type[Model], vendor: str) -> tuple[tuple[int, tuple, Any], ...]:
    """(index, converters, column expression) of each column that has converters, as the
    compiler computes them for a plain column of this model on this backend."""
    found = []
    for i, field in enumerate(model._meta.concrete_fields):
        col = field.get_col(model._meta.db_table)
        funcs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if funcs:
            found.append((i, tuple(funcs), col))
    return tuple(found)


def load(model: type[M], row: Sequence[Any]) -> M:
    """The instance of `model` for one row of `columns(model)`, converted as the ORM would."""
    values = list(row)
    for i, funcs, col in _converters(model, connection.vendor):
        value = values[i]
        for func in funcs:
            value = func(value, col, connection)
        values[i] = value
    return model.from_db(connection.alias, None, values)


def fetch(model: type[M], sql: str, params: Sequence[Any]) -> list[M]:
    """Run `sql` (selecting `columns(model)`) and load every row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [load(model, row) for row in rows]
