"""Declarative base, column types shared by every model, and the per-request session."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import enum
import functools
import logging
import operator
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterator, TypeVar

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from uuid6 import uuid7

from server import jsoncodec

#: Stable constraint names, so Alembic can drop and alter them on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Timestamps are stored as naive UTC and always come back timezone-aware.

    SQLite keeps no offset, so accepting naive values would let local times slip in
    unnoticed; a naive datetime is therefore refused on the way in.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Xuncha stores aware datetimes only")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def bind_processor(self, dialect: Any) -> Any:
        # A sweep or a push binds tens of thousands of times a handful of instants (now, the
        # deadlines orders share): each distinct one is converted once, including the driver
        # side (SQLite's string formatting). Equal instants are equal keys whatever their zone.
        stored = self.impl_instance.bind_processor(dialect)
        to_utc = self.process_bind_param

        @functools.lru_cache(maxsize=4096)
        def convert(value: dt.datetime) -> Any:
            naive = to_utc(value, dialect)
            return stored(naive) if stored is not None else naive

        def process(value: dt.datetime | None) -> Any:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given; Xuncha stores aware datetimes only")
            return convert(value)

        return process

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        # Reading back is as repetitive (every order of a sweep shares its deadlines and
        # "now"): each distinct stored value is parsed once.
        parsed = self.impl_instance.result_processor(dialect, coltype)
        to_aware = self.process_result_value

        @functools.lru_cache(maxsize=4096)
        def convert(raw: Any) -> dt.datetime | None:
            return to_aware(parsed(raw) if parsed is not None else raw, dialect)

        def process(raw: Any) -> dt.datetime | None:
            return None if raw is None else convert(raw)

        return process


def str_enum(enum_cls: type[enum.Enum]) -> sa.Enum:
    """Enums stored by value as plain strings: new values need no ALTER TYPE on PostgreSQL."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


T = TypeVar("T")

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        uuid.UUID: sa.Uuid(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


def new_id() -> uuid.UUID:
    """Time-ordered UUIDv7, the same kind devices make, so server rows index as well as theirs."""
    return uuid7()


class Copy:
    """A plain copy of a row, its columns as ordinary attributes (see :func:`unattached`)."""

    #: The model the row belongs to.
    __model__: ClassVar[type]

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__dict__.get('id')!r}>"


@functools.cache
def _copy_class(model: type) -> type[Copy]:
    return type(f"{model.__name__}Copy", (Copy,), {"__model__": model, "__module__": model.__module__})


def unattached(model: type[T], values: dict[str, Any]) -> T:
    """A copy of a row written or read with Core, holding ``values``, for code that reads
    records (the sync feed, notice texts) or takes the workflow's steps on rows it writes in
    bulk.

    Not an instance of ``model``: the ORM's instrumentation would cost a microsecond or two
    per attribute set and a third of one per read, which for a sweep's ten thousand orders
    was a fifth of its time. It has the model's columns and nothing else (no relationships),
    and :func:`model_of` names its model.
    """
    return _copy_class(model)(values)  # type: ignore[return-value]


def model_of(record: Any) -> type:
    """The model of an ORM instance or of a copy made by :func:`unattached`."""
    return record.__model__ if isinstance(record, Copy) else type(record)


