"""Helpers of the import tests: a sheet written to a real file, run through the engine as a
command would (no request: every record in reach) or as a user through the API."""
from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa

from portal.excel import importer, steps
from portal.excel.importer import Who
from portal.extensions import db
from portal.models import ImportBatch, ImportRow

from .files import xlsx


def sheet_file(tmp_path: Path, rows, name: str = "客户.xlsx") -> Path:
    return xlsx(tmp_path / name, rows)


def prepared(tmp_path: Path, rows, resource: str = "customer", *, who: Who = Who(), mapping=None, **options
             ) -> ImportBatch:
    path = sheet_file(tmp_path, rows)
    batch = importer.upload(db.session, path, path.name, resource, who)
    db.session.commit()
    steps.run("prepare", batch, who, background=False, mapping=mapping, options=options or None)
    return batch


def committed(tmp_path: Path, rows, resource: str = "customer", *, who: Who = Who(), **options) -> ImportBatch:
    batch = prepared(tmp_path, rows, resource, who=who, **options)
    steps.run("commit", batch, who, background=False)
    return batch


def refused_commit(batch: ImportBatch, who: Who = Who()) -> importer.ImportRefused:
    """The commit of ``batch`` refused: the batch is still to be committed and no history
    names it (its transaction was rolled back whole). The refusal, for its message."""
    import pytest

    from portal.models import ChangeLog

    with pytest.raises(importer.ImportRefused) as refused:
        steps.run("commit", batch, who, background=False)
    db.session.expire_all()
    assert batch.status == "previewed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChangeLog)
                             .where(ChangeLog.source == f"import:{batch.id}")) == 0
    return refused.value


def staged(batch: ImportBatch) -> dict[int, ImportRow]:
    return {r.row_no: r for r in db.session.scalars(sa.select(ImportRow).filter_by(batch_id=batch.id))}


def upload(client, rows, resource: str = "customer", name: str = "名单.xlsx", tmp_path: Path | None = None):
    data = Path(sheet_file(tmp_path, rows, name)).read_bytes()
    return client.post(f"/api/v1/import/{resource}/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")
