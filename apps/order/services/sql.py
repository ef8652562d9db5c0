"""The hot statements of settlement and placement, written as SQL (issue 12).

Each ORM statement costs 0.1-0.3 ms of CPU to build (cloning the query, resolving lookups,
compiling) before the database sees it, and a first notify sent nine. These are the simple ones
(lock rows by id, read one column, bump a counter, insert a few rows), where the SQL is plain
and the same on SQLite and MariaDB: table and column names come from the models' `_meta`,
quoted by the backend, and FOR UPDATE is only added where the backend has it, as the ORM does
(SQLite locks the whole database on the first write instead). Values are always bound
parameters, never formatted in (hence the `noqa: S608`); each statement is built once per
process, backend and number of ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from django.db import connection, connections
from django.db.models import Model
from django.utils import timezone

from apps.course.models import Course
from apps.user.models import User
from utils import sql_rows
from utils.db import batch
from utils.db.batch import Statement

from ..models import CourseEntitlement, Order, OrderDetail, PaymentNotification


def _t(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _c(model: type[Model], field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _in(n: int) -> str:
    return ", ".join(["%s"] * n)


def _lock() -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _column(sql: str, params: Sequence[Any]) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _write(sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _datetime(value: datetime) -> Any:
    """A datetime as the ORM would send it (UTC; naive on MariaDB)."""
    return connection.ops.adapt_datetimefield_value(value)


@cache
def _lock_user_sql(vendor: str) -> str:
    pk = _c(User, "id")
    return f"SELECT {pk} FROM {_t(User)} WHERE {pk} = %s{_lock()}"  # noqa: S608


@cache
def _lock_courses_sql(vendor: str, n: int) -> str:
    pk = _c(Course, "id")
    return f"SELECT {pk} FROM {_t(Course)} WHERE {pk} IN ({_in(n)}) ORDER BY {pk}{_lock()}"  # noqa: S608


@cache
def _order_courses_sql(vendor: str) -> str:
    course, order = _c(OrderDetail, "course"), _c(OrderDetail, "order")
    return f"SELECT {course} FROM {_t(OrderDetail)} WHERE {order} = %s"  # noqa: S608


@cache
def _owned_sql(vendor: str, n: int) -> str:
    user, course = _c(CourseEntitlement, "user"), _c(CourseEntitlement, "course")
    table = _t(CourseEntitlement)
    return f"SELECT {course} FROM {table} WHERE {user} = %s AND {course} IN ({_in(n)})"  # noqa: S608


# Every column of CourseEntitlement but its id, in the order insert_entitlements binds them.
_ENTITLEMENT_FIELDS = ("user", "course", "order", "created_time")


@cache
def _insert_entitlements_sql(vendor: str, n: int) -> str:
    columns = ", ".join(_c(CourseEntitlement, f) for f in _ENTITLEMENT_FIELDS)
    rows = ", ".join([f"({_in(len(_ENTITLEMENT_FIELDS))})"] * n)
    return f"INSERT INTO {_t(CourseEntitlement)} ({columns}) VALUES {rows}"  # noqa: S608


@cache
def _add_student_sql(vendor: str, n: int) -> str:
    pk, students = _c(Course, "id"), _c(Course, "students")
    return f"UPDATE {_t(Course)} SET {students} = {students} + 1 WHERE {pk} IN ({_in(n)})"  # noqa: S608


@cache
def _mark_paid_sql(vendor: str) -> str:
    sets = ", ".join(
        f"{_c(Order, f)} = %s" for f in ("order_status", "trade_no", "pay_time", "updated_time")
    )
    return f"UPDATE {_t(Order)} SET {sets} WHERE {_c(Order, 'id')} = %s"  # noqa: S608


def lock_user(user_id: int) -> None:
    """SELECT the user's row FOR UPDATE."""
    _column(_lock_user_sql(connection.vendor), [user_id])


def lock_courses(course_ids: Sequence[int]) -> None:
    """SELECT the courses' rows FOR UPDATE, in id order (ids unique, not empty)."""
    _column(_lock_courses_sql(connection.vendor, len(course_ids)), course_ids)


