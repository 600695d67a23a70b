"""Writing one grid cell (PATCH …/rows/<id>), kept for API compatibility: the same code path
as a batch (writes.py), with answers the grid can show next to the cell:

* 200 — the normalised row;
* 422 — the field's message, nothing saved;
* 409 — someone changed the record since it was loaded: their value, who and when;
* 403 — a read-only or masked column; 404 — no such record within the user's scope.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from . import writes
from .query import GridRequestError, spec_for
from .resources import GridResource

STATUS = {writes.INVALID: 422, writes.CONFLICT: 409, writes.REFUSED: 403, writes.NOT_FOUND: 404}


class CellRefused(Exception):
    def __init__(self, status: int, payload: dict):
        super().__init__(str(payload.get("message")))
        self.status, self.payload = status, payload


def _payload(exc: writes.ChangeFailed, field: str) -> dict:
    if exc.status == writes.NOT_FOUND:
        return {"message": exc.message}
    payload = {"field": field, "message": exc.message}
    if exc.status == writes.INVALID:
        payload["errors"] = exc.errors or {field: [exc.message]}
    if exc.status == writes.CONFLICT:
        conflict = exc.conflict
        payload.update(their_value=conflict["their_values"][field], changed_by=conflict["changed_by"],
                       changed_at=conflict["changed_at"], current_version=conflict["current_version"])
    return payload


def update_cell(session: Session, resource: GridResource, rights: writes.Rights, pk, field: str, value,
                seen_version) -> dict:
    """Save ``value`` into ``field`` of record ``pk``; returns the normalised row."""
    try:
        spec_for(resource.model, field)
    except GridRequestError as exc:
        raise CellRefused(400, {"message": str(exc.message)})
    try:
        written = writes.update_record(session, resource, rights, pk, seen_version, {field: value})
        row = written.row(rights)
        session.commit()
    except writes.ChangeFailed as exc:
        session.rollback()
        raise CellRefused(STATUS[exc.status], _payload(exc, field))
    return row
