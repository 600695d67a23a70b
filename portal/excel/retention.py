"""How long an import's and a grid edit's working data is kept.

An import batch keeps its staged rows (what each row of the file became, and what the commit
wrote, which its undo reads) and, until it is committed, the uploaded file. A grid batch keeps
what one paste or edit wrote, for its undo and so a re-sent request is not applied twice. None
of this is the archive: the records and their change history stay. After the retention period
(``IMPORT_RETENTION_DAYS``, ``GRID_BATCH_RETENTION_DAYS``; 90 days by default, never under 7)
``flask portal prune-batches`` removes it. The import batch itself stays in the import history
with its file name, user, mapping and counts, marked as pruned, and can no longer be undone:
``undo`` refuses it with that reason.

It also removes the temporary workbooks a piecewise read of a big .xlsx leaves behind when its
process is killed mid-read (portal/excel/reader.py, ``_SheetPieces``: ``portal-sheet-*.xlsx``
in the system's temporary folder) once they are an hour old: a read in progress rewrites its
file with every piece, so one untouched for an hour belongs to no running read.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import tempfile
import time

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.models import GridBatch, ImportBatch, ImportRow, ImportWritten
from portal.models import imports as status

MIN_DAYS = 7
PRUNED = "pruned_on"  # the key in ImportBatch.options saying when its rows were removed
# reader._SheetPieces' temporary workbook: tempfile.mkstemp(prefix=…, suffix=…) in tempfile's folder
TEMPORARY_SHEET_PREFIX, TEMPORARY_SHEET_SUFFIX = "portal-sheet-", ".xlsx"
TEMPORARY_SHEET_AGE = 3600  # seconds


def _days(name: str) -> int:
    return max(int(current_app.config.get(name, 90)), MIN_DAYS)


def import_days() -> int:
    return _days("IMPORT_RETENTION_DAYS")


def grid_days() -> int:
    return _days("GRID_BATCH_RETENTION_DAYS")


def is_pruned(batch: ImportBatch) -> bool:
    return bool((batch.options or {}).get(PRUNED))


def pruned_notice(batch: ImportBatch):
    """Why a pruned batch shows no rows and cannot be undone (None for any other batch)."""
    if not is_pruned(batch):
        return None
    return _l("This import is older than %(n)s days: its rows and file are no longer kept, so it cannot be "
              "undone (the records and their change history are kept).", n=import_days())


@dataclasses.dataclass
class Pruned:
    import_batches: int = 0
    import_rows: int = 0
    files: int = 0
    grid_batches: int = 0
    temporary_sheets: int = 0


def prune(session: Session, today: dt.date | None = None) -> Pruned:
    """Remove the staged rows and files of import batches, and the grid batches, older than
    their retention period; the caller commits. Batches still running are left alone."""
    today = today or dt.date.today()
    done = Pruned()
    cutoff = dt.datetime.combine(today - dt.timedelta(days=import_days()), dt.time())
    old = session.scalars(sa.select(ImportBatch).where(ImportBatch.created_at < cutoff,
                                                       ImportBatch.status.not_in(status.RUNNING))).all()
    rows, written = ImportRow.__table__, ImportWritten.__table__
    for batch in old:
        if is_pruned(batch):
            continue
        session.execute(sa.delete(written).where(written.c.batch_id == batch.id))
        done.import_rows += session.execute(sa.delete(rows).where(rows.c.batch_id == batch.id)).rowcount or 0
        if batch.stored_as and os.path.exists(batch.stored_as):
            os.remove(batch.stored_as)
            done.files += 1
        folder = os.path.dirname(batch.stored_as) if batch.stored_as else None
        if folder and os.path.isdir(folder) and not os.listdir(folder):
            shutil.rmtree(folder, ignore_errors=True)
        batch.stored_as = None
        batch.options = {**(batch.options or {}), PRUNED: today.isoformat()}
        done.import_batches += 1
    grid_cutoff = dt.datetime.combine(today - dt.timedelta(days=grid_days()), dt.time())
    table = GridBatch.__table__
    done.grid_batches = session.execute(sa.delete(table).where(table.c.created_at < grid_cutoff)).rowcount or 0
    done.temporary_sheets = prune_temporary_sheets()
    return done


def prune_temporary_sheets(now: float | None = None, folder: str | None = None) -> int:
    """Remove the reader's temporary workbooks (``portal-sheet-*.xlsx`` in ``folder``, the
    temporary folder by default) last written over an hour before ``now`` (a Unix time,
    default: now); how many were removed. Files that cannot be removed (another user's) stay."""
    cutoff = (time.time() if now is None else now) - TEMPORARY_SHEET_AGE
    removed = 0
    try:
        entries = list(os.scandir(folder or tempfile.gettempdir()))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(TEMPORARY_SHEET_PREFIX) and entry.name.endswith(TEMPORARY_SHEET_SUFFIX)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.remove(entry.path)
                removed += 1
        except OSError:
            continue
    return removed
