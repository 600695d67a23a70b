"""What a value typed or pasted into a grid cell becomes in the record: the registry's
clean() for plain fields, the related row's id for relations (given as an id, as
{id, label}, or as the label text a spreadsheet holds), and the column default for an
emptied column that cannot be empty."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.fields import FieldInvalid, FieldSpec, FieldType, clean
from portal.fields.plain import plain  # noqa: F401  (what a batch keeps of a value)
from portal.security import scope

from .lookups import ids_labelled, related_model

REQUIRED = _l("This field is required.")


def column_default(model, spec: FieldSpec):
    """(True, value) when the column has a plain default, else (False, None)."""
    default = model.__table__.c[spec.name].default
    if default is not None and default.is_scalar:
        return True, default.arg
    return False, None


def column_value(session: Session, model, spec: FieldSpec, raw: Any) -> Any:
    """The value to store for ``raw``; raises :class:`FieldInvalid` with the field's message.
    Empty means None, or the column's default where the column cannot be empty."""
    value = related_id(session, model, spec, raw) if spec.type == FieldType.RELATION else clean(spec, raw)
    if value is None and not model.__table__.c[spec.name].nullable:
        has_default, default = column_default(model, spec)
        if not has_default:
            raise FieldInvalid(REQUIRED)
        return default
    return value


def _choose(spec: FieldSpec) -> FieldInvalid:
    return FieldInvalid(_l("%(label)s: choose from the list.", label=spec.label))


def related_id(session: Session, model, spec: FieldSpec, value: Any) -> int | None:
    """The id of the row ``value`` names, which must be within the user's reach."""
    if isinstance(value, dict):
        value = value.get("id") if value.get("id") not in (None, "") else value.get("label")
    if isinstance(value, str):
        value = value.strip()
    if value in (None, ""):
        if spec.required:
            raise FieldInvalid(REQUIRED)
        return None
    related = related_model(model, spec)
    if isinstance(value, str):
        found = ids_labelled(session, related, value)
        if len(found) == 1:
            return found[0]
        if found or not value.isdigit():
            raise _choose(spec)  # several rows carry this label, or none
    if isinstance(value, bool):
        raise _choose(spec)
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise _choose(spec)
    if session.scalars(scope.scoped(sa.select(related.id).where(related.id == pk), related)).first() is None:
        raise _choose(spec)
    return pk
