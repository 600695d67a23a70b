"""Retention of imports' staged rows and files and of grid batches (portal/excel/retention.py)."""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import time

import pytest
import sqlalchemy as sa
from portal.excel import importer, retention, steps
from portal.excel.importer import ImportRefused, Who
from portal.extensions import db
from portal.models import Customer, GridBatch, ImportBatch, ImportRow, ImportWritten
from tests.conftest import login

from .importing import committed, sheet_file

ROWS = [["客户编号", "客户名称", "城市"], ["KH-R1", "甲公司", "杭州"], ["KH-R2", "乙公司", "宁波"]]
TODAY = dt.date(2026, 12, 1)


def _age(batch: ImportBatch, days: int) -> None:
    batch.created_at = dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(9))
    db.session.commit()


def _rows_of(batch, table=ImportRow) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(table).filter_by(batch_id=batch.id))


def test_an_old_import_loses_its_rows_keeps_its_history_and_can_no_longer_be_undone(app, tmp_path):
    old = committed(tmp_path, ROWS, match=["number"])
    _age(old, 91)
    (tmp_path / "b").mkdir()
    recent = committed(tmp_path / "b", [ROWS[0], ["KH-R3", "丙公司", "温州"]], match=["number"])
    _age(recent, 30)
    assert _rows_of(old) == 2 and _rows_of(recent) == 1
    assert _rows_of(old, ImportWritten) == 2 and _rows_of(recent, ImportWritten) == 1   # what each commit wrote

    done = retention.prune(db.session, TODAY)
    db.session.commit()

    assert (done.import_batches, done.import_rows) == (1, 2)
    assert _rows_of(old) == 0 and _rows_of(recent) == 1
    assert _rows_of(old, ImportWritten) == 0 and _rows_of(recent, ImportWritten) == 1
    db.session.refresh(old)
    assert old.counts["created"] == 2 and old.file_name and retention.is_pruned(old)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 3  # the records stay
    with pytest.raises(ImportRefused) as refused:
        steps.run("undo", old, Who(), background=False)
    assert "90" in str(refused.value.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 3
    assert retention.prune(db.session, TODAY).import_batches == 0  # once only


def test_an_abandoned_upload_loses_its_file_and_a_running_import_is_left_alone(app, tmp_path):
    path = sheet_file(tmp_path, ROWS)
    abandoned = importer.upload(db.session, path, path.name, "customer", Who())
    running = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    running.status = "preparing"
    for batch in (abandoned, running):
        _age(batch, 200)
    stored = abandoned.stored_as
    assert os.path.exists(stored)

    done = retention.prune(db.session, TODAY)
    db.session.commit()

    assert (done.import_batches, done.files) == (1, 1)
    assert not os.path.exists(stored) and abandoned.stored_as is None
    assert os.path.exists(running.stored_as) and not retention.is_pruned(running)


def test_grid_batches_older_than_their_retention_are_removed(app):
    for key, days in (("old", 120), ("recent", 10)):
        db.session.add(GridBatch(id=key, resource="customer", request={}, state="applied",
                                 created_at=dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time())))
    db.session.commit()
    assert retention.prune(db.session, TODAY).grid_batches == 1
    db.session.commit()
    assert [b.id for b in db.session.scalars(sa.select(GridBatch))] == ["recent"]


def test_the_retention_is_never_under_a_week(app):
    app.config["IMPORT_RETENTION_DAYS"] = 0
    app.config["GRID_BATCH_RETENTION_DAYS"] = -5
    assert (retention.import_days(), retention.grid_days()) == (7, 7)


def test_a_pruned_batch_shows_why_it_cannot_be_undone(app, client, tmp_path):
    batch = committed(tmp_path, ROWS, match=["number"])
    _age(batch, 365)
    retention.prune(db.session, TODAY)
    db.session.commit()
    login(client, "admin")
    body = client.get(f"/api/v1/import/batches/{batch.id}").get_json()
    assert body["can_undo"] is False and "90" in body["notice"]
    answer = client.post(f"/api/v1/import/batches/{batch.id}/undo", json={})
    assert answer.status_code == 409 and "90" in answer.get_json()["message"]


def test_the_command_prunes_and_says_what_it_removed(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "prune-batches"])
    assert result.exit_code == 0 and "0 batches pruned" in result.output and "90 days" in result.output


def test_temporary_sheets_of_interrupted_reads_older_than_an_hour_are_removed(app, tmp_path, monkeypatch):
    from portal.excel import reader

    from .files import xlsx

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setattr(reader, "PIECE_CELLS", 10)   # read in pieces: through a temporary workbook
    path = xlsx(tmp_path / "big.xlsx", [["客户名称", "城市"]] + [[f"客户{i}", "杭州"] for i in range(3000)])
    with reader.open_workbook(path, path.name) as book:
        rows = book.rows(book.first_with_data())
        next(rows)
        # what a process killed here leaves behind
        left = [f for f in os.listdir(folder)
                if f.startswith(retention.TEMPORARY_SHEET_PREFIX) and f.endswith(retention.TEMPORARY_SHEET_SUFFIX)]
        assert len(left) == 1
        stale = folder / left[0]
        stale_copy = folder / (retention.TEMPORARY_SHEET_PREFIX + "killed.xlsx")
        stale_copy.write_bytes(stale.read_bytes())
        rows.close()
    fresh = folder / (retention.TEMPORARY_SHEET_PREFIX + "reading.xlsx")
    fresh.write_bytes(b"a read in progress")
    other = folder / "portal-sheet-notes.txt"
    other.write_text("not ours")
    two_hours_ago = time.time() - 7200
    os.utime(stale_copy, (two_hours_ago, two_hours_ago))
    os.utime(other, (two_hours_ago, two_hours_ago))

    done = retention.prune(db.session, TODAY)
    assert done.temporary_sheets == 1
    assert not stale_copy.exists() and fresh.exists() and other.exists()
    os.utime(fresh, (two_hours_ago, two_hours_ago))
    result = app.test_cli_runner().invoke(args=["portal", "prune-batches"])
    assert result.exit_code == 0 and "older than an hour: 1 removed" in result.output
    assert not fresh.exists() and other.exists()
