"""Rows for the grid: a page of the selection (query.py) with the row scope applied
before counting and sensitive values masked; the count on its own, for large tables."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from portal.fields import FieldSpec, FieldType
from portal.security import masking, scope

from .columns import grid_specs
from .query import GridRequest, ordering, selection


def cell(spec: FieldSpec, value, sees_sensitive: bool):
    """A value as the grid shows it: plain JSON, relations as {id, label}, masked as needed."""
    if spec.type == FieldType.RELATION:
        shown = None if value is None else {"id": value.id, "label": str(value)}
    elif isinstance(value, (dt.date, dt.datetime)):
        shown = value.isoformat()
    elif spec.type in (FieldType.MONEY, FieldType.DECIMAL) and value is not None:
        shown = str(value)
    else:
        shown = value
    if spec.sensitive and not sees_sensitive:
        return masking.mask(spec, shown)
    return shown


def field_value(item, spec: FieldSpec):
    """The field's value on ``item``: the related record for a relation."""
    return getattr(item, spec.relation) if spec.type == FieldType.RELATION else getattr(item, spec.name)


def serialize(item, specs: list[FieldSpec], sees_sensitive: bool) -> dict:
    """One record as a grid row."""
    row = {"id": item.id, "version": getattr(item, "version", None)}
    for spec in specs:
        row[spec.form_name] = cell(spec, field_value(item, spec), sees_sensitive)
    return row


def eager_relations(model, specs: list[FieldSpec]) -> list:
    """Load options for the related records' labels: a few queries per page, not one per row."""
    return [selectinload(getattr(model, s.relation)) for s in specs if s.type == FieldType.RELATION]


def count(session: Session, model, request: GridRequest, user=scope.ALL) -> int:
    query = selection(model, request, user)
    return session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))


def estimate(session: Session, model, request: GridRequest, user=scope.ALL) -> int | None:
    """PostgreSQL's own estimate of the table's rows, when the grid shows the whole table
    (no filter, no search, every row in reach); None otherwise or when it has none."""
    if session.get_bind().dialect.name != "postgresql" or request.narrowed:
        return None
    if scope.condition_for(model, user) is not None:
        return None
    value = session.scalar(sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"),
                           {"table": model.__tablename__})
    return int(value) if value is not None and value >= 0 else None  # -1: never analysed


def one(session: Session, model, pk, user=scope.ALL) -> dict | None:
    """Record ``pk`` as a grid row, or None when it is not within the user's scope."""
    specs = grid_specs(model)
    query = scope.scoped(sa.select(model).where(model.id == pk), model, user).options(*eager_relations(model, specs))
    item = session.scalars(query).first()
    sees = masking.can_see_sensitive(None if user is scope.ALL else user)
    return None if item is None else serialize(item, specs, sees)


def fetch(session: Session, model, request: GridRequest, user=scope.ALL) -> dict:
    """One page of rows. With ``request.count`` the total and page count come along;
    without, no COUNT runs (``total`` and ``last_page`` are None) and one row more than
    the page is read to know whether another page follows."""
    specs = grid_specs(model)
    query = (selection(model, request, user).order_by(*ordering(model, request))
             .options(*eager_relations(model, specs))
             .limit(request.size + 1).offset((request.page - 1) * request.size))
    items = list(session.scalars(query))
    has_more = len(items) > request.size
    sees = masking.can_see_sensitive(None if user is scope.ALL else user)
    rows = [serialize(item, specs, sees) for item in items[:request.size]]
    total = last_page = None
    if request.count:
        total = count(session, model, request, user)
        last_page = max(1, -(-total // request.size))
    return {"rows": rows, "total": total, "page": request.page, "size": request.size, "last_page": last_page,
            "has_more": has_more}
