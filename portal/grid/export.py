"""Export of exactly what a grid shows (GET …/export): the rows its query yields — scope,
filters, search and sort as on screen — and its visible columns in their order, with
related records and choices as their labels and sensitive values masked. The rows stream
from the database in chunks into portal.excel's writer; nothing holds the whole table."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.excel.export import FORMATS, ExportColumn, write_table
from portal.fields import FieldSpec, FieldType
from portal.security import masking

from .columns import grid_specs
from .lookups import label_of
from .query import GridRequest, GridRequestError, ordering, selection, spec_for
from .resources import GridResource
from .rows import eager_relations, field_value

MAX_ROWS = 1_000_000
CHUNK = 1000
MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}


def export_specs(model, names: str | None) -> list[FieldSpec]:
    """The columns named (``a,b,c``, in that order), or the grid's visible ones."""
    names = [n.strip() for n in (names or "").split(",") if n.strip()]
    if not names:
        return [s for s in grid_specs(model) if s.listed]
    return [spec_for(model, name) for name in names]


def export_value(spec: FieldSpec, value, sees_sensitive: bool):
    """A plain value for the file: labels for relations and choices, masked where masked."""
    if spec.sensitive and not sees_sensitive:
        return masking.mask(spec, value)
    if value is None:
        return None
    if spec.type == FieldType.RELATION:
        return label_of(value)
    if spec.type == FieldType.CHOICE:
        return spec.choice_label(value)
    return value


def _rows(session: Session, query, specs: list[FieldSpec], sees: bool):
    for item in session.scalars(query.execution_options(yield_per=CHUNK)):
        yield [export_value(spec, field_value(item, spec), sees) for spec in specs]


def export(session: Session, resource: GridResource, request: GridRequest, names: str | None, fmt: str,
           stream) -> tuple[int, list[FieldSpec]]:
    """Write the view to ``stream``; (rows written, the columns). Raises GridRequestError."""
    if fmt not in FORMATS:
        raise GridRequestError(_l("Export as xlsx or csv."))
    model = resource.model
    specs = export_specs(model, names)
    sees = masking.can_see_sensitive()
    query = (selection(model, request).order_by(*ordering(model, request))
             .options(*eager_relations(model, specs)).limit(MAX_ROWS))
    columns = [ExportColumn(label=spec.label, type=FieldType.TEXT if spec.sensitive and not sees else spec.type)
               for spec in specs]
    written = write_table(stream, fmt=fmt, sheet_name=str(resource.plural), columns=columns,
                          rows=_rows(session, query, specs, sees), yes_no=(str(_l("Yes")), str(_l("No"))))
    return written, specs


def content_disposition(resource: GridResource, fmt: str, now: dt.datetime | None = None) -> str:
    """An attachment named ``<plural label>-<YYYYMMDD-HHMM>.<fmt>`` in UTF-8 (RFC 6266), with
    a plain ASCII name for clients that cannot read it."""
    stamp = f"{(now or dt.datetime.now()):%Y%m%d-%H%M}"
    name, fallback = f"{resource.plural}-{stamp}.{fmt}", f"{resource.name}-{stamp}.{fmt}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
