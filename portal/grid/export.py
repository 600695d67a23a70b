"""Export of exactly what a grid shows (GET …/export): the rows its query yields — scope,
filters, search and sort as on screen — and its visible columns in their order, with
related records and choices as their labels and sensitive values masked (portal.excel.records),
within the user's export limits (portal.excel.limits: a row cap, fields a role may not take).
The rows stream from the database in chunks into portal.excel's writer; nothing holds the
whole table."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.excel.export import FORMATS, ExportColumn, write_table
from portal.excel.limits import ExportRules, rules_for
from portal.excel.records import export_type, plain_rows
from portal.fields import FieldSpec
from portal.security import masking

from .columns import grid_specs
from .query import GridRequest, GridRequestError, ordering, selection, spec_for
from .resources import GridResource
from .rows import count as count_rows

MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class Exported:
    rows: int
    columns: list[FieldSpec]        # written, in order
    withheld: list[FieldSpec]       # asked for, but the user's role may not export them


def export_specs(model, names: str | None) -> list[FieldSpec]:
    """The columns named (``a,b,c``, in that order), or the grid's visible ones."""
    names = [n.strip() for n in (names or "").split(",") if n.strip()]
    if not names:
        return [s for s in grid_specs(model) if s.listed]
    return [spec_for(model, name) for name in names]


def export(session: Session, resource: GridResource, request: GridRequest, names: str | None, fmt: str,
           stream, rules: ExportRules | None = None) -> Exported:
    """Write the view to ``stream``. Raises GridRequestError (bad parameters) or ExportRefused
    (over the user's row cap, or no column they may take) — before anything is written when
    the rows were counted, else as soon as the cap is passed (the caller drops the stream)."""
    if fmt not in FORMATS:
        raise GridRequestError(_l("Export as xlsx or csv."))
    rules = rules or rules_for()
    model = resource.model
    asked = export_specs(model, names)
    specs = rules.fields(model, asked)
    withheld = [spec for spec in asked if spec not in specs]
    if rules.capped_by_role:   # a small cap: count first, so a refusal costs one COUNT and writes nothing
        rules.check_count(count_rows(session, model, request))
    query = selection(model, request).order_by(*ordering(model, request)).limit(rules.cap + 1)
    sees = masking.can_see_sensitive()
    columns = [ExportColumn(label=spec.label, type=export_type(spec, sees)) for spec in specs]
    rows = rules.capped(plain_rows(session, query, model, specs, sees_sensitive=sees))
    written = write_table(stream, fmt=fmt, sheet_name=str(resource.plural), columns=columns, rows=rows,
                          yes_no=(str(_l("Yes")), str(_l("No"))))
    return Exported(written, specs, withheld)


def content_disposition(resource: GridResource, fmt: str, now: dt.datetime | None = None) -> str:
    """An attachment named ``<plural label>-<YYYYMMDD-HHMM>.<fmt>``; see :func:`attachment`."""
    return attachment(str(resource.plural), resource.name, fmt, now)


def attachment(label: str, ascii_name: str, fmt: str, now: dt.datetime | None = None) -> str:
    """A Content-Disposition for ``<label>-<YYYYMMDD-HHMM>.<fmt>`` in UTF-8 (RFC 6266), with a
    plain ASCII name for clients that cannot read it."""
    stamp = f"{(now or dt.datetime.now()):%Y%m%d-%H%M}"
    name, fallback = f"{label}-{stamp}.{fmt}", f"{ascii_name}-{stamp}.{fmt}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
