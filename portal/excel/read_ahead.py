"""The staged rows a commit writes, read ahead on a connection of their own (PostgreSQL).

A commit reads its staged rows a page at a time. Read on the connection that writes, each page
stops the writing: the server runs the SELECT, then waits while Python decodes the page's JSON
and turns to the next statements — 20 pages of new rows and 100 of updates in a 100,000-row
commit (bench/RESULTS.md). The staged rows were committed by the dry run, and the commit's
own connection read them as committed data too, a page at a time (READ COMMITTED), so a
second connection reads the same rows: in a thread, at most ``AHEAD`` pages ahead of the
writing (peak memory).

SQLite keeps reading on the session: its reads run in this process, with no server to idle.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from typing import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.models import ImportRow

from . import bulk

AHEAD = 2
_END = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def staged(connectable, batch_id: int, state: str, columns: list[str], size: int, *, mappings: bool = True):
    """The staged rows of one status (``columns`` of import_row), in file order, ``size`` at a
    time, read on a session or a connection: as mappings, or as rows (tuples)."""
    table = ImportRow.__table__
    selected = [table.c[c] for c in columns]
    last = 0
    while True:
        # Keyset pages along ix_import_row_batch_status (batch, status, row_no): each page is
        # read off the index, where ORDER BY id sorted every remaining row for every page.
        rows = connectable.execute(
            sa.select(*selected).where(table.c.batch_id == batch_id, table.c.status == state, table.c.row_no > last)
            .order_by(table.c.row_no).limit(size)).all()
        if not rows:
            return
        last = rows[-1].row_no
        # Handed over, not kept: a page held here while the caller works would stay in memory
        # after the caller lets it go (a chunk of staged values: 10 MB at 5,000 rows).
        held = [[r._mapping for r in rows] if mappings else rows]
        del rows
        yield held.pop()


def staged_pages(session: Session, pages: Callable[[object], Iterator[list]]):
    """A context manager giving ``pages(connectable)``'s pages: read ahead on a connection of
    their own where the database is a server, else read on the session as they are asked for."""
    if bulk.server_side(session):
        return ReadAhead(session.get_bind(), pages)
    return contextlib.nullcontext(pages(session))


class ReadAhead:
    """The pages of ``pages(connection)``, read by a thread on a connection of the engine's pool.
    Leaving the block early (the commit failed) stops the thread and gives the connection back."""

    def __init__(self, engine, pages: Callable[[object], Iterator[list]]):
        self.engine, self.pages = engine, pages
        self.queue: queue.Queue = queue.Queue(AHEAD)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._read, name="import-read-ahead", daemon=True)

    def __enter__(self) -> "ReadAhead":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        while self.thread.is_alive():   # a page waiting to be put is let go
            with contextlib.suppress(queue.Empty):
                self.queue.get(timeout=0.05)
        self.thread.join()

    def __iter__(self) -> Iterator[list]:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    def _read(self) -> None:
        try:
            with self.engine.connect() as connection:
                for page in self.pages(connection):
                    put = self._put(page)
                    del page   # the caller's once taken
                    if not put:
                        return
            self._put(_END)
        except Exception as error:   # the reader's failure is the commit's: raised where it iterates
            self._put(_Failed(error))

    def _put(self, item) -> bool:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False
