"""Drill-down: from a bar, a slice or a table row of an analysis to the customer grid showing
exactly the customers behind it — stateless, so a drill link can be bookmarked, shared and
reloaded, and it is always evaluated again, within the scope of whoever opens it.

How it works
------------
A *drill* is a named function ``fn(params: dict[str, str]) -> condition on Customer`` (any
SQLAlchemy boolean expression on ``Customer``, typically ``Customer.id.in_(select(...))``).
The grid page URL carries its name and parameters::

    /grid/customer/?drill=composition.grade&d.grade=A&d.from=2025-01-01&d.to=2025-12-31

The grid script passes ``drill`` and every ``d.*`` on to the grid API (rows, count, export);
:func:`portal.grid.query.selection` applies the condition *after* the row scope, so a
salesperson opening a manager's link still sees only their own customers. An unknown drill
or a bad parameter is a 400 with the drill's message. The grid shows a removable chip
"Filtered by: <label>", the label coming from the drill's ``label`` function.

API for other modules
---------------------
Register a drill once, at import time of your module::

    from portal.analysis import drill

    @drill.define("abc.class", label=lambda p: _("ABC class %(c)s", c=p.get("class", "")))
    def abc_class(params: dict[str, str]):
        filters = drill.period_filters(params)          # d.from / d.to / d.region / d.owner / d.grade
        klass = drill.require(params, "class", choices=("A", "B", "C"))
        return Customer.id.in_(select(...))

    drill.url("abc.class", **{"class": "A"}, **filters.drill_params())   # → "/grid/customer/?drill=…"
    drill.link("abc.class", **params)                  # → Link, what Result.drill holds

* ``fn`` raises :class:`DrillError` (use :func:`require` / :func:`period_filters`) for a
  missing or bad parameter; anything else it raises is a bug, not a 400.
* ``label`` is a callable ``params -> str`` (or a plain/lazy string) shown in the chip; it is
  called inside the request, so gettext works.
* Names are dotted ``<analysis>.<what>``; registering a name twice replaces the first (so a
  module may be reloaded in tests), but two modules must not share a name.
* Parameter values are strings; ``None`` values given to :func:`url` / :func:`link` are left
  out.

Reading side (the grid): :func:`from_args` → ``(name, params)`` or None, :func:`condition`,
:func:`describe`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l

GRID_URL = "/grid/customer/"
PREFIX = "d."
MAX_PARAMS = 20
MAX_VALUE = 200


class DrillError(ValueError):
    """A drill that cannot be applied; ``message`` says why in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Drill:
    name: str
    fn: Callable[[dict[str, str]], object]
    label: Callable[[dict[str, str]], str] | object


@dataclass(frozen=True)
class Link:
    """One drill with its parameters: what an analysis row or chart element opens."""

    name: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return url(self.name, **self.params)


_DRILLS: dict[str, Drill] = {}


def register(name: str, fn: Callable[[dict[str, str]], object], label) -> Drill:
    """Register ``fn`` as drill ``name``; ``label(params) -> str`` (or a string) names it in the chip."""
    entry = Drill(name, fn, label)
    _DRILLS[name] = entry
    return entry


def define(name: str, *, label):
    """Decorator form of :func:`register`."""
    def decorate(fn):
        register(name, fn, label)
        return fn

    return decorate


def names() -> list[str]:
    return sorted(_DRILLS)


def get(name: str) -> Drill:
    found = _DRILLS.get(name)
    if found is None:
        raise DrillError(_l("There is no drill-down named %(name)s.", name=name[:MAX_VALUE]))
    return found


def _clean(params: Mapping[str, object]) -> dict[str, str]:
    return {str(k): str(v) for k, v in params.items() if v is not None and v != ""}


def url(name: str, **params) -> str:
    """The customer grid filtered to drill ``name`` with ``params`` (None values left out)."""
    query = [("drill", name)] + [(PREFIX + k, v) for k, v in sorted(_clean(params).items())]
    return f"{GRID_URL}?{urlencode(query)}"


def link(name: str, **params) -> Link:
    return Link(name, _clean(params))


def from_args(args) -> tuple[str, dict[str, str]] | None:
    """``(name, params)`` from query-string arguments (``drill=…&d.<param>=…``), or None."""
    name = (args.get("drill") or "").strip()
    params = {k[len(PREFIX):]: v for k, v in args.items() if k.startswith(PREFIX)}
    if not name:
        if params:
            raise DrillError(_l("Drill-down parameters were given without a drill-down."))
        return None
    if len(params) > MAX_PARAMS or any(len(v) > MAX_VALUE for v in params.values()):
        raise DrillError(_l("The drill-down parameters are too long."))
    return name, params


def condition(name: str, params: dict[str, str]):
    """The condition on Customer of drill ``name``; DrillError when unknown or its params are bad."""
    return get(name).fn(dict(params))


def describe(name: str, params: dict[str, str]) -> str:
    """The chip's text for drill ``name`` (its registered label)."""
    label = get(name).label
    return str(label(dict(params)) if callable(label) else label)


# --- helpers for drill functions -------------------------------------------------------------

def require(params: dict[str, str], key: str, *, choices=None, kind: str = "text"):
    """``params[key]`` checked: present, one of ``choices`` if given, and of ``kind``
    (``text``, ``int`` or ``date``, ISO yyyy-mm-dd). Raises DrillError."""
    value = params.get(key)
    if value is None or value == "":
        raise DrillError(_l("The drill-down needs the parameter %(name)s.", name=key))
    return _typed(key, value, choices=choices, kind=kind)


def optional(params: dict[str, str], key: str, *, choices=None, kind: str = "text"):
    """Like :func:`require`, but None when the parameter is absent."""
    value = params.get(key)
    if value is None or value == "":
        return None
    return _typed(key, value, choices=choices, kind=kind)


def _typed(key: str, value: str, *, choices, kind: str):
    if choices is not None and value not in choices:
        raise DrillError(_l("The drill-down parameter %(name)s has an unknown value.", name=key))
    if kind == "int":
        if not value.lstrip("-").isdigit():
            raise DrillError(_l("The drill-down parameter %(name)s must be a whole number.", name=key))
        return int(value)
    if kind == "date":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise DrillError(_l("The drill-down parameter %(name)s must be a date (yyyy-mm-dd).", name=key))
    return value


def period_filters(params: dict[str, str]):
    """The analysis filters (period, region, owner, grade) a drill link carries — what
    :meth:`portal.analysis.registry.Filters.drill_params` wrote — as a Filters."""
    from .registry import FilterError, Filters

    try:
        return Filters.from_drill(params)
    except FilterError as exc:
        raise DrillError(exc.message)