def with_defaults(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """Every column of a row written with Core, the unset ones from their Python defaults as
    the ORM would fill them (or None), so a copy of the row (for the sync feed) holds what is
    stored."""
    for column in table.columns:
        if column.key not in row:
            row[column.key] = None if column.default is None else _python_default(column)()
    return row


class UUIDPrimaryKey:
    """For records a device may create offline: the device chooses the id."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class IntPrimaryKey:
    """For reference data created by administrators (units, standards, rounds ...)."""

    id: Mapped[int] = mapped_column(primary_key=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Timestamps:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: onupdate serves Core UPDATE statements; the ORM's are stamped by _stamp_update.
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


@event.listens_for(Timestamps, "before_update", propagate=True)
def _stamp_update(_mapper: Any, _connection: Any, target: Timestamps) -> None:
    # The instance is given the time the row gets. Left to the column's onupdate, a flush that
    # updates several rows in one executemany computes a time per row but may leave the first
    # in every instance, and a record published from its instance (the sync feed) then
    # disagrees with its row by microseconds. Only a real change is stamped: a flush also
    # visits instances whose attributes were set to the values they had.
    session = sa.orm.object_session(target)
    if session is not None and session.is_modified(target, include_collections=False):
        target.updated_at = utcnow()


class Mergeable:
    """Records devices edit offline: a version per write, and per field the version and time
    of its last write, which the merge rule (sync_protocol.merge) reads."""

    version: Mapped[int] = mapped_column(default=1)
    field_meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


def upsert(session: Session, model: type | sa.Table) -> Any:
    """The dialect's INSERT that knows ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


#: Below this many rows a plain executemany beats setting up a COPY (a request's few rows).
BULK_MIN_ROWS = 100


def among(session: Session, column: sa.ColumnElement[Any], values: Any) -> sa.ColumnElement[bool]:
    """``column IN values`` for long lists: on PostgreSQL one array bound to ``= ANY(...)``, so
    the statement's text stays short (the driver parses each new text again, and ten thousand
    placeholders cost more than the query)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def insert_rows(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of one shape in the session's transaction, the fastest way the
    database offers: PostgreSQL's COPY (a third of the time of a pipelined executemany for
    the thousands of rows a sweep or a push writes), the driver's own executemany on SQLite.

    Columns a row leaves out get their Python defaults, or the database's (an autoincrement
    id), as with an INSERT.
    """
    if not rows:
        return
    if len(rows) < BULK_MIN_ROWS:
        session.execute(sa.insert(table), rows)
        return
    connection = session.connection()
    shape = _shape(connection.dialect, table, tuple(rows[0]))
    if connection.dialect.name != "postgresql":
        _executemany(connection, shape, sa.insert(table), rows)
        return
    quote = connection.dialect.identifier_preparer
    statement = (f"COPY {quote.format_table(table)} ({', '.join(quote.quote(c.name) for c in shape.columns)}) "
                 "FROM STDIN")
    with _driver_errors(connection, statement):
        with connection.connection.dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for values in shape.bound(rows):
                copy.write_row(values)


def upsert_rows(session: Session, table: sa.Table, rows: list[dict[str, Any]], *, key: list[str],
                update: list[str]) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE of ``update`` for many rows of one shape, no two
    with the same key. On PostgreSQL the rows are copied into a temporary table and merged
    with one statement; elsewhere an executemany."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or len(rows) < BULK_MIN_ROWS:
        statement = upsert(session, table)
        statement = statement.on_conflict_do_update(
            index_elements=key, set_={name: statement.excluded[name] for name in update})
        if len(rows) < BULK_MIN_ROWS:
            session.execute(statement, rows)
        else:
            connection = session.connection()
            _executemany(connection, _shape(dialect, table, tuple(rows[0])), statement, rows)
        return
    staging = _staging(table)
    # Per connection, emptied by every commit; a savepoint rolled back may take it away again.
    session.execute(sa.text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging.name} "
                            f"(LIKE {table.name}) ON COMMIT DELETE ROWS"))
    insert_rows(session, staging, rows)
    names = list(rows[0])
    statement = postgresql.insert(table).from_select(names, sa.select(*(staging.c[n] for n in names)))
    session.execute(statement.on_conflict_do_update(
        index_elements=key, set_={name: statement.excluded[name] for name in update}))
    session.execute(sa.delete(staging))


@dataclass(frozen=True)
class _Shape:
    """The columns a bulk write sends for rows holding ``given`` keys, each with the type's
    conversion to what the driver takes, or the Python default that fills it when left out."""

    columns: tuple[sa.Column[Any], ...]
    plan: tuple[tuple[str, Callable[[Any], Any] | None, Callable[[], Any] | None], ...]

    def bound(self, rows: list[dict[str, Any]]) -> Iterator[list[Any]]:
        """Each row as the driver's values, in column order."""
        plan = self.plan
        if any(default is not None for _key, _process, default in plan):
            for row in rows:
                values = []
                for key, process, default in plan:
                    value = row[key] if default is None else default()
                    values.append(process(value) if process is not None and value is not None else value)
                yield values
            return
        # Every column given (the usual case: the callers fill the defaults themselves): the
        # values are taken at once and only the columns with a conversion are visited.
        take = operator.itemgetter(*(key for key, _process, _default in plan))
        converted = [(i, process) for i, (_key, process, _default) in enumerate(plan) if process is not None]
        for row in rows:
            values = list(take(row)) if len(plan) > 1 else [take(row)]
            for i, process in converted:
                value = values[i]
                if value is not None:
                    values[i] = process(value)
            yield values


@functools.lru_cache(maxsize=64)
def _shape(dialect: sa.Dialect, table: sa.Table, given: tuple[str, ...]) -> _Shape:
    columns = tuple(c for c in table.columns if c.key in given or c.default is not None)
    return _Shape(columns, tuple((c.key, c.type.dialect_impl(dialect).bind_processor(dialect),
                                  _python_default(c) if c.key not in given else None) for c in columns))


def _executemany(connection: sa.Connection, shape: _Shape, statement: Any, rows: list[dict[str, Any]]) -> None:
    """The statement for every row through the driver's executemany: SQLAlchemy's own would
    build and convert each row's parameters again, which for thousands of rows costs more
    than the database spends storing them."""
    keys = [c.key for c in shape.columns]
    compiled = statement.compile(dialect=connection.dialect, column_keys=keys)
    # The values go by position: the statement must take them in the shape's column order.
    assert list(compiled.positiontup) == keys, (compiled.positiontup, keys)
    with _driver_errors(connection, compiled.string):
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(compiled.string, shape.bound(rows))
        finally:
            cursor.close()