def order_course_ids(order_id: int) -> list[int]:
    return _column(_order_courses_sql(connection.vendor), [order_id])


def owned_course_ids(user_id: int, course_ids: Sequence[int]) -> set[int]:
    """Which of these courses the user owns."""
    if not course_ids:
        return set()
    return set(_column(_owned_sql(connection.vendor, len(course_ids)), [user_id, *course_ids]))


def insert_entitlements(
    *, user_id: int, order_id: int, course_ids: Sequence[int], now: datetime
) -> None:
    """One INSERT of the user's entitlements to these courses (not empty), from this order."""
    at = _datetime(now)
    params = [v for pk in course_ids for v in (user_id, pk, order_id, at)]
    _write(_insert_entitlements_sql(connection.vendor, len(course_ids)), params)


def add_student(course_ids: Sequence[int]) -> None:
    """students = students + 1 on these courses (not empty), in one UPDATE."""
    _write(_add_student_sql(connection.vendor, len(course_ids)), course_ids)


def _mark_paid_params(order: Order) -> list[Any]:
    """_mark_paid_sql's values: the order's status, trade_no, pay_time, updated_time, then id."""
    return [
        order.order_status,
        order.trade_no,
        _datetime(order.pay_time),
        _datetime(order.updated_time),
        order.pk,
    ]


def mark_paid(order: Order) -> None:
    """Write the order's status, trade_no, pay_time and updated_time, as set on the instance."""
    _write(_mark_paid_sql(connection.vendor), _mark_paid_params(order))


@cache
def _open_orders_sql(vendor: str, n: int) -> str:
    o, d = _t(Order), _t(OrderDetail)
    pk, created = _c(Order, "id"), _c(Order, "created_time")
    join = f"{d} ON {d}.{_c(OrderDetail, 'order')} = {o}.{pk}"
    where = (
        f"{o}.{_c(Order, 'user')} = %s AND {o}.{_c(Order, 'order_status')} = %s"
        f" AND {d}.{_c(OrderDetail, 'course')} IN ({_in(n)})"
    )
    order = f"{o}.{created} DESC, {o}.{pk} DESC"
    columns = sql_rows.columns(Order, o)
    return f"SELECT DISTINCT {columns} FROM {o} INNER JOIN {join} WHERE {where} ORDER BY {order}"  # noqa: S608


def open_orders(*, user_id: int, course_ids: Sequence[int]) -> list[Order]:
    """The user's unpaid orders with a line for one of these courses, newest first,
    as whole Order instances (their lines are not loaded; utils/sql_rows.py, not
    `objects.raw()`, whose column mapping costs more than the statement)."""
    if not course_ids:
        return []
    params = [user_id, Order.Status.UNPAID, *course_ids]
    return sql_rows.fetch(Order, _open_orders_sql(connection.vendor, len(course_ids)), params)


def open_orders_statement(*, user_id: int, course_ids: Sequence[int]) -> Statement:
    """open_orders's SELECT, not run (ids not empty); its rows through `orders_from_rows`."""
    params = [user_id, Order.Status.UNPAID, *course_ids]
    return Statement(_open_orders_sql(connection.vendor, len(course_ids)), params)


def orders_from_rows(rows: Sequence[Sequence[Any]]) -> list[Order]:
    """The Orders of open_orders_statement's rows, loaded as open_orders loads them."""
    return [sql_rows.load(Order, row) for row in rows]


# The columns insert_lines writes: every column of OrderDetail but its id.
_LINE_FIELDS = ("order", "course", "price", "real_price")


@cache
def _insert_lines_sql(vendor: str, n: int) -> str:
    columns = ", ".join(_c(OrderDetail, f) for f in _LINE_FIELDS)
    rows = ", ".join([f"({_in(len(_LINE_FIELDS))})"] * n)
    return f"INSERT INTO {_t(OrderDetail)} ({columns}) VALUES {rows}"  # noqa: S608


