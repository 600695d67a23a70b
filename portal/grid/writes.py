"""Writing one record from the grid — the one code path under a single cell (PATCH), a
batch of pasted rows, and the undo and redo of a batch — with the rules the forms keep:

* the record must lie within the user's row scope (else ``not_found``);
* read-only, system and masked fields, and records the user may not edit or add, are
  refused as a whole (``refused``);
* an edit carries the version the user loaded; a stale one is not saved and answers with
  the other person's values, who and when (``conflict``);
* every value goes through the field registry's clean() (``invalid`` with each field's
  message, nothing of the record saved), unique values are checked against other records.

Each record is written in its own SAVEPOINT: a refused or invalid record leaves nothing
behind, and the caller commits (or not) everything else. The change history is written from
the flush (security/history.py) under the caller's ``changes_from`` label.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.fields import FieldInvalid, FieldSpec, FieldType
from portal.models import Customer
from portal.security import locking, scope
from portal.services import unique_values

from .columns import grid_specs, is_writable
from .query import GridRequestError, spec_for
from .resources import GridResource
from .rows import cell, field_value, serialize
from .values import REQUIRED, column_default, column_value, plain

OK, INVALID, CONFLICT, REFUSED, NOT_FOUND = "ok", "invalid", "conflict", "refused", "not_found"
MAY_NOT_CHANGE = _l("You may not enter or change this field.")
NOT_IN_REACH = _l("This record does not exist or is not yours to see.")


@dataclass(frozen=True)
class Rights:
    """What the user may do on one grid (from FAB's permissions and the gate)."""

    can_write: bool
    can_create: bool
    sees_sensitive: bool
    scope_kind: str         # scope.kind(): 'all', 'team', 'own'
    user_id: int | None


class ChangeFailed(Exception):
    """A record not written; ``status`` is one of invalid, conflict, refused, not_found."""

    def __init__(self, status: str, message, *, errors: dict | None = None, conflict: dict | None = None):
        super().__init__(str(message))
        self.status, self.message, self.errors, self.conflict = status, str(message), errors, conflict


@dataclass
class Written:
    """A record written: the record, what changed (attribute → {old, new} as JSON) and, for
    a new record, the values it was given (form names, for a redo)."""

    item: Any
    created: bool
    fields: dict = field(default_factory=dict)
    given: dict = field(default_factory=dict)

    def row(self, rights: Rights) -> dict:
        return serialize(self.item, grid_specs(type(self.item)), rights.sees_sensitive)


# -- checks ---------------------------------------------------------------------------------

def specs_of(model, values: dict) -> dict[str, FieldSpec]:
    """Form name → description of each submitted value; unknown columns are invalid."""
    specs, errors = {}, {}
    for name in values:
        try:
            specs[name] = spec_for(model, name)
        except GridRequestError as exc:
            errors[name] = [str(exc.message)]
    if errors:
        raise ChangeFailed(INVALID, next(iter(errors.values()))[0], errors=errors)
    return specs


def find(session: Session, model, pk):
    """The record ``pk`` if it lies within the user's scope; else ``not_found``."""
    item = session.scalars(scope.scoped(sa.select(model).where(model.id == pk), model)).first()
    if item is None:
        raise ChangeFailed(NOT_FOUND, NOT_IN_REACH)
    return item


def refuse_unwritable(specs: dict[str, FieldSpec], rights: Rights, allowed: bool) -> None:
    """The whole record is refused when the user may not write it, or any of its fields."""
    refused = [name for name, spec in specs.items() if not allowed or not is_writable(spec, rights.sees_sensitive)]
    if refused:
        raise ChangeFailed(REFUSED, MAY_NOT_CHANGE, errors={name: [str(MAY_NOT_CHANGE)] for name in refused})


def stale(item, specs: dict[str, FieldSpec], rights: Rights, seen_version) -> ChangeFailed:
    """The 409 answer: the other person's values of the fields the user edited, who changed
    the record and when, its current version and row."""
    edit, sees = locking.StaleEdit(item, seen_version), rights.sees_sensitive
    return ChangeFailed(CONFLICT, edit.message, conflict={
        "their_values": {name: cell(spec, field_value(item, spec), sees) for name, spec in specs.items()},
        "changed_by": edit.who, "changed_at": edit.when, "current_version": edit.current_version,
        "row": serialize(item, grid_specs(type(item)), sees),
    })


def unique_clashes(session: Session, item, specs: dict[str, FieldSpec], cleaned: dict) -> dict:
    """{form name: [message]} for unique fields whose new value another record holds, in
    any case (see unique_values.clash)."""
    errors = {}
    for name, spec in specs.items():
        message = unique_values.clash(session, type(item), spec.name, spec.label, cleaned.get(name), item.id)
        if message is not None:
            errors[name] = [message]
    return errors


def clean_all(session: Session, model, specs: dict[str, FieldSpec], values: dict) -> dict:
    """Form name → the value to store; ``invalid`` with every field's message."""
    cleaned, errors = {}, {}
    for name, spec in specs.items():
        try:
            cleaned[name] = column_value(session, model, spec, values[name])
        except FieldInvalid as exc:
            errors[name] = [str(exc.message)]
    if errors:
        raise ChangeFailed(INVALID, next(iter(errors.values()))[0], errors=errors)
    return cleaned


# -- writing --------------------------------------------------------------------------------

def _assign(item, specs: dict[str, FieldSpec], cleaned: dict) -> dict:
    """Set the values; returns attribute → {old, new} of what actually changed."""
    changed = {}
    for name, spec in specs.items():
        old, new = getattr(item, spec.name), cleaned[name]
        if plain(old) != plain(new):
            changed[spec.name] = {"old": plain(old), "new": plain(new)}
            setattr(item, spec.name, new)
    return changed


def _flush(session: Session, item, specs: dict[str, FieldSpec], cleaned: dict) -> None:
    """Flush inside the caller's savepoint; a unique value taken meanwhile is ``invalid``."""
    model = type(item)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        taken = {name: [unique_values.taken_message(spec.label, cleaned[name])] for name, spec in specs.items()
                 if model.__table__.c[spec.name].unique}
        message = next(iter(taken.values()))[0] if taken else _l("This record could not be saved.")
        raise ChangeFailed(INVALID, message, errors=taken)
    # Relations were set by id: their objects (and who changed the record) load afresh.
    session.expire(item, [s.relation for s in grid_specs(model) if s.type == FieldType.RELATION])


def update_record(session: Session, resource: GridResource, rights: Rights, pk, seen_version,
                  values: dict) -> Written:
    """Change fields of record ``pk`` (``values``: form name → raw value)."""
    model = resource.model
    specs = specs_of(model, values)
    item = find(session, model, pk)
    refuse_unwritable(specs, rights, rights.can_write)
    try:
        locking.check(item, seen_version)
    except (locking.StaleEdit, locking.VersionMissing):
        raise stale(item, specs, rights, seen_version)
    try:
        with session.begin_nested():
            cleaned = clean_all(session, model, specs, values)
            clashes = unique_clashes(session, item, specs, cleaned)
            if clashes:
                raise ChangeFailed(INVALID, next(iter(clashes.values()))[0], errors=clashes)
            changed = _assign(item, specs, cleaned)
            _flush(session, item, specs, cleaned)
    except StaleDataError:
        # Someone saved between our check and our UPDATE: the version counter caught it.
        session.expire(item)
        raise stale(find(session, model, pk), specs, rights, seen_version)
    return Written(item=item, created=False, fields=changed)


def create_record(session: Session, resource: GridResource, rights: Rights, values: dict) -> Written:
    """A new record from ``values``; required fields must be there unless their column has a
    default, numbers are generated, and the lifecycle rules run (flush hooks)."""
    model = resource.model
    specs = specs_of(model, values)
    if not rights.can_create:
        raise ChangeFailed(REFUSED, _l("You may not add records here."))
    refuse_unwritable(specs, rights, True)
    item = model()
    with session.begin_nested():
        cleaned = clean_all(session, model, specs, values)
        errors = {spec.form_name: [str(REQUIRED)] for spec in grid_specs(model)
                  if spec.required and is_writable(spec, True) and cleaned.get(spec.form_name) is None
                  and not column_default(model, spec)[0]}
        errors.update(unique_clashes(session, item, specs, cleaned))
        if errors:
            raise ChangeFailed(INVALID, next(iter(errors.values()))[0], errors=errors)
        given = {name: value for name, value in cleaned.items() if value is not None}
        if model is Customer and rights.scope_kind == "own":
            # A salesperson's new customer is theirs, or they could not see it again.
            given["owner"] = rights.user_id
            specs = {**specs, "owner": spec_for(model, "owner")}
        for name, value in given.items():
            setattr(item, specs[name].name, value)
        session.add(item)
        _flush(session, item, {n: specs[n] for n in given}, given)
    changed = {specs[name].name: {"old": None, "new": plain(value)} for name, value in given.items()}
    return Written(item=item, created=True, fields=changed,
                   given={name: plain(value) for name, value in given.items()})


def delete_created(session: Session, item) -> None:
    """Take back a record a batch created (undo): kept in the change history by the flush."""
    with session.begin_nested():
        session.delete(item)
        session.flush()