@contextlib.contextmanager
def _driver_errors(connection: sa.Connection, statement: str) -> Iterator[None]:
    """Driver errors raised as SQLAlchemy raises a statement's, so callers catch IntegrityError alike."""
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        yield
    except driver_error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, driver_error) from exc


@functools.cache
def _staging(table: sa.Table) -> sa.Table:
    return sa.Table(f"staging_{table.name}", sa.MetaData(),
                    *(sa.Column(c.name, c.type, key=c.key) for c in table.columns))


def _python_default(column: sa.Column[Any]) -> Any:
    default = column.default
    if default.is_callable:  # type: ignore[union-attr]
        return lambda: default.arg(None)  # type: ignore[union-attr]
    return lambda: default.arg  # type: ignore[union-attr]


def make_engine(url: str, *, pool_size: int = 5, busy_timeout_ms: int = 30_000) -> Engine:
    codec = {"json_serializer": jsoncodec.dumps, "json_deserializer": jsoncodec.loads}
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **codec)
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, busy_timeout_ms=busy_timeout_ms))
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over
        # (SQLAlchemy's "pysqlite serializable" recipe), and choose the kind of BEGIN ourselves.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(f"BEGIN {_sqlite_begin()}"))
        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **codec)


def _sqlite_begin() -> str:
    """IMMEDIATE for a request that writes (POST, PUT, PATCH, DELETE), DEFERRED otherwise.

    A deferred transaction that read first and then writes must upgrade its lock; in WAL mode
    SQLite refuses that at once with "database is locked" when another connection committed
    meanwhile, whatever the busy timeout. Taking the write lock at BEGIN makes a writing
    request wait (up to the busy timeout) instead. Reads (GET) keep WAL's readers-never-wait;
    work outside a request keeps SQLite's default unless it runs in :func:`writing`.
    """
    if _WRITING.get() or (has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")):
        return "IMMEDIATE"
    return "DEFERRED"


_WRITING: contextvars.ContextVar[bool] = contextvars.ContextVar("xuncha_writing", default=False)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside take SQLite's write lock at BEGIN, as a writing request's do:
    for work outside a request that reads and then writes (a scheduler job)."""
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


#: Page cache per SQLite connection, in KiB; taken as pages are used, not up front.
SQLITE_CACHE_KIB = 64 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_timeout_ms: int) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    # SQLite's default page cache is 2 MiB: a transaction writing tens of thousands of rows
    # (a sweep, a large push) spills its dirty pages into the WAL and reads them back.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


# -- transactions that may meet another one --------------------------------------------------

#: SQLSTATEs that say "run the transaction again": serialization failure, deadlock detected,
#: lock not available (lock_timeout). Nothing was committed; a fresh attempt may succeed.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def retryable(exc: BaseException) -> str | None:
    """Why ``exc`` is worth running the whole transaction again for (its SQLSTATE, or
    ``"sqlite_busy"``), or None."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return None
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    if state in RETRYABLE_SQLSTATES:
        return state
    if isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig):
        return "sqlite_busy"
    return None


@dataclass(frozen=True)
class Retry:
    """How often, and how far apart, a transaction that met another one is run again."""

    attempts: int = 4
    base_s: float = 0.02
    cap_s: float = 0.25

    def delay(self, attempt: int) -> float:
        # Full jitter: two transactions that collided do not collide again in step.
        return random.uniform(0, min(self.cap_s, self.base_s * 2 ** attempt))


class RetriesExhausted(Exception):
    """Every attempt met another transaction; the caller answers 503 (the client resends)."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(f"{attempts} attempts, the last one failed with {reason}")
        self.reason, self.attempts = reason, attempts


def run_retrying(session: Session, work: Callable[[], T], retry: Retry) -> T:
    """``work()`` and the commit, as one unit, run again from the start on a serialization
    failure, a deadlock, a lock timeout or a busy SQLite.

    Each attempt starts from a clean session: the failed transaction is rolled back, which
    drops what it added and expires everything it loaded, so every record is read again and
    nothing read before another transaction's commit is reused. ``work`` must have no effect
    outside the database.
    """
    for attempt in range(1, retry.attempts + 1):
        try:
            result = work()
            session.commit()
            return result
        except sa.exc.DBAPIError as exc:
            session.rollback()
            reason = retryable(exc)
            if reason is None:
                raise
            log.warning("transaction met another one (%s), attempt %d of %d", reason, attempt, retry.attempts)
            if attempt == retry.attempts:
                raise RetriesExhausted(reason, attempt) from exc
            time.sleep(retry.delay(attempt))
    raise AssertionError("unreachable")


class Database:
    """The engine and session factory of one app, kept in ``app.extensions``."""

    def __init__(self, url: str, *, pool_size: int = 5, busy_timeout_ms: int = 30_000) -> None:
        self.engine = make_engine(url, pool_size=pool_size, busy_timeout_ms=busy_timeout_ms)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessionmaker()

    def dispose(self) -> None:
        self.engine.dispose()


def database() -> Database:
    return current_app.extensions["xuncha.db"]


def session() -> Session:
    """The session of the current request, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = database().session()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