def insert_lines(*, order_id: int, lines: Sequence[tuple[int, Any, Any]]) -> None:
    """One INSERT of an order's lines (not empty): (course id, price, real price) each."""
    _write(_insert_lines_sql(connection.vendor, len(lines)), _line_params(lines, order_id))


def _line_params(lines: Sequence[tuple[int, Any, Any]], order_id: int | None) -> list[Any]:
    """The lines' values in _LINE_FIELDS order, without the order's id when it is None (the
    statement reads it itself: _insert_lines_after_order_sql)."""
    price = OrderDetail._meta.get_field("price")
    adapt = connection.ops.adapt_decimalfield_value
    head = () if order_id is None else (order_id,)
    return [
        v
        for course_id, list_price, real_price in lines
        for v in (
            *head,
            course_id,
            adapt(list_price, price.max_digits, price.decimal_places),
            adapt(real_price, price.max_digits, price.decimal_places),
        )
    ]


@cache
def _insert_lines_after_order_sql(vendor: str, n: int) -> str | None:
    """insert_lines's INSERT with the order's id taken from the statement before it (the
    order's INSERT), where the backend keeps that id for the whole statement: MariaDB/MySQL's
    LAST_INSERT_ID() is the previous statement's first new id on every row of a multi-row
    INSERT. SQLite's last_insert_rowid() changes from one row to the next: None there."""
    if vendor != "mysql":
        return None
    columns = ", ".join(_c(OrderDetail, f) for f in _LINE_FIELDS)
    rows = ", ".join([f"(LAST_INSERT_ID(), {_in(len(_LINE_FIELDS) - 1)})"] * n)
    return f"INSERT INTO {_t(OrderDetail)} ({columns}) VALUES {rows}"  # noqa: S608


def insert_order_and_lines(
    order: Order, *, lines: Sequence[tuple[int, Any, Any]], commit: bool = False
) -> None:
    """insert_row(order), then insert_lines(order_id=order.pk, lines=lines) (not empty): the
    same rows, in one request on MariaDB (utils/db/batch.py), where the lines' INSERT reads the
    order's new id itself; one by one elsewhere. `commit`: they are the transaction's last
    statements, and its COMMIT may go with them (batch.run's `commit`)."""
    lines_sql = _insert_lines_after_order_sql(connection.vendor, len(lines))
    if lines_sql is None:
        insert_row(order)
        insert_lines(order_id=order.pk, lines=lines)
        return
    inserted_order, _lines = batch.run(
        [insert_row_statement(order), Statement(lines_sql, _line_params(lines, None))],
        commit=commit,
    )
    inserted(order, inserted_order.lastrowid)


@cache
def _locked_order_sql(vendor: str) -> str:
    return f"SELECT * FROM {_t(Order)} WHERE {_c(Order, 'out_trade_no')} = %s{_lock()}"  # noqa: S608


def locked_order(out_trade_no: str) -> Order | None:
    """The order with this out_trade_no (unique), its row locked; None when there is none."""
    found = list(Order.objects.raw(_locked_order_sql(connection.vendor), [out_trade_no]))
    return found[0] if found else None


@cache
def _insert_row_sql(vendor: str, model: type[Model]) -> str:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    return f"INSERT INTO {_t(model)} ({columns}) VALUES ({_in(len(fields))})"  # noqa: S608


def insert_row(instance: Model) -> None:
    """instance.save(force_insert=True) without building an InsertQuery: every column but the
    id, each prepared by its field as the ORM does (auto_now_add, JSON encoding), then the new
    id set on the instance. No signals: for models nobody listens to (the notify log)."""
    statement = insert_row_statement(instance)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        inserted(instance, cursor.lastrowid)


