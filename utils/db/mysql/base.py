"""Django's MySQL/MariaDB backend, with transactions opened by BEGIN (settings.py selects it).

Django opens a transaction (`atomic`) by switching autocommit off (`SET autocommit=0`) and
closes it with COMMIT then `SET autocommit=1`: three round trips to the server for each
transaction, which the hot writes (an Alipay notify, an order; issue 12) pay every time. An
explicit BEGIN while the session stays in autocommit does the same in two: the statements up
to COMMIT or ROLLBACK are one transaction, with the session's isolation level, locks and
savepoints as before, and after it the session is in autocommit already, so the driver sends
no `SET autocommit=1` (mysqlclient skips it when the server says autocommit is on). Django
supports this way in (it is how its SQLite backend begins); `transaction.set_autocommit(False)`
called directly still switches autocommit off.

A new connection is opened in autocommit too (`get_connection_params`), not switched off by the
driver and on again by Django.

The one difference: a statement that commits implicitly (DDL) inside `atomic` leaves the rest of
the block in autocommit, instead of in a new implicit transaction. Django never issues DDL in a
transaction on MySQL (it cannot roll DDL back), and neither do we.
"""

from __future__ import annotations

from django.db.backends.mysql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        # Sessions start in autocommit, as Django wants them: left to its default, mysqlclient
        # switches it off on connect and Django back on, two round trips per new connection
        # (every request with DB_CONN_MAX_AGE=0). With True it sends nothing unless the
        # server's default is off.
        params.setdefault("autocommit", True)
        return params

    def _start_transaction_under_autocommit(self) -> None:
        # Through a cursor, as SQLite's does: the statement shows as BEGIN in captured queries.
        self.cursor().execute("BEGIN")
