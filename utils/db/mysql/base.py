"""Django's MySQL/MariaDB backend, with transactions opened by BEGIN (settings.py selects it),
sent with the transaction's first statement, and batches of statements in one round trip.

Django opens a transaction (`atomic`) by switching autocommit off (`SET autocommit=0`) and
closes it with COMMIT then `SET autocommit=1`: three round trips to the server for each
transaction, which the hot writes (an Alipay notify, an order; issue 12) pay every time. An
explicit BEGIN while the session stays in autocommit does the same: the statements up to
COMMIT or ROLLBACK are one transaction, with the session's isolation level, locks and
savepoints as before, and after it the session is in autocommit already, so the driver sends
no `SET autocommit=1` (mysqlclient skips it when the server says autocommit is on). Django
supports this way in (it is how its SQLite backend begins); `transaction.set_autocommit(False)`
called directly still switches autocommit off.

The BEGIN is not sent alone either: it waits for the transaction's first statement and goes
with it in one round trip (`BEGIN;` + the statement: mysqlclient connects with
CLIENT_MULTI_STATEMENTS), so a transaction costs its statements plus the COMMIT. The server runs
BEGIN, then the statement, exactly as if they came one by one; the cursor then holds the
statement's result (rows, rowcount, lastrowid) and an error of the statement is raised as it
would be alone, the transaction begun (Django rolls it back). A transaction that runs no
statement sends nothing, neither BEGIN nor COMMIT/ROLLBACK. Captured queries still show BEGIN,
as a statement of its own before the first one.

`execute_batch` sends several statements in one round trip, for callers that need none of
their results in between (utils/db/batch.py; apps/order/services/sql.py). With `commit=True` it
also ends the transaction: COMMIT goes last in the same request, `atomic()`'s own commit then
sends nothing, and any statement the block would still send raises instead of running outside
the transaction (batch.run only asks for this in an outermost block that will commit).

A new connection is opened in autocommit too (`get_connection_params`), not switched off by the
driver and on again by Django.

The one difference: a statement that commits implicitly (DDL) inside `atomic` leaves the rest of
the block in autocommit, instead of in a new implicit transaction. Django never issues DDL in a
transaction on MySQL (it cannot roll DDL back), and neither do we.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError
from django.db.backends.mysql import base
from django.db.transaction import TransactionManagementError

from utils.db.batch import Result, Statement

BEGIN = "BEGIN"
COMMIT = "COMMIT"


def _text(sql: bytes) -> str:
    """A statement as Django's debug cursor records one (`last_executed_query`)."""
    return sql.decode("utf-8", errors="replace")