def insert_row_statement(instance: Model) -> Statement:
    """insert_row's INSERT, not run (for a batch): its values prepared now, as insert_row does;
    once it has run, `inserted(instance, result.lastrowid)`."""
    fields = [f for f in instance._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    return Statement(_insert_row_sql(connection.vendor, type(instance)), values)


def inserted(instance: Model, pk: int | None) -> None:
    """Mark an instance saved under its new id, as save() leaves it."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


# The notify log's columns as insert_row writes them (every concrete field but the id).
_NOTIFY_LOG_FIELDS = [f for f in PaymentNotification._meta.concrete_fields if not f.primary_key]
_NOTIFY_LOG_IP = PaymentNotification._meta.get_field("client_ip")
_NOTIFY_LOG_PARAMS = PaymentNotification._meta.get_field("params")


def notify_log_statement(entry: PaymentNotification) -> Statement:
    """insert_row_statement(entry) for the notify log (the hot INSERT of every notify), its
    values prepared here instead of by each field (~10 us instead of ~28): what the fields'
    get_db_prep_save gives for the values a notify's entry holds (strings, a bool, an int, the
    params dict as JSON; the client IP still through its field, which normalises IPv6).
    received_at is set now, as auto_now_add does. tests/order/test_notify_log.py holds it to
    insert_row_statement."""
    entry.received_at = now = timezone.now()
    prepared = {
        "received_at": _datetime(now),
        "params": connection.ops.adapt_json_value(entry.params, _NOTIFY_LOG_PARAMS.encoder),
        "client_ip": _NOTIFY_LOG_IP.get_db_prep_save(entry.client_ip, connection),
        "verified": bool(entry.verified),
        "body_bytes": int(entry.body_bytes),
    }
    values = [
        prepared[f.attname] if f.attname in prepared else str(getattr(entry, f.attname))
        for f in _NOTIFY_LOG_FIELDS
    ]
    return Statement(_insert_row_sql(connection.vendor, PaymentNotification), values)


def insert_notify_log(entry: PaymentNotification) -> None:
    """insert_row(entry) with notify_log_statement's values."""
    statement = notify_log_statement(entry)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        inserted(entry, cursor.lastrowid)


@cache
def _lock_user_owned_sql(vendor: str, n: int) -> str:
    u, e, pk = _t(User), _t(CourseEntitlement), _c(User, "id")
    course, user = _c(CourseEntitlement, "course"), _c(CourseEntitlement, "user")
    on = f"{e}.{user} = {u}.{pk} AND {e}.{course} IN ({_in(n)})"
    return f"SELECT {e}.{course} FROM {u} LEFT JOIN {e} ON {on} WHERE {u}.{pk} = %s{_lock()}"  # noqa: S608


def lock_user_and_owned(user_id: int, course_ids: Sequence[int]) -> set[int]:
    """SELECT the user's row FOR UPDATE and, in the same statement, which of these courses
    (not empty) the user owns: one round trip instead of lock_user + owned_course_ids.

    The LEFT JOIN fixes the order: the user's row (the outer table, found by its key) is
    locked before the entitlements are read, so a grant that held the lock has committed and
    is seen. The user's entitlement rows among these courses are locked too; only grants and
    revocations write them, and those lock the user first, so no new lock order appears.
    """
    rows = _column(_lock_user_owned_sql(connection.vendor, len(course_ids)), [*course_ids, user_id])
    return {course_id for course_id in rows if course_id is not None}


def lock_user_and_owned_statement(user_id: int, course_ids: Sequence[int]) -> Statement:
    """lock_user_and_owned's SELECT, not run (ids not empty); its rows through `owned_from_rows`."""
    return Statement(
        _lock_user_owned_sql(connection.vendor, len(course_ids)), [*course_ids, user_id]
    )


def owned_from_rows(rows: Sequence[Sequence[Any]]) -> set[int]:
    """The owned course ids of lock_user_and_owned_statement's rows (as lock_user_and_owned)."""
    return {row[0] for row in rows if row[0] is not None}


# The notify's read (apps/order/services/settlement.py check_payment): no lock, so a join is safe.
_ORDER_FIELDS = list(Order._meta.concrete_fields)
_ORDER_ATTNAMES = [f.attname for f in _ORDER_FIELDS]


