"""Writing one grid cell: the same rules as the forms (registry validation, masking, row
scope, optimistic locking), with answers the grid can show next to the cell:

* 200 — the normalised row;
* 422 — the field's message, nothing saved;
* 409 — someone changed the record since it was loaded: their value, who and when;
* 403 — a read-only or masked column; 404 — no such record within the user's scope.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import format_datetime, lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.fields import FieldInvalid, FieldType, clean
from portal.security import masking, scope

from .columns import grid_specs
from .rows import GridRequestError, _cell, _spec_for, serialize


class CellRefused(Exception):
    def __init__(self, status: int, payload: dict):
        super().__init__(str(payload.get("message")))
        self.status, self.payload = status, payload


def update_cell(session: Session, model, pk, field: str, value, seen_version, *, can_write: bool) -> dict:
    """Save ``value`` into ``field`` of record ``pk``; returns the normalised row."""
    try:
        spec = _spec_for(model, field)
    except GridRequestError as exc:
        raise CellRefused(400, {"message": str(exc.message)})
    item = session.scalars(scope.scoped(sa.select(model).where(model.id == pk), model)).first()
    if item is None:
        raise CellRefused(404, {"message": str(_l("This record does not exist or is not yours to see."))})
    sees = masking.can_see_sensitive()
    if not can_write or spec.readonly or spec.section == "system" or (spec.sensitive and not sees):
        raise CellRefused(403, {"field": field, "message": str(_l("You may not enter or change this field."))})
    if seen_version is None or str(seen_version) != str(item.version):
        who = item.changed_by.get_full_name() if item.changed_by is not None else str(_l("someone"))
        when = format_datetime(item.changed_on, "yyyy-MM-dd HH:mm") if item.changed_on else ""
        current = getattr(item, spec.relation) if spec.type == FieldType.RELATION else getattr(item, spec.name)
        raise CellRefused(409, {
            "field": field, "their_value": _cell(spec, current, sees), "changed_by": who, "changed_at": when,
            "current_version": item.version,
            "message": str(_l("%(who)s changed this record at %(when)s after you opened it; your changes were not "
                              "saved. Reload it to see their changes, then edit again.", who=who, when=when))})
    try:
        if spec.type == FieldType.RELATION:
            setattr(item, spec.name, _related_id(session, model, spec, value))
        else:
            setattr(item, spec.name, clean(spec, value))
    except FieldInvalid as exc:
        session.rollback()
        raise CellRefused(422, {"field": field, "errors": {field: [str(exc.message)]}, "message": str(exc.message)})
    try:
        session.commit()
    except sa.exc.IntegrityError:
        # A unique field (customer number, credit code) already used by another record.
        session.rollback()
        message = str(_l("%(label)s %(value)s is already used by another record.", label=spec.label, value=value))
        raise CellRefused(422, {"field": field, "errors": {field: [message]}, "message": message})
    return serialize(item, grid_specs(model), sees)


def _related_id(session: Session, model, spec, value):
    if value in (None, ""):
        if spec.required:
            raise FieldInvalid(_l("This field is required."))
        return None
    related = getattr(model, spec.relation).property.mapper.class_
    try:
        pk = int(value["id"] if isinstance(value, dict) else value)
    except (TypeError, ValueError, KeyError):
        raise FieldInvalid(_l("%(label)s: choose from the list.", label=spec.label))
    found = session.scalars(scope.scoped(sa.select(related.id).where(related.id == pk), related)).first()
    if found is None:
        raise FieldInvalid(_l("%(label)s: choose from the list.", label=spec.label))
    return pk