class CursorWrapper(base.CursorWrapper):
    """Django's MySQL cursor wrapper, which also sends a pending BEGIN with the first statement."""

    def __init__(self, cursor: Any, db: DatabaseWrapper) -> None:
        super().__init__(cursor)
        self.db = db

    def execute(self, query: str, args: Any = None) -> Any:
        self.db.refuse_after_batch_commit()
        if not self.db.begin_pending:
            return super().execute(query, args)
        # Django's debug cursor records the statement itself, after this.
        [result] = self._run([Statement(query, args)], log=False)
        return result.rowcount

    def executemany(self, query: str, args: Any) -> Any:
        self.db.refuse_after_batch_commit()
        self.db.send_pending_begin()  # mysqlclient rewrites the statement itself: BEGIN alone
        return super().executemany(query, args)

    def callproc(self, procname: str, args: Any = ()) -> Any:
        self.db.send_pending_begin()
        return self.cursor.callproc(procname, args)

    def execute_batch(
        self, statements: Sequence[Statement], *, commit: bool = False
    ) -> list[Result]:
        """Run the statements in one round trip, in order; a pending BEGIN goes first, and with
        `commit` a COMMIT last (its position: len(statements)).

        Returns each statement's result; the cursor is left on the last one's (as after
        execute). A failing statement raises its error as `execute` would (IntegrityError for
        the codes Django maps), with `batch_index` set to its position (-1: the BEGIN); the
        server runs none of the statements after it (nor the COMMIT), and every result before
        it has been read.
        """
        self.db.refuse_after_batch_commit()
        results = self._run(statements, log=True, commit=commit)
        if commit:
            self.db.committed_by_batch = True
        return results

    def _run(
        self, statements: Sequence[Statement], *, log: bool, commit: bool = False
    ) -> list[Result]:
        begin = int(self.db.begin_pending)
        self.db.begin_pending = False
        # Bytes, as the driver sends them: a bound value may be binary (BinaryField), not text.
        parts = [BEGIN.encode()] * begin + [self._bound(s) for s in statements]
        parts += [COMMIT.encode()] * commit
        if self.db.queries_logged:
            self.db.log_statements([_text(p) for p in (parts if log else parts[:begin])])
        results: list[Result] = []
        index = -begin
        try:
            self.cursor.execute(b";\n".join(parts))
            for part in range(len(parts)):
                index = part - begin
                if part:
                    self._next()
                if 0 <= index < len(statements):
                    results.append(self._result())
        except base.Database.OperationalError as e:
            e.batch_index = index  # type: ignore[attr-defined]
            if e.args[0] in self.codes_for_integrityerror:
                error = IntegrityError(*tuple(e.args))
                error.batch_index = index  # type: ignore[attr-defined]
                raise error from e
            raise
        except base.Database.Error as e:
            e.batch_index = index  # type: ignore[attr-defined]
            raise
        if statements:  # what Django's debug cursor reads as the statement it ran
            self.cursor._executed = parts[begin + len(statements) - 1]
        return results

    def _bound(self, statement: Statement) -> bytes:
        """The statement with its values bound, as mysqlclient's execute binds them."""
        params = statement.params
        if params is not None and not isinstance(params, Mapping):
            params = tuple(params)
        return self.cursor._mogrify(statement.sql, params)

    def _next(self) -> None:
        if self.cursor.nextset() is None:  # the server always answers every statement
            raise base.Database.InterfaceError("a batched statement returned no result")

    def _result(self) -> Result:
        rows = list(self.cursor.fetchall())
        if rows:  # back to the first row: a caller of execute() fetches them itself
            self.cursor.scroll(0, mode="absolute")
        return Result(rowcount=self.cursor.rowcount, rows=rows, lastrowid=self.cursor.lastrowid)


class DatabaseWrapper(base.DatabaseWrapper):
    begin_pending = False  # a transaction began; its BEGIN goes with its first statement
    committed_by_batch = False  # a batch ended the transaction with COMMIT: nothing may follow

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        # Sessions start in autocommit, as Django wants them: left to its default, mysqlclient
        # switches it off on connect and Django back on, two round trips per new connection
        # (every request with DB_CONN_MAX_AGE=0). With True it sends nothing unless the
        # server's default is off.
        params.setdefault("autocommit", True)
        return params

    def get_new_connection(self, conn_params: dict) -> Any:
        self.begin_pending = self.committed_by_batch = False
        return super().get_new_connection(conn_params)

    def create_cursor(self, name: str | None = None) -> CursorWrapper:
        return CursorWrapper(self.connection.cursor(), self)

    def _start_transaction_under_autocommit(self) -> None:
        self.begin_pending = True

    def send_pending_begin(self) -> None:
        """Send the pending BEGIN alone (before a call that cannot carry it)."""
        if self.begin_pending:
            with self.wrap_database_errors:
                self.create_cursor().execute_batch([])

    def log_statements(self, sqls: list[str]) -> None:
        """Record batched statements where Django records queries (each as its own)."""
        if self.queries_logged:
            for sql in sqls:
                self.queries_log.append({"sql": sql, "time": "0.000"})

    def refuse_after_batch_commit(self) -> None:
        """A statement after a batch that committed would run outside the transaction its
        block promises (in autocommit): refused, until the block ends."""
        if self.committed_by_batch:
            raise TransactionManagementError(
                "The transaction was committed by a batch; no statement may follow it in the "
                "same atomic block."
            )

    def _commit(self) -> None:
        if self.begin_pending:  # the transaction ran no statement: nothing to end
            self.begin_pending = False
            return None
        if self.committed_by_batch:  # its COMMIT went with the batch's statements
            self.committed_by_batch = False
            return None
        return super()._commit()

    def _rollback(self) -> None:
        if self.begin_pending:
            self.begin_pending = False
            return None
        if self.committed_by_batch:  # committed already: nothing is left to undo
            self.committed_by_batch = False
            return None
        return super()._rollback()

    def _close(self) -> None:
        self.begin_pending = self.committed_by_batch = False
        return super()._close()
