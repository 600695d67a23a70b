"""SQLite's write-ahead log checkpointed after a large import step instead of inside its commit.

In WAL mode, the connection whose commit leaves the log above ``wal_autocheckpoint`` pages
(1,000 by default) copies the whole log into the database file and syncs both before that
commit returns. After the commit of a 100,000-row import the log holds about 200 MB: 0.6–0.9 s
in which the clerk's import is written but not yet shown as finished (bench/RESULTS.md). Within
:func:`deferred`, the connections the process checks out do not checkpoint by themselves; when
the step is done and its result shown, the step checkpoints the log (PASSIVE: readers and
writers go on meanwhile) and connections checkpoint as usual again. PostgreSQL: nothing changes.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import scoped_session

log = logging.getLogger(__name__)
DEFAULT_PAGES = 1000   # SQLite's own wal_autocheckpoint
_KEY = "wal_autocheckpoint"
_lock = threading.Lock()
_deferring = 0         # steps inside deferred(), in every thread of the process


def install() -> None:
    """Give each SQLite connection checked out of a pool the autocheckpoint :func:`deferred`
    asks for (called once per process, by create_app)."""

    @sa.event.listens_for(sa.pool.Pool, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        if isinstance(dbapi_connection, sqlite3.Connection):
            _set(dbapi_connection, record.info, 0 if _deferring else DEFAULT_PAGES)


def _set(dbapi_connection, info: dict, pages: int) -> None:
    if info.get(_KEY, DEFAULT_PAGES) != pages:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={pages}")
        info[_KEY] = pages


@contextmanager
def deferred(session):
    """No automatic checkpoint by this process's connections inside the block (the session's
    current one included); the log checkpointed when it ends."""
    if isinstance(session, scoped_session):
        session = session()
    engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        yield
        return
    global _deferring
    with _lock:
        _deferring += 1
    try:
        pooled = session.connection().connection   # checked out already: set here
        _set(pooled.dbapi_connection, pooled.info, 0)
        yield
    finally:
        try:
            checkpoint(engine)
        except sa.exc.SQLAlchemyError:
            # What the step wrote is committed whatever happens here; the connections' own
            # checkpoints (back once the block ends) copy the log instead.
            log.warning("checkpoint after an import step failed; left to SQLite", exc_info=True)
        finally:
            with _lock:
                _deferring -= 1
            _restore(session)


def _restore(session) -> None:
    """The step's connection, when the session still holds it, checkpoints as usual again
    (a connection checked out later is set at its checkout)."""
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return
    pooled = session.connection().connection
    _set(pooled.dbapi_connection, pooled.info, 0 if _deferring else DEFAULT_PAGES)


def checkpoint(engine) -> None:
    """Copy what the log holds into the database file, as far as readers allow (PASSIVE)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
