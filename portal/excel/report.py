"""The error report of an import: the rows that were not imported (invalid or duplicate), as
they were in the file under the file's own headers, with the Excel row number and what is
wrong with them — ready to be fixed and imported again (the two extra columns are ignored).

A reader who may not see sensitive fields (the auditor reading a custodian's batch) gets the
file's sensitive columns masked here as in the preview: the columns mapped to such a field or
whose header names one (an ID number column left unmapped is still ID numbers)."""
from __future__ import annotations

import math

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.fields import FieldType
from portal.i18n import joined, pick
from portal.models import ImportBatch, ImportRow
from portal.models import imports as status
from portal.security.masking import MASK

from .export import ExportColumn, write_table
from .importer import model_of
from .mapping import resolve, suggest


def error_text(batch: ImportBatch, errors: dict | None) -> str:
    """"label: message" per cell in the file's column order, the row's own message first."""
    if not errors:
        return ""
    model = model_of(batch.resource)
    lines = [errors["_row"]] if "_row" in errors else []
    # The file's column order, however the row's errors were gathered and stored (jsonb keeps
    # its keys ordered by length).
    column = {key: int(i) for i, key in (batch.mapping or {}).items() if key}
    cells = sorted(((k, m) for k, m in errors.items() if k != "_row"), key=lambda item: column.get(item[0], math.inf))
    for key, message in cells:
        target = resolve(model, key, sees_sensitive=True)
        label = target.label if target else key
        # A relation's message names its field already (标签：列表中没有“金牌”): not twice.
        named = str(message).startswith((f"{label}：", f"{label}: "))
        lines.append(str(message) if named else f"{label}{pick('：', ': ')}{message}")
    return joined(lines, sentences=True)


def hidden_columns(batch: ImportBatch, sees_sensitive: bool) -> set[int]:
    """The file's columns a reader who may not see sensitive fields gets masked."""
    if sees_sensitive:
        return set()
    model = model_of(batch.resource)
    named = suggest(model, list(batch.headers or []), sees_sensitive=True)
    hidden = set()
    for column in range(len(batch.headers or [])):
        for key in ((batch.mapping or {}).get(str(column)), named.get(str(column))):
            target = resolve(model, key, sees_sensitive=True) if key else None
            if target is not None and target.spec is not None and target.spec.sensitive:
                hidden.add(column)
    return hidden


def masked_cells(cells: list, hidden: set[int]) -> list:
    """A row of the file with its hidden columns' values masked (empty cells stay empty)."""
    if not hidden:
        return cells
    return [MASK if i in hidden and cell not in (None, "") else cell for i, cell in enumerate(cells)]


def write_errors(stream, session: Session, batch: ImportBatch, *, sees_sensitive: bool = False) -> int:
    headers = list(batch.headers or [])
    columns = [ExportColumn(label=h or f"({i + 1})", type=FieldType.TEXT) for i, h in enumerate(headers)]
    columns += [ExportColumn(label=str(_l("Row in the file")), type=FieldType.INT, width=10),
                ExportColumn(label=str(_l("What is wrong")), type=FieldType.LONGTEXT, width=60)]
    table = ImportRow.__table__
    query = (sa.select(table.c.row_no, table.c.raw, table.c.errors)
             .where(table.c.batch_id == batch.id, table.c.status.in_((status.INVALID, status.DUPLICATE)))
             .order_by(table.c.row_no))

    hidden = hidden_columns(batch, sees_sensitive)

    def rows():
        for row in session.execute(query.execution_options(yield_per=1000)):
            cells = masked_cells(list(row.raw or [])[:len(headers)], hidden)
            cells += [None] * (len(headers) - len(cells))
            yield [*(c if c != "" else None for c in cells), row.row_no, error_text(batch, row.errors)]

    return write_table(stream, fmt="xlsx", sheet_name=str(_l("Rows not imported")), columns=columns, rows=rows())
