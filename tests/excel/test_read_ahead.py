"""Staged rows read ahead on a connection of their own (excel/read_ahead.py): the same pages as
read on the session, a reader that stops and gives its connection back when the commit stops
early, and the reader's failure raised where the commit reads."""
from __future__ import annotations

import functools
import threading

import pytest
import sqlalchemy as sa

from portal.excel import read_ahead
from portal.extensions import db
from portal.models import ImportBatch, ImportRow
from portal.models import imports as status


def _staged_batch(rows: int) -> int:
    batch = ImportBatch(resource="customer", file_name="read-ahead.xlsx", status=status.PREVIEWED)
    db.session.add(batch)
    db.session.flush()
    db.session.execute(sa.insert(ImportRow.__table__), [
        {"batch_id": batch.id, "row_no": n + 2, "status": status.NEW if n % 3 else status.INVALID,
         "values": {"name": f"客户{n}", "number": f"RA{n:05d}"}} for n in range(rows)])
    db.session.commit()   # the dry run's staged rows are committed before the commit reads them
    return batch.id


def _pages(batch_id: int):
    return functools.partial(read_ahead.staged, batch_id=batch_id, state=status.NEW,
                             columns=["id", "row_no", "values"], size=7, mappings=False)


def test_the_pages_read_ahead_are_those_read_on_the_session(app):
    with app.app_context():
        batch_id = _staged_batch(100)
        on_session = [[tuple(r) for r in page] for page in _pages(batch_id)(db.session)]
        with read_ahead.staged_pages(db.session, _pages(batch_id)) as pages:
            assert isinstance(pages, read_ahead.ReadAhead) is (db.engine.dialect.name == "postgresql")
            got = [[tuple(r) for r in page] for page in pages]
        assert got == on_session
        assert [r[1] for page in got for r in page] == [n + 2 for n in range(100) if n % 3]
        assert all(len(page) == 7 for page in got[:-1]) and 0 < len(got[-1]) <= 7
        assert got[0][0][2] == {"name": "客户1", "number": "RA00001"}   # the JSON decoded


def test_a_commit_that_stops_early_stops_the_reader_and_frees_its_connection(app):
    with app.app_context():
        batch_id = _staged_batch(200)
        pool = db.engine.pool
        before = pool.checkedout()
        produced = []

        def pages(connection):
            for page in _pages(batch_id)(connection):
                produced.append(len(page))
                yield page

        reader = read_ahead.ReadAhead(db.engine, pages)
        with pytest.raises(RuntimeError, match="写入失败"):
            with reader as pages:
                for _ in pages:
                    raise RuntimeError("写入失败")   # the commit fails after its first page
        assert not reader.thread.is_alive()
        # stopped a few pages ahead of the one read, not after reading all 20
        assert len(produced) <= read_ahead.AHEAD + 2 < 20
        assert pool.checkedout() == before
        assert not [t for t in threading.enumerate() if t.name == "import-read-ahead"]


def test_the_readers_failure_is_raised_where_the_commit_reads(app):
    def pages(connection):
        yield [("first",)]
        connection.execute(sa.text("SELECT * FROM no_such_table"))
        yield [("never",)]

    with app.app_context():
        read = []
        with pytest.raises(sa.exc.DBAPIError):
            with read_ahead.ReadAhead(db.engine, pages) as ahead:
                for page in ahead:
                    read.append(page)
        assert read == [[("first",)]]


def test_a_page_handed_over_is_not_kept_by_the_reader(app):
    """The caller lets a chunk's staged values go once built (peak memory): the pager must not
    hold on to it while it waits to read the next page."""
    with app.app_context():
        batch_id = _staged_batch(30)
        for mappings in (False, True):
            pages = read_ahead.staged(db.session, batch_id, status.NEW, ["id", "row_no", "values"], 7,
                                      mappings=mappings)
            page = next(pages)
            assert len(page) == 7
            assert all(value is not page and not (isinstance(value, list) and page in value)
                       for value in pages.gi_frame.f_locals.values())
            pages.close()
