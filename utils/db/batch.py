"""Several SQL statements in one round trip, where the code needs none of their results in between.

On MariaDB (utils/db/mysql) the statements go to the server joined by `;` in one request
(mysqlclient connects with CLIENT_MULTI_STATEMENTS), each with its values bound by the driver as
`execute` binds them, and every result is read back in order. On any other backend (SQLite in
development and tests) they simply run one by one through the cursor: the same statements, the
same results, more round trips.

Errors: the first statement that fails raises its error as `cursor.execute` would (wrapped by
Django), with `batch_index` set to its position and `batch_statement` to the Statement itself (so
a caller that added its own statement to a batch can tell its failure apart); the statements after
it do not run. Nothing is
undone by this module: inside `transaction.atomic()` the block rolls back as for any failed
statement. So a batch belongs in a transaction, unless each statement stands alone.

What a batch cannot do is decide between its statements: any rule that depends on a result
(`if the UPDATE matched…`) is applied in Python after the batch, which must therefore be safe to
have run whole whatever that result was (apps/order/services/settlement.py says why it is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Sequence[Any] | None = None  # None: no interpolation, as cursor.execute(sql)


@dataclass(frozen=True)
class Result:
    rowcount: int  # MariaDB: rows matched by an UPDATE (Django asks for found rows)
    rows: list[tuple]  # empty for a statement that returns none
    lastrowid: int | None


def run(statements: Sequence[Statement], *, commit: bool = False) -> list[Result]:
    """Run the statements in order, in one round trip where the backend can; their results.

    `commit`: the statements are the last of the outermost `atomic()` block, which commits
    them: on MariaDB its COMMIT goes in the same request (utils/db/mysql), and the block must
    send no statement after it (TransactionManagementError). Elsewhere, or when the block is
    nested (a savepoint, a test's transaction), the block commits as usual when it ends.
    """
    with connection.cursor() as cursor:
        batch = getattr(cursor.cursor, "execute_batch", None)
        if batch is None:
            return [_one(cursor, i, s) for i, s in enumerate(statements)]
        try:
            with connection.wrap_database_errors:
                if commit and _ends_the_transaction():
                    return batch(statements, commit=True)
                return batch(statements)
        except DatabaseError as e:
            # Django re-raises the driver's error as its own class: keep the position.
            if not hasattr(e, "batch_index") and hasattr(e.__cause__, "batch_index"):
                e.batch_index = e.__cause__.batch_index  # type: ignore[attr-defined,union-attr]
            _name_statement(e, statements)
            raise


def _ends_the_transaction() -> bool:
    """In the outermost atomic block, which will commit when it ends (no savepoint, no
    enclosing block, not marked for rollback)."""
    return (
        connection.in_atomic_block
        and connection.commit_on_exit
        and len(connection.atomic_blocks) == 1
        and not connection.savepoint_ids
        and not connection.needs_rollback
    )


def _one(cursor: Any, index: int, statement: Statement) -> Result:
    try:
        cursor.execute(statement.sql, statement.params)
    except DatabaseError as e:
        e.batch_index = index  # type: ignore[attr-defined]
        e.batch_statement = statement  # type: ignore[attr-defined]
        raise
    rows = list(cursor.fetchall()) if cursor.description else []
    return Result(rowcount=cursor.rowcount, rows=rows, lastrowid=cursor.lastrowid)


def _name_statement(error: DatabaseError, statements: Sequence[Statement]) -> None:
    """`batch_statement`: the failing Statement (None for the BEGIN sent ahead, index -1)."""
    index = getattr(error, "batch_index", None)
    ok = isinstance(index, int) and 0 <= index < len(statements)
    error.batch_statement = statements[index] if ok else None  # type: ignore[attr-defined]