@cache
def _order_and_course_ids_sql(vendor: str) -> str:
    o, d = _t(Order), _t(OrderDetail)
    columns = ", ".join(f"{o}.{connection.ops.quote_name(f.column)}" for f in _ORDER_FIELDS)
    join = f"{d} ON {d}.{_c(OrderDetail, 'order')} = {o}.{_c(Order, 'id')}"
    where = f"{o}.{_c(Order, 'out_trade_no')} = %s"
    line_course = f"{d}.{_c(OrderDetail, 'course')}"
    return f"SELECT {columns}, {line_course} FROM {o} LEFT JOIN {join} WHERE {where}"  # noqa: S608


@lru_cache(maxsize=16)
def _order_converters(wrapper: Any) -> list[tuple[int, list[Any], Any]]:
    """What the ORM applies to each column of an Order row on this connection (time zones,
    booleans, JSON): the compiler's own converters, looked up once per connection."""
    compiler = wrapper.ops.compiler("SQLCompiler")(Order.objects.none().query, wrapper, None)
    found = compiler.get_converters([f.get_col(Order._meta.db_table) for f in _ORDER_FIELDS])
    return [(i, converters, expression) for i, (converters, expression) in found.items()]


def order_and_course_ids(out_trade_no: str) -> tuple[Order, list[int]] | None:
    """The order with this out_trade_no (unique) and its lines' course ids, in one statement
    and without a lock; None when there is no such order. The Order is built as the ORM builds
    one (`from_db`, the same converters) without a RawQuerySet, which cost ~0.1 ms more."""
    with connection.cursor() as cursor:
        cursor.execute(_order_and_course_ids_sql(connection.vendor), [out_trade_no])
        rows = cursor.fetchall()
    if not rows:
        return None
    values = list(rows[0][:-1])
    wrapper = connections[connection.alias]
    for i, converters, expression in _order_converters(wrapper):
        for convert in converters:
            values[i] = convert(values[i], expression, wrapper)
    order = Order.from_db(connection.alias, _ORDER_ATTNAMES, values)
    return order, [row[-1] for row in rows if row[-1] is not None]


@cache
def _mark_paid_if_status_sql(vendor: str) -> str:
    return f"{_mark_paid_sql(vendor)} AND {_c(Order, 'order_status')} = %s"


def mark_paid_if_status(order: Order, *, status: int) -> bool:
    """mark_paid, only while the order's status is still `status`; True when it was. The UPDATE
    locks the row (and waits for a transaction holding it); it matches nothing once the row
    has changed (MariaDB's rowcount is the rows matched: the backend asks for found rows)."""
    params = [*_mark_paid_params(order), status]
    return _write(_mark_paid_if_status_sql(connection.vendor), params) == 1


# --- The first notify's statements as batches (utils/db/batch.py; settlement.settle_checked) ---
# The same SQL as the functions above, returned instead of run, so that statements whose
# results are not needed in between go to MariaDB in one round trip.


def mark_paid_if_status_statement(order: Order, *, status: int) -> Statement:
    """mark_paid_if_status's UPDATE: its rowcount is 1 when the status was still `status`."""
    return Statement(
        _mark_paid_if_status_sql(connection.vendor), [*_mark_paid_params(order), status]
    )


def lock_user_statement(user_id: int) -> Statement:
    return Statement(_lock_user_sql(connection.vendor), [user_id])


def lock_courses_statement(course_ids: Sequence[int]) -> Statement:
    """lock_courses's SELECT: ids unique and sorted, not empty."""
    return Statement(_lock_courses_sql(connection.vendor, len(course_ids)), list(course_ids))


def owned_statement(user_id: int, course_ids: Sequence[int]) -> Statement:
    """owned_course_ids's SELECT (ids not empty): its rows are the owned courses' ids."""
    return Statement(_owned_sql(connection.vendor, len(course_ids)), [user_id, *course_ids])


def insert_entitlements_statement(
    *, user_id: int, order_id: int, course_ids: Sequence[int], now: datetime
) -> Statement:
    at = _datetime(now)
    params = [v for pk in course_ids for v in (user_id, pk, order_id, at)]
    return Statement(_insert_entitlements_sql(connection.vendor, len(course_ids)), params)


def add_student_statement(course_ids: Sequence[int]) -> Statement:
    return Statement(_add_student_sql(connection.vendor, len(course_ids)), list(course_ids))
