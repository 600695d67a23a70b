"""SQLite's log checkpointed after a large import step rather than inside its commit
(portal/sqlite_wal.py): what is committed is kept either way; only when the database file
catches up with the log moves."""
from __future__ import annotations

import os

import sqlalchemy as sa

from portal import sqlite_wal
from portal.excel import jobs, steps
from portal.excel.importer import Who
from portal.extensions import db
from portal.models import Customer, ImportBatch

from .excel.importing import prepared

PAGES = 2000   # rows of 4 KB: twice what SQLite lets the log hold before a commit checkpoints it


def _scratch() -> None:
    db.session.execute(sa.text("CREATE TABLE IF NOT EXISTS wal_scratch (x TEXT)"))
    db.session.commit()


def _write_pages(connection) -> None:
    connection.execute(sa.text("INSERT INTO wal_scratch VALUES (:x)"), [{"x": f"{i:04d}" * 1024} for i in range(PAGES)])


def _file_size() -> int:
    return os.path.getsize(db.engine.url.database)


def test_inside_deferred_no_commit_checkpoints_and_the_end_does(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            with sqlite_wal.deferred(db.session):   # nothing to defer: committed as usual
                db.session.add(Customer(number="WAL-1", name="日志客户", customer_type="org"))
                db.session.commit()
            assert db.session.scalar(sa.select(sa.func.count()).where(Customer.number == "WAL-1")) == 1
            return
        _scratch()
        sqlite_wal.checkpoint(db.engine)
        size = _file_size()
        with sqlite_wal.deferred(db.session):
            _write_pages(db.session)
            db.session.commit()
            assert _file_size() == size   # the pages are in the log only
            with db.engine.begin() as other:   # another connection checked out meanwhile
                _write_pages(other)
            assert _file_size() == size
            assert db.session.scalar(sa.text("SELECT count(*) FROM wal_scratch")) == 2 * PAGES
        assert _file_size() > size + PAGES * 4096   # checkpointed when the block ends


def test_outside_deferred_a_large_commit_checkpoints_as_sqlite_does(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        _scratch()
        with sqlite_wal.deferred(db.session):
            pass
        sqlite_wal.checkpoint(db.engine)
        size = _file_size()
        _write_pages(db.session)   # on a connection that was set not to checkpoint in the block
        db.session.commit()
        assert _file_size() > size + PAGES * 4096


def test_a_background_step_checkpoints_once_it_is_shown_finished(app, tmp_path, monkeypatch):
    """The clerk's page sees the step finished (its progress file gone, the batch committed)
    before the log is copied into the database file."""
    seen = []
    checkpoint = sqlite_wal.checkpoint

    def spy(engine):
        with engine.connect() as connection:
            status = connection.execute(sa.select(ImportBatch.status).where(ImportBatch.id == batch_id)).scalar()
        seen.append((jobs.progress_path(batch_id).exists(), status))
        checkpoint(engine)

    monkeypatch.setattr(sqlite_wal, "checkpoint", spy)
    batch = prepared(tmp_path, [["客户名称", "手机"], ["后台客户", "13900000001"]], match=[], mode="create")
    batch_id = batch.id
    steps.run("commit", batch, Who(), background=True)
    jobs.wait(batch_id, 60)
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch_id).status == "committed"
    if db.engine.dialect.name == "sqlite":
        assert seen == [(False, "committed")]
    else:
        assert seen == []


def test_a_failed_checkpoint_leaves_the_committed_step_as_it_is(app, tmp_path, monkeypatch, caplog):
    """The log copied later by SQLite itself: the import stays committed, the step reports no
    failure, and connections checkpoint by themselves again."""
    def failing(engine):
        raise sa.exc.OperationalError("PRAGMA wal_checkpoint(PASSIVE)", {}, Exception("database is locked"))

    monkeypatch.setattr(sqlite_wal, "checkpoint", failing)
    batch = prepared(tmp_path, [["客户名称", "手机"], ["锁住客户", "13900000002"]], match=[], mode="create")
    batch_id = batch.id
    steps.run("commit", batch, Who(), background=True)
    jobs.wait(batch_id, 60)
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == "committed" and batch.error is None
    assert db.session.scalar(sa.select(sa.func.count()).where(Customer.name == "锁住客户")) == 1
    assert sqlite_wal._deferring == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]   # not reported as a failed step
