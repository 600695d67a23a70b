"""Saved grid layouts: each user's current layout of a grid (kept as they change it) and
named views they can switch to and share with everyone.

A layout is the client's JSON; what the grid reads from it is checked against the schema:
``columns`` [{field, width?, visible?}] (unknown fields dropped), ``sort`` [{field, dir}],
``filters`` {field: text}, ``q`` text, ``size`` rows per page. Other keys are kept as given.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.models import GridView

from .columns import grid_specs
from .query import MAX_PAGE_SIZE
from .resources import GridResource

MAX_LAYOUT_BYTES = 64 * 1024
MAX_NAME = 100


class LayoutRefused(Exception):
    def __init__(self, status: int, message):
        super().__init__(str(message))
        self.status, self.message = status, str(message)


def _bad():
    return LayoutRefused(422, _l("This layout is not one the grid can use."))


def clean_layout(resource: GridResource, layout) -> dict:
    """``layout`` with what the grid reads from it checked; raises :class:`LayoutRefused`."""
    if not isinstance(layout, dict):
        raise _bad()
    if len(json.dumps(layout, ensure_ascii=False).encode()) > MAX_LAYOUT_BYTES:
        raise LayoutRefused(413, _l("A layout may take at most 64 KB."))
    known = {s.form_name for s in grid_specs(resource.model)}
    cleaned = dict(layout)
    if "columns" in layout:
        if not isinstance(layout["columns"], list) or not all(isinstance(c, dict) for c in layout["columns"]):
            raise _bad()
        cleaned["columns"] = [_column(c) for c in layout["columns"] if c.get("field") in known]
    if "sort" in layout:
        if not isinstance(layout["sort"], list) or not all(isinstance(s, dict) for s in layout["sort"]):
            raise _bad()
        if any(s.get("dir") not in ("asc", "desc") for s in layout["sort"]):
            raise _bad()
        cleaned["sort"] = [{"field": s["field"], "dir": s["dir"]} for s in layout["sort"] if s.get("field") in known]
    if "filters" in layout:
        if not isinstance(layout["filters"], dict):
            raise _bad()
        cleaned["filters"] = {k: str(v) for k, v in layout["filters"].items()
                              if k in known and isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    if "q" in layout and not isinstance(layout["q"], str):
        raise _bad()
    if "size" in layout:
        size = layout["size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
            raise _bad()
    return cleaned


def _column(column: dict) -> dict:
    kept = {"field": column["field"]}
    width = column.get("width")
    if isinstance(width, (int, float)) and not isinstance(width, bool) and 10 <= width <= 4000:
        kept["width"] = int(width)
    if isinstance(column.get("visible"), bool):
        kept["visible"] = column["visible"]
    return kept


def as_json(view: GridView, user_id) -> dict:
    return {"id": view.id, "name": view.name, "shared": view.shared,
            "owner": view.owner.get_full_name() if view.owner is not None else None,
            "mine": view.owner_id == user_id, "layout": view.layout}


def _current(session: Session, resource: GridResource, user_id) -> GridView | None:
    return session.scalars(sa.select(GridView).where(
        GridView.resource == resource.name, GridView.owner_id == user_id, GridView.name.is_(None))).first()


def views_of(session: Session, resource: GridResource, user_id) -> dict:
    """The user's current layout and the views they may pick: their own and shared ones."""
    current = _current(session, resource, user_id)
    views = session.scalars(sa.select(GridView).where(
        GridView.resource == resource.name, GridView.name.is_not(None),
        sa.or_(GridView.owner_id == user_id, GridView.shared.is_(True))).order_by(GridView.name, GridView.id))
    return {"current": current.layout if current is not None else None,
            "views": [as_json(v, user_id) for v in views]}


def save_current(session: Session, resource: GridResource, user_id, layout) -> dict:
    layout = clean_layout(resource, layout)
    current = _current(session, resource, user_id)
    if current is None:
        current = GridView(resource=resource.name, owner_id=user_id, name=None, shared=False, layout=layout)
        session.add(current)
    else:
        current.layout = layout
    session.flush()
    return layout


def _name(session: Session, resource: GridResource, user_id, name, view_id=None) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise LayoutRefused(422, _l("A view needs a name."))
    if len(name) > MAX_NAME:
        raise LayoutRefused(422, _l("A view's name has at most %(n)d characters.", n=MAX_NAME))
    query = sa.select(GridView.id).where(GridView.resource == resource.name, GridView.owner_id == user_id,
                                         GridView.name == name)
    if view_id is not None:
        query = query.where(GridView.id != view_id)
    if session.execute(query).first() is not None:
        raise LayoutRefused(422, _l("You already have a view named %(name)s.", name=name))
    return name


def create_view(session: Session, resource: GridResource, user_id, body) -> dict:
    if not isinstance(body, dict):
        raise _bad()
    view = GridView(resource=resource.name, owner_id=user_id, name=_name(session, resource, user_id, body.get("name")),
                    shared=bool(body.get("shared")), layout=clean_layout(resource, body.get("layout", {})))
    session.add(view)
    session.flush()
    return as_json(view, user_id)


def _named_view(session: Session, resource: GridResource, view_id) -> GridView | None:
    view = session.get(GridView, view_id)
    if view is None or view.resource != resource.name or view.name is None:
        return None
    return view


def update_view(session: Session, resource: GridResource, user_id, view_id, body) -> dict | None:
    """None when the user has no such view (others' views cannot be changed)."""
    view = _named_view(session, resource, view_id)
    if view is None or view.owner_id != user_id:
        return None
    if not isinstance(body, dict):
        raise _bad()
    if "name" in body:
        view.name = _name(session, resource, user_id, body["name"], view_id=view.id)
    if "shared" in body:
        view.shared = bool(body["shared"])
    if "layout" in body:
        view.layout = clean_layout(resource, body["layout"])
    session.flush()
    return as_json(view, user_id)


def delete_view(session: Session, resource: GridResource, user_id, view_id, *, may_moderate: bool) -> bool:
    """The owner deletes their view; a custodian may also delete a view someone shared."""
    view = _named_view(session, resource, view_id)
    if view is None or not (view.owner_id == user_id or (view.shared and may_moderate)):
        return False
    session.delete(view)
    session.flush()
    return True
