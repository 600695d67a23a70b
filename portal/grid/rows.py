"""Rows for the grid: paging, multi-column sort, per-column filters and quick search, with
the row scope applied before counting and sensitive values masked.

Parameters arrive as plain strings (from the query string) and are checked against the
field registry; anything unknown is a :class:`GridRequestError` with a message."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from portal.fields import FieldInvalid, FieldSpec, FieldType, clean
from portal.models import Contact, Customer
from portal.security import masking, scope
from portal.services.pinyin import looks_like_pinyin

from .columns import grid_specs

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


class GridRequestError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class GridRequest:
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    sort: list[tuple[str, bool]] = field(default_factory=list)   # (form name, descending)
    filters: dict[str, str] = field(default_factory=dict)        # form name → "text" | "a..b" | "x|y"
    q: str = ""

    @classmethod
    def parse(cls, args) -> "GridRequest":
        """From query-string arguments: page, size, sort=name,-number, f.<field>=…, q=…"""
        try:
            page = max(1, int(args.get("page", 1)))
            size = min(MAX_PAGE_SIZE, max(1, int(args.get("size", DEFAULT_PAGE_SIZE))))
        except ValueError:
            raise GridRequestError(_l("Page and page size must be whole numbers."))
        sort = []
        for key in filter(None, (args.get("sort") or "").split(",")):
            key = key.strip()
            sort.append((key.lstrip("-"), key.startswith("-")))
        filters = {k[2:]: v for k, v in args.items() if k.startswith("f.") and v not in (None, "")}
        return cls(page=page, size=size, sort=sort, filters=filters, q=(args.get("q") or "").strip())


def _spec_for(model, name: str) -> FieldSpec:
    for spec in grid_specs(model):
        if spec.form_name == name:
            return spec
    raise GridRequestError(_l("There is no column %(name)s.", name=name))


def _column(model, spec: FieldSpec):
    return getattr(model, spec.name)


def _filter(model, spec: FieldSpec, text: str):
    column = _column(model, spec)
    if "|" in text or spec.type in (FieldType.CHOICE, FieldType.RELATION, FieldType.BOOL):
        values = [v for v in text.split("|") if v != ""]
        if spec.type == FieldType.RELATION:
            try:
                return column.in_([int(v) for v in values])
            except ValueError:
                raise GridRequestError(_l("%(label)s: choose from the list.", label=spec.label))
        try:
            return column.in_([clean(spec, v) for v in values])
        except FieldInvalid as exc:
            raise GridRequestError(f"{spec.label}: {exc.message}")
    if ".." in text:
        low, high = (part.strip() for part in text.split("..", 1))
        conditions = []
        try:
            if low:
                conditions.append(column >= clean(spec, low))
            if high:
                conditions.append(column <= clean(spec, high))
        except FieldInvalid as exc:
            raise GridRequestError(f"{spec.label}: {exc.message}")
        return sa.and_(*conditions)
    if spec.type in (FieldType.INT, FieldType.DECIMAL, FieldType.MONEY, FieldType.DATE, FieldType.DATETIME):
        try:
            return column == clean(spec, text)
        except FieldInvalid as exc:
            raise GridRequestError(f"{spec.label}: {exc.message}")
    return column.ilike(f"%{_escape_like(text)}%", escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def quick_search(model, q: str):
    """Number, name, phone, mobile, e-mail and contact names; pinyin full or initials."""
    like = f"%{_escape_like(q)}%"
    prefix = f"{_escape_like(q.lower())}%"
    if model is not Customer:
        return model.name.ilike(like, escape="\\") if hasattr(model, "name") else sa.false()
    conditions = [Customer.number.ilike(prefix, escape="\\"), Customer.name.ilike(like, escape="\\"),
                  Customer.email.ilike(prefix, escape="\\")]
    digits = "".join(ch for ch in q if ch.isdigit())
    if digits and len(digits) >= 3 and len(digits) == len(q.replace("-", "").replace(" ", "")):
        conditions += [Customer.mobile.like(f"%{digits}%"), Customer.phone.like(f"%{digits}%")]
    if looks_like_pinyin(q):
        conditions += [Customer.name_pinyin.like(prefix, escape="\\"), Customer.name_initials.like(prefix, escape="\\")]
    contacts = sa.select(Contact.customer_id).where(Contact.name.ilike(like, escape="\\"))
    if looks_like_pinyin(q):
        contacts = sa.select(Contact.customer_id).where(sa.or_(
            Contact.name.ilike(like, escape="\\"), Contact.name_pinyin.like(prefix, escape="\\"),
            Contact.name_initials.like(prefix, escape="\\")))
    conditions.append(Customer.id.in_(contacts))
    return sa.or_(*conditions)


def _cell(spec: FieldSpec, value, sees_sensitive: bool):
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


def serialize(item, specs: list[FieldSpec], sees_sensitive: bool) -> dict:
    """One record as a grid row: plain values, relations as {id, label}, masked as needed."""
    row = {"id": item.id, "version": getattr(item, "version", None)}
    for spec in specs:
        value = getattr(item, spec.relation) if spec.type == FieldType.RELATION else getattr(item, spec.name)
        row[spec.form_name] = _cell(spec, value, sees_sensitive)
    return row


def fetch(session: Session, model, request: GridRequest, user=scope.ALL) -> dict:
    """One page of rows as dicts, with the total and the page count."""
    specs = grid_specs(model)
    query = scope.scoped(sa.select(model), model, user)
    for name, text in request.filters.items():
        query = query.where(_filter(model, _spec_for(model, name), text))
    if request.q:
        query = query.where(quick_search(model, request.q))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    order = []
    for name, descending in request.sort:
        spec = _spec_for(model, name)
        column = _column(model, spec)
        order.append(column.desc() if descending else column.asc())
    order.append(model.id.asc())  # ties: a stable order across pages
    relations = [s.relation for s in specs if s.type == FieldType.RELATION]
    query = (query.order_by(*order).options(*(selectinload(getattr(model, r)) for r in relations))
             .limit(request.size).offset((request.page - 1) * request.size))
    sees = masking.can_see_sensitive(None if user is scope.ALL else user)
    rows = [serialize(item, specs, sees) for item in session.scalars(query)]
    last_page = max(1, -(-total // request.size))
    return {"rows": rows, "total": total, "page": request.page, "size": request.size, "last_page": last_page}
