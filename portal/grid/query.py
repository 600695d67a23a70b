"""What a grid is looking at — paging, multi-column sort, per-column filters and quick
search — parsed from the query string and turned into one scoped SELECT, which the page of
rows, the count and the export all run.

Parameters arrive as plain strings and are checked against the field registry; anything
unknown is a :class:`GridRequestError` with a message."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.analysis import drill as drills
from portal.fields import FieldInvalid, FieldSpec, FieldType, clean
from portal.security import masking, scope

from .columns import grid_specs
from .search import contains, escape_like, quick_search

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
    count: bool = True                                           # run the COUNT with the page
    drill: tuple[str, dict[str, str]] | None = None              # drill-down (portal.analysis.drill)

    @classmethod
    def parse(cls, args) -> "GridRequest":
        """From query-string arguments: page, size, sort=name,-number, f.<field>=…, q=…, count=1|0"""
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
        try:
            drill = drills.from_args(args)
        except drills.DrillError as exc:
            raise GridRequestError(exc.message)
        return cls(page=page, size=size, sort=sort, filters=filters, q=(args.get("q") or "").strip(),
                   count=args.get("count", "1") not in ("0", "false", "no"), drill=drill)

    @property
    def narrowed(self) -> bool:
        """Whether a filter or search leaves out some of the rows in reach."""
        return bool(self.filters or self.q or self.drill)


def spec_for(model, name: str) -> FieldSpec:
    for spec in grid_specs(model):
        if spec.form_name == name:
            return spec
    raise GridRequestError(_l("There is no column %(name)s.", name=name))


def _filter(model, spec: FieldSpec, text: str):
    column = getattr(model, spec.name)
    if "|" in text or spec.type in (FieldType.CHOICE, FieldType.RELATION, FieldType.BOOL):
        values = [v for v in text.split("|") if v != ""]
        if spec.type == FieldType.RELATION:
            if all(v.isdigit() for v in values):
                return column.in_([int(v) for v in values])
            return _related_label_contains(model, spec, values)
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
    return contains(column, text)


def _related_label_contains(model, spec: FieldSpec, texts: list[str]):
    """A relation filtered by text typed into its header (华东 → the regions whose name
    holds 华东): the related rows whose name, code or user name contains any of the texts."""
    related = getattr(model, spec.relation).property.mapper.class_
    names = [getattr(related, c) for c in ("name", "code", "number", "username", "first_name", "last_name")
             if hasattr(related, c)]
    if hasattr(related, "first_name") and hasattr(related, "last_name"):
        names.append(related.last_name + related.first_name)  # 张伟: family name first
    matches = sa.or_(*(name.ilike(f"%{escape_like(t)}%", escape="\\") for name in names for t in texts))
    return getattr(model, spec.name).in_(sa.select(related.id).where(matches))


def selection(model, request: GridRequest, user=scope.ALL):
    """SELECT model's rows in the user's scope that pass the filters, the search and the
    drill-down (unordered, unpaged). Refused when it filters or sorts by a column the user
    sees masked (:func:`check_unmasked`)."""
    check_unmasked(model, request, user)
    query = scope.scoped(sa.select(model), model, user)
    if request.drill is not None:
        query = query.where(drill_condition(model, request.drill))
    for name, text in request.filters.items():
        query = query.where(_filter(model, spec_for(model, name), text))
    if request.q:
        query = query.where(quick_search(model, request.q))
    return query


def check_unmasked(model, request: GridRequest, user=scope.ALL) -> None:
    """Refuse a filter or sort by a sensitive column the user sees masked: the rows it picks
    or their order would give the hidden values away (a contains-filter spells out an ID
    number digit by digit; a sort ranks customers by their credit limit)."""
    names = [*request.filters, *(name for name, _ in request.sort)]
    if not names or masking.can_see_sensitive(None if user is scope.ALL else user):
        return
    for name in names:
        spec = spec_for(model, name)
        if spec.sensitive:
            raise GridRequestError(_l("%(label)s is masked for you: you cannot filter or sort by it.",
                                      label=spec.label))


def drill_condition(model, drill: tuple[str, dict[str, str]]):
    """The drill-down's condition (on Customer: drills are the customer grid's)."""
    from portal.models import Customer

    if model is not Customer:
        raise GridRequestError(_l("A drill-down opens the customer grid only."))
    try:
        return drills.condition(*drill)
    except drills.DrillError as exc:
        raise GridRequestError(exc.message)


def ordering(model, request: GridRequest) -> list:
    """ORDER BY the requested columns, then id in the direction of the last of them: ties
    keep a stable order across pages, and an index on (column, id) serves a one-column sort
    either way."""
    order, descending = [], False
    for name, descending in request.sort:
        column = getattr(model, spec_for(model, name).name)
        order.append(column.desc() if descending else column.asc())
    order.append(model.id.desc() if descending else model.id.asc())
    return order
