"""Engines for PostgreSQL (asyncpg) and SQLite (aiosqlite) that behave alike.

SQLite needs two corrections to match PostgreSQL: pysqlite's implicit transactions are
turned off so that ``BEGIN`` really starts one, and write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of one failing with
"database is locked" when it upgrades a read lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Table, bindparam, event, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

WRITE = {"aftercare_write": True}

OUTAGES: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # the pool found no connection in time
    OSError,
    TimeoutError,
)
"""Driver errors that mean the database is away rather than the request being wrong."""


DATABASE_ERRORS: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, sa_exc.TimeoutError)
"""Any failure reported by the database or its driver: what a loop that must outlive it
(a sender, a dispatcher) logs and waits out, without naming the driver itself."""


def is_outage(error: BaseException) -> bool:
    """True when ``error`` says the database cannot be reached (trying later may work)."""
    return isinstance(error, OUTAGES) or (
        isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated
    )


async def seconds_until_due(
    engine: AsyncEngine,
    table: Table,
    now: datetime,
    partitions: Collection[int] | None = None,
) -> float | None:
    """Seconds until the earliest ``next_due`` of ``table`` (rows of ``partitions`` only),
    from its index: how long a scheduler may sleep. None when nothing is due at all."""
    query = select(func.min(table.c.next_due))
    if partitions is not None:
        query = query.where(table.c.partition.in_(list(partitions)))
    async with engine.connect() as connection:
        earliest = (await connection.execute(query)).scalar_one_or_none()
    if earliest is None:
        return None
    remaining: timedelta = earliest - now
    return remaining.total_seconds()


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; for SQLite the file's folder is created and WAL mode switched on."""
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", _json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if parsed.get_backend_name() != "sqlite":
        # Up to 40 connections, as before, but each kept once opened: with 20 kept and 20
        # "overflow" ones, every burst past 20 requests opened connections and every
        # lull closed them again (about 10 a second under the benchmark's 32 clients),
        # and each opening cost its request 50-100 ms (TLS negotiation, authentication,
        # asyncpg's type queries) and blocked the event loop meanwhile: p99 latency was
        # 370-540 ms against 120-150 ms with the connections kept. The pool still opens
        # them only as the load asks.
        kwargs.setdefault("pool_size", 40)
        kwargs.setdefault("max_overflow", 0)
        # No pre-ping: it costs a round trip per checkout; a connection the server
        # closed fails its statement, is discarded, and the caller's retry gets a new one.
        kwargs.setdefault("pool_recycle", 1800)
        return create_async_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("aftercare_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


async def writing(connection: AsyncConnection) -> AsyncConnection:
    """Mark a connection as about to write, before its transaction begins."""
    return await connection.execution_options(**WRITE)


async def statement_by_statement(connection: AsyncConnection) -> AsyncConnection:
    """On PostgreSQL, a connection whose statements each commit on their own: for work
    of one statement (a poll of the log, a checkpoint), which a transaction would wrap
    in two more round trips (BEGIN, COMMIT or ROLLBACK). SQLite's connections stay as
    they are (their transactions take the write lock: ``transaction``)."""
    if connection.dialect.name != "postgresql":
        return connection
    return await connection.execution_options(isolation_level="AUTOCOMMIT")


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write transaction: committed when the block ends, rolled back if it raises. On
    SQLite it takes the write lock at once (``BEGIN IMMEDIATE``), so two writers queue
    instead of one failing when it upgrades a read lock."""
    async with engine.connect() as connection:
        connection = await writing(connection)
        async with connection.begin():
            yield connection


@asynccontextmanager
async def one_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for a write of one statement: on PostgreSQL the statement commits by
    itself (no BEGIN and COMMIT around it); on SQLite it is a write ``transaction``."""
    if engine.dialect.name != "postgresql":
        async with transaction(engine) as connection:
            yield connection
        return
    async with engine.connect() as connection:
        yield await statement_by_statement(connection)


async def insert_if_absent(connection: AsyncConnection, table: Table, row: dict[str, Any]) -> bool:
    """Insert ``row`` unless its primary key exists; True when it was inserted."""
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    result = await connection.execute(insert(table).values(row).on_conflict_do_nothing())
    return bool(result.rowcount)


_INSERTS: dict[tuple[str, str, tuple[str, ...], bool], Any] = {}


def _insert_absent_statement(
    dialect: str, table: Table, columns: tuple[str, ...], returning: str | None
) -> Any:
    """Built once per shape. On PostgreSQL the rows go as one array per column, unnested
    by the server: a single set of parameters, where an executemany binds every row's
    values one by one (the most of a bulk insert's client time)."""
    key = (dialect, table.name, columns, returning is not None)
    statement = _INSERTS.get(key)
    if statement is None:
        if dialect == "postgresql":
            arrays = [bindparam(name, type_=ARRAY(table.c[name].type)) for name in columns]
            unnested = func.unnest(*arrays).table_valued(*columns).render_derived()
            rows = select(*(unnested.c[name] for name in columns))
            statement = pg_insert(table).from_select(list(columns), rows)
        else:
            statement = sqlite_insert(table)
        statement = statement.on_conflict_do_nothing()
        if returning is not None:
            statement = statement.returning(table.c[returning])
        _INSERTS[key] = statement
    return statement


async def _insert_absent(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    returning: str | None = None,
) -> Any:
    columns = tuple(rows[0])
    dialect = connection.dialect.name
    statement = _insert_absent_statement(dialect, table, columns, returning)
    if dialect == "postgresql":
        arrays = {name: [row[name] for row in rows] for name in columns}
        return await connection.execute(statement, arrays)
    return await connection.execute(statement, list(rows))


async def insert_all_absent(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert every row whose primary key is new, in one statement; rows already there
    are left as they are. Every row has the same columns."""
    if rows:
        await _insert_absent(connection, table, rows)


async def inserted_of(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], column: str
) -> set[Any]:
    """``insert_all_absent`` that says which rows it inserted: the ``column`` values of
    those (a row whose key was there already, or came in meanwhile, is not among them)."""
    if not rows:
        return set()
    result = await _insert_absent(connection, table, rows, column)
    return set(result.scalars())


_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], Any] = {}


def _upsert_statement(
    dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...]
) -> Any:
    """Built once per shape: constructing ``excluded`` column proxies costs more than the
    round trip it prepares."""
    cache_key = (dialect, table.name, columns, keys)
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        base = insert(table)
        statement = base.on_conflict_do_update(
            index_elements=[table.c[name] for name in keys],
            set_={name: base.excluded[name] for name in columns if name not in keys},
        )
        _UPSERTS[cache_key] = statement
    return statement


async def upsert(
    connection: AsyncConnection,
    table: Table,
    row: dict[str, Any],
    key: str | Sequence[str],
) -> None:
    """Insert ``row``, or update every other column where the ``key`` column(s) match."""
    keys = (key,) if isinstance(key, str) else tuple(key)
    statement = _upsert_statement(connection.dialect.name, table, tuple(row), keys)
    await connection.execute(statement, row)


async def upsert_all(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: str | Sequence[str],
) -> None:
    """``upsert`` for many rows of the same columns, in one executemany."""
    if not rows:
        return
    keys = (key,) if isinstance(key, str) else tuple(key)
    statement = _upsert_statement(connection.dialect.name, table, tuple(rows[0]), keys)
    await connection.execute(statement, list(rows))
