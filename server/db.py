"""Database engine, declarative base, migrations and one session per unit of work."""

from __future__ import annotations

import datetime
import enum
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Engine, Enum, MetaData, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Stable constraint names, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_T = TypeVar("_T")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime.datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime.datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(datetime.UTC)

    def process_result_value(self, value: datetime.datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


def value_enum(e: type[enum.Enum], name: str) -> Enum:
    """An enum column type storing values (not names): a plain VARCHAR + CHECK on every backend."""
    return Enum(
        e, name=name, native_enum=False, values_callable=lambda x: [m.value for m in x], length=32
    )


# what a client is told when the database cannot be reached: nothing was saved, try again
UNAVAILABLE_CODE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service is briefly unavailable and nothing was saved; please try again."
# the database errors that mean "unreachable or busy for now", not a fault of the request
UNAVAILABLE = (OperationalError, InterfaceError)


def unavailable(error: BaseException | None) -> bool:
    """The database dropped the connection, went away or was busy: worth a retry.

    The connection is invalidated by SQLAlchemy when it was lost; the pool (with
    pre-ping on PostgreSQL) hands the next request a fresh one.
    """
    if disk_full(error):
        return False  # not "busy for now": nothing will be saved until an operator acts
    if isinstance(error, UNAVAILABLE):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


# SQLite's and PostgreSQL's words (and SQLSTATE 53100) for a database that cannot grow
_DISK_FULL = ("database or disk is full", "no space left on device", "could not extend file")


def disk_full(error: BaseException | None) -> bool:
    """The database refused a write for want of disk space."""
    if error is None:
        return False
    original = getattr(error, "orig", None) or error
    if getattr(original, "sqlstate", None) == "53100":
        return True
    text = str(original).casefold()
    return any(words in text for words in _DISK_FULL)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """An engine for `url`; `schema` pins PostgreSQL's search_path (tests use one per run)."""
    u = make_url(url)
    kwargs: dict[str, Any] = {}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False}
    elif u.get_backend_name() == "postgresql":
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        # no ping on every checkout (a round trip per request): connections are replaced
        # after POOL_RECYCLE_S, pinged only after IDLE_PING_S unused (_ping_if_idle), and a
        # connection found broken anyway invalidates the pool, so the next request
        # reconnects
        kwargs["pool_recycle"] = POOL_RECYCLE_S
        if schema:
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    engine = create_engine(u, **kwargs)
    if u.get_backend_name() == "postgresql":
        event.listen(engine.pool, "checkout", _ping_if_idle(engine))
        event.listen(engine.pool, "checkin", _note_checkin)
    if u.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "checkin", _sqlite_end_transaction)
    return engine


def _sqlite_end_transaction(dbapi_connection: Any, _record: Any) -> None:
    # A COMMIT refused with "database is locked" leaves SQLite's transaction open while
    # SQLAlchemy counts it as ended and skips the pool's rollback: the next request on
    # this connection would fail at BEGIN. End it before the connection is reused.
    if dbapi_connection is not None and dbapi_connection.in_transaction:
        dbapi_connection.rollback()


# SQLite: how long a writer waits for the one write lock before "database is locked"
SQLITE_BUSY_TIMEOUT_MS = 5000
# the connection option write_first() sets: the transaction takes SQLite's write lock first
WRITE_FIRST = "write_first"


POOL_RECYCLE_S = 1800
# A connection that sat unused this long may have been closed by the server, a proxy or
# a firewall: ping it before handing it out. Busy connections are not pinged.
IDLE_PING_S = 30.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in")
        if last is None or time.monotonic() - last < IDLE_PING_S:
            return  # new, or used moments ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception:
            alive = False
        if not alive:
            # the pool drops this connection and checks out another (SQLAlchemy's
            # documented pessimistic-disconnect recipe)
            raise exc.DisconnectionError("the idle connection was closed")

    return checkout


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy issues BEGIN instead
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # WAL: readers never wait for the writer, nor the writer for readers (a file database;
    # an in-memory one answers "memory" and stays as it is)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; fsync at checkpoints
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A transaction that reads and then writes cannot wait for the write lock: another
    # writer committing in between makes its snapshot stale and SQLite refuses at once
    # ("database is locked", whatever the busy timeout). One marked write_first asks for
    # the lock as it begins, where the busy timeout does apply.
    immediate = conn.get_execution_options().get(WRITE_FIRST, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def write_first(session: Session) -> Session:
    """Mark the session's next transaction as one that will write: on SQLite it starts
    with BEGIN IMMEDIATE, waiting (up to the busy timeout) for the one write lock instead
    of failing when another writer got there between its reads and its writes; other
    databases take their row locks as they go and are left as they are. Call it before
    the transaction's first statement (a session already in a transaction is left as
    it is); keep such transactions short, as they hold SQLite's writers back.
    """
    if not session.in_transaction():
        bind = session.get_bind()
        if bind.dialect.name == "sqlite":
            session.connection(execution_options={WRITE_FIRST: True})
    return session


def insert_once(session: Session, model: type[_T], key: str, **values: Any) -> tuple[_T, bool]:
    """The row of `model` whose unique column `key` has `values[key]`, and whether it was
    inserted now with `values` (one INSERT ... ON CONFLICT DO NOTHING RETURNING, no
    savepoint) rather than found (a retried request, a race lost: left as it is)."""
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    column = getattr(model, key)
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=[column])
    row = session.scalar(stmt.returning(model))
    if row is None:
        row = session.scalar(select(model).where(column == values[key]))
        if row is None:  # inserted and deleted in between: nothing to give
            raise RuntimeError(f"{model.__name__}: the row of {key} went away")
        return row, False
    return row, True


def alembic_config(engine: Engine | None = None, vault: Any = None) -> Any:
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    if vault is not None:
        config.attributes["vault"] = vault  # data migrations that encrypt existing rows
    return config


def migrate(engine: Engine, vault: Any = None) -> None:
    """Bring the database to the newest migration (idempotent).

    `vault` encrypts existing rows where a migration moves a column to encrypted storage;
    without it the settings' key is used.
    """
    from alembic import command

    command.upgrade(alembic_config(engine, vault), "head")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit off: results built in a request stay readable after its commit
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, committed when the block ends normally, rolled back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
