"""The analysis registry: every analysis page of the portal (composition, credit, lifecycle,
ABC, RFM, matrices, visit compliance …) is one :class:`Analysis` registered here, and one
view (portal/views/analyses.py) serves them all:

* ``/analysis/``              the index of the analyses the user may open (menu 分析 "Analyses");
* ``/analysis/<key>/``        the page: filter bar, chart (ECharts, served by the portal), table;
* ``/analysis/<key>/data``    the same numbers as JSON (what the page's script draws);
* ``/analysis/<key>/xlsx``    the table as .xlsx (portal/excel/export.py), logged as an export,
                              the role's export limits applied.

Rights (seeds/roles.json): ``AnalysisView`` ``can_list`` opens pages and data, ``can_download``
takes the .xlsx. An analysis may need more (``needs``), e.g. the credit analysis shows credit
limits and ratings, which are sensitive: it needs ``see_sensitive`` on ``SensitiveData``.

No Flask views here: this module is the contract between analyses and the view.

API for other modules
---------------------
::

    from flask_babel import lazy_gettext as _l
    from portal.analysis import drill
    from portal.analysis.registry import Analysis, Chart, Column, Param, Result, Series, register

    def compute(filters, user) -> Result:
        # filters: Filters (period, region, owner, grade, params); user: whose row scope applies
        # (scope.ALL = nobody's: commands and benchmarks). Aggregate in SQL:
        where = filters.customer_conditions(user)        # scope + region/owner/grade, on Customer
        query = (select(Customer.value_grade, func.sum(Transaction.amount))
                 .join(Customer, Customer.id == Transaction.customer_id)
                 .where(*where, filters.period(Transaction.trade_date)).group_by(Customer.value_grade))
        rows, links = [], []
        for grade, amount in session.execute(query):
            rows.append({"grade": grade, "amount": amount})
            links.append(drill.link("composition.grade", grade=grade, **filters.drill_params()))
        return Result(
            columns=[Column("grade", _l("Grade")), Column("amount", _l("Net sales"), "money")],
            rows=rows, drill=links,
            chart=Chart("bar", category="grade", series=[Series("amount")]))

    register(Analysis("my.key", _l("Title"), compute, description=_l("One sentence."),
                      params=(Param("by", _l("By"), choices=(("a", _l("A")), ("b", _l("B"))), tabs=True),),
                      uses=("period", "region", "owner", "grade"), order=50))

* **Register at import time** of your module, and have that module imported before the menu
  is built: import it in portal/views/__init__.py (``from portal.xyz import pages  # noqa:
  F401  registers analyses``) — an analysis registered later still has its page and its
  entry on the index, only not a menu item.
* ``Filters`` come validated: ``date_from``/``date_to`` (dates, inclusive; default the 12
  months up to today, starting on the 1st), ``region_id``, ``owner_id``, ``grade`` and
  ``params`` (your :class:`Param` values, parsed to int/Decimal/date/str, defaults filled in).
  Unknown query parameters, bad dates, from after to, a bad param → :class:`FilterError` →
  400 with the message. Helpers: ``customer_conditions(user)``, ``period(column)``,
  ``drill_params()`` (to put into every drill link), ``months()`` (first days of the months
  in the period), ``param(name)``.
* ``uses`` says which of the four common filters the page shows and honours (leave out
  ``"period"`` for an analysis of the present state).
* :class:`Result`: ``columns`` (key, label, type: a FieldType value — text, int, money,
  decimal, date …; ``source=(Model, field)`` for a column holding a record's field, e.g. a
  customer's name, so the export limits of the role apply to it), ``rows`` (plain dicts keyed
  by column key; Decimal/int/float/date/str/None), ``drill`` (a list aligned with rows:
  None, a :class:`~portal.analysis.drill.Link` for the whole row, or ``{column key: Link}``
  for one cell/series each, ``"*"`` for the rest), ``chart`` (:class:`Chart` or None),
  ``notes`` (sentences under the table: definitions, caveats), ``totals`` (an optional
  totals row, a dict like a row).
* **Long lists are paged** (``Analysis(..., page_size=100)``): the query string's ``page``
  (1-based, reserved) arrives as ``filters.page`` (a :class:`Page`); fetch that page in SQL
  (``page.size``/``page.offset``) and return ``Result(rows=<the page>, page=page.of(total),
  stream=<a callable yielding every row>)`` — the page and ``/data`` show one page with a
  pager (``result_json`` carries ``page``), the .xlsx writes every row from ``stream``
  (:func:`export_rows`). Analyses without ``page_size`` are unchanged.
* :class:`Chart` kinds: ``bar`` (vertical; ``horizontal=True`` for long labels), ``stacked_bar``
  (each Series a stack segment), ``line``, ``pie`` (first series), ``scatter`` (``x``, ``y``
  column keys, ``name`` the point label, ``group`` the series/quadrant column,
  ``marks={"x": 1000, "y": 50}`` threshold lines), ``tree`` (``tree=[{"name", "value",
  "url", "children": [...]}, ...]``, each node's ``url`` its drill). ``category`` is the column
  whose values are the x axis / slice names; ``top`` limits the chart (not the table) to the
  first N rows. Clicking a bar, slice, point or node opens its row's (or cell's) drill URL.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.fields import FieldType
from portal.models import Customer
from portal.models.choices import VALUE_GRADE
from portal.security import scope

from .drill import Link

COMMON_FILTERS = ("period", "region", "owner", "grade")
FILTER_KEYS = ("from", "to", "region", "owner", "grade")
PAGE_KEY = "page"             # the page number of a paged analysis (reserved like the filters)
PASSTHROUGH = ("_",)          # cache-busting parameter some browsers add; ignored
MAX_YEARS = 20
CHART_KINDS = ("bar", "stacked_bar", "line", "pie", "scatter", "tree")
GRADES = tuple(code for code, _zh, _en in VALUE_GRADE)


class FilterError(ValueError):
    """A bad filter or parameter; ``message`` in the user's language (a 400)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- pages of a long list ---------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One page of a long list: ``number`` (1-based) of ``size`` rows; ``total`` (all rows)
    once counted. Used by paged analyses and by other long pages (the visit plan)."""

    number: int = 1
    size: int = 100
    total: int | None = None

    @classmethod
    def parse(cls, text: str | None, size: int) -> "Page":
        """From the query string (empty: page 1); not a whole number ≥ 1 → FilterError."""
        text = (text or "").strip()
        if not text:
            return cls(1, size)
        if not text.isdigit() or int(text) < 1 or len(text) > 9:
            raise FilterError(_l("The page must be a whole number from 1."))
        return cls(int(text), size)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-(self.total or 0) // self.size))

    @property
    def first(self) -> int:
        """The 1-based row number of the page's first row (0 on a page past the end)."""
        return self.offset + 1 if self.total and self.offset < self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total or 0) if self.first else 0

    def of(self, total: int) -> "Page":
        return Page(self.number, self.size, total)

    def numbers(self, around: int = 2) -> list[int | None]:
        """Page numbers for a pager: the first, the last and ``around`` each side of this
        one; None where numbers are left out."""
        keep = sorted({1, self.pages, *range(max(1, self.number - around), min(self.pages, self.number + around) + 1)})
        shown: list[int | None] = []
        for n in keep:
            if shown and n - shown[-1] > 1:
                shown.append(None)
            shown.append(n)
        return shown


# --- parameters and filters ---------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """An analysis-specific query parameter. ``kind``: choice, int, decimal, date or text.
    ``tabs=True`` shows a choice as tabs above the chart (the page's sub-views)."""

    name: str
    label: Any
    kind: str = "choice"
    choices: tuple[tuple[str, Any], ...] = ()
    default: str | None = None
    min: Decimal | int | None = None
    max: Decimal | int | None = None
    tabs: bool = False
    help: Any = ""

    def parse(self, text: str | None):
        if text is None or text == "":
            if self.default is None:
                return None
            text = self.default
        text = str(text).strip()
        if self.kind == "choice":
            if text not in {code for code, _ in self.choices}:
                raise FilterError(_l("%(param)s: choose one of the offered values.", param=self.label))
            return text
        if self.kind == "date":
            return _date(text, self.label)
        if self.kind in ("int", "decimal"):
            try:
                value = int(text) if self.kind == "int" else Decimal(text)
                if isinstance(value, Decimal) and not value.is_finite():
                    raise InvalidOperation
            except (ValueError, InvalidOperation):
                raise FilterError(_l("%(param)s must be a number.", param=self.label))
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                raise FilterError(_l("%(param)s must be between %(low)s and %(high)s.", param=self.label,
                                     low=self.min if self.min is not None else "…",
                                     high=self.max if self.max is not None else "…"))
            return value
        if len(text) > 200:
            raise FilterError(_l("%(param)s is too long.", param=self.label))
        return text


def _date(text: str, label) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(_l("%(param)s: %(value)s is not a date (yyyy-mm-dd).", param=label, value=text[:40]))


def _id(text: str, label) -> int:
    if not text.strip().isdigit():
        raise FilterError(_l("%(param)s: choose from the list.", param=label))
    return int(text)


def filter_labels() -> dict:
    """The filter bar's labels for region, owner and grade: the card's own (field registry)."""
    from portal.fields import fields_of

    fields = fields_of(Customer)
    return {"region": fields["region_id"].label, "owner": fields["owner_id"].label, "grade": fields["value_grade"].label}


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The 12 months up to ``today``: from the 1st of the month 11 months before."""
    month = today.year * 12 + today.month - 1 - 11
    return dt.date(month // 12, month % 12 + 1, 1), today


@dataclass(frozen=True)
class Filters:
    """What an analysis is asked for. Dates are inclusive; None means not limited (only a
    drill link may leave the period out: pages always have one)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    region_id: int | None = None
    owner_id: int | None = None
    grade: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    uses: tuple[str, ...] = COMMON_FILTERS
    page: "Page | None" = None     # paged analyses only (Analysis.page_size)

    @classmethod
    def parse(cls, args: Mapping[str, str], analysis: "Analysis | None" = None,
              today: dt.date | None = None) -> "Filters":
        """From query-string arguments. Unknown names, bad values → FilterError."""
        uses = analysis.uses if analysis is not None else COMMON_FILTERS
        params = analysis.params if analysis is not None else ()
        allowed = {k for k in FILTER_KEYS if (k in ("from", "to") and "period" in uses) or k in uses}
        allowed |= {p.name for p in params} | set(PASSTHROUGH)
        page_size = analysis.page_size if analysis is not None else None
        if page_size:
            allowed.add(PAGE_KEY)
        for name in args.keys():
            if name not in allowed:
                raise FilterError(_l("This page has no parameter %(name)s.", name=str(name)[:40]))
        get = lambda key: (args.get(key) or "").strip()  # noqa: E731
        date_from = date_to = None
        if "period" in uses:
            today = today or dt.date.today()
            date_from = _date(get("from"), _l("From")) if get("from") else None
            date_to = _date(get("to"), _l("To")) if get("to") else None
            if date_from is None and date_to is None:
                date_from, date_to = default_period(today)
            elif date_from is None:
                date_from = default_period(date_to)[0]
            elif date_to is None:
                date_to = max(today, date_from)
            _check_period(date_from, date_to)
        filters = cls._common(get, uses)
        values = {p.name: p.parse(args.get(p.name)) for p in params}
        page = Page.parse(args.get(PAGE_KEY), page_size) if page_size else None
        return cls(date_from=date_from, date_to=date_to, params=values, uses=tuple(uses), page=page, **filters)

    @staticmethod
    def _common(get, uses) -> dict:
        labels = filter_labels()
        region = _id(get("region"), labels["region"]) if "region" in uses and get("region") else None
        owner = _id(get("owner"), labels["owner"]) if "owner" in uses and get("owner") else None
        grade = get("grade") if "grade" in uses and get("grade") else None
        if grade is not None and grade not in GRADES:
            raise FilterError(_l("%(param)s: choose one of %(grades)s.", param=labels["grade"],
                                 grades="/".join(GRADES)))
        return {"region_id": region, "owner_id": owner, "grade": grade}

    @classmethod
    def from_drill(cls, params: Mapping[str, str]) -> "Filters":
        """The common filters a drill link carries (``drill_params``); other keys are the
        drill's own and ignored here. No period given = no period limit."""
        get = lambda key: (params.get(key) or "").strip()  # noqa: E731
        date_from = _date(get("from"), _l("From")) if get("from") else None
        date_to = _date(get("to"), _l("To")) if get("to") else None
        if date_from and date_to:
            _check_period(date_from, date_to)
        return cls(date_from=date_from, date_to=date_to, **cls._common(get, COMMON_FILTERS))

    # -- for compute functions ---------------------------------------------------------------

    def param(self, name: str):
        return self.params.get(name)

    def customer_conditions(self, user) -> list:
        """WHERE conditions on Customer: the user's row scope (none for ``scope.ALL``) and the
        region, owner and grade filters."""
        conditions = []
        if user is not scope.ALL:
            condition = scope.customer_condition(user)
            if condition is not None:
                conditions.append(condition)
        if self.region_id is not None:
            conditions.append(Customer.region_id == self.region_id)
        if self.owner_id is not None:
            conditions.append(Customer.owner_id == self.owner_id)
        if self.grade is not None:
            conditions.append(Customer.value_grade == self.grade)
        return conditions

    def period(self, column):
        """``date_from <= column <= date_to`` (true when the period is open)."""
        conditions = []
        if self.date_from is not None:
            conditions.append(column >= self.date_from)
        if self.date_to is not None:
            conditions.append(column <= self.date_to)
        return sa.and_(sa.true(), *conditions)

    def drill_params(self, dates: bool = True) -> dict[str, str]:
        """The common filters as drill parameters (from, to, region, owner, grade); without
        the period when ``dates`` is false (a drill to customers regardless of their trades)."""
        values = {"from": self.date_from if dates else None, "to": self.date_to if dates else None,
                  "region": self.region_id, "owner": self.owner_id, "grade": self.grade}
        return {k: (v.isoformat() if isinstance(v, dt.date) else str(v)) for k, v in values.items() if v is not None}

    def months(self) -> list[dt.date]:
        """The first day of every month the period touches, in order."""
        if self.date_from is None or self.date_to is None:
            return []
        first = self.date_from.year * 12 + self.date_from.month - 1
        last = self.date_to.year * 12 + self.date_to.month - 1
        return [dt.date(m // 12, m % 12 + 1, 1) for m in range(first, last + 1)]

    def query_args(self, **overrides) -> dict[str, str]:
        """The filters and params as query-string arguments (for links between tabs)."""
        args = {k: v for k, v in self.drill_params().items()}
        for name, value in self.params.items():
            if value is not None:
                args[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        args.update({k: v for k, v in overrides.items() if v is not None})
        return args


def _check_period(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise FilterError(_l("The period starts after it ends."))
    if (date_to - date_from).days > MAX_YEARS * 366:
        raise FilterError(_l("The period may span at most %(years)s years.", years=MAX_YEARS))


# --- results ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    type: str = "text"                     # a FieldType value
    source: tuple[type, str] | None = None  # (Model, field name) for a record's field

    def __post_init__(self):
        object.__setattr__(self, "type", FieldType(self.type).value)


@dataclass(frozen=True)
class Series:
    key: str                 # the column holding the values
    label: Any = None        # default: the column's label
    stack: str | None = None


@dataclass(frozen=True)
class Chart:
    kind: str
    category: str | None = None
    series: tuple = ()
    horizontal: bool = False
    top: int | None = None
    x: str | None = None
    y: str | None = None
    name: str | None = None
    group: str | None = None
    marks: Mapping[str, Any] | None = None
    tree: list | None = None

    def __post_init__(self):
        if self.kind not in CHART_KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r}; one of {CHART_KINDS}")
        object.__setattr__(self, "series", tuple(s if isinstance(s, Series) else Series(s) for s in self.series))


@dataclass
class Result:
    columns: list[Column]
    rows: list[dict]
    drill: list | None = None
    chart: Chart | None = None
    notes: list = field(default_factory=list)
    totals: dict | None = None
    page: Page | None = None                        # a paged result: which page ``rows`` is, and the total
    stream: Callable[[], Any] | None = None         # every row (dicts like ``rows``), for a download

    def drill_for(self, index: int, column: str | None = None) -> Link | None:
        """The drill of row ``index`` (for ``column``'s cell when the row has one per column)."""
        if not self.drill or index >= len(self.drill):
            return None
        entry = self.drill[index]
        if isinstance(entry, Mapping):
            return entry.get(column) or entry.get("*")
        return entry


# --- analyses -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Analysis:
    key: str
    title: Any
    compute: Callable[[Filters, Any], Result]
    description: Any = ""
    params: tuple[Param, ...] = ()
    uses: tuple[str, ...] = COMMON_FILTERS
    needs: tuple[tuple[str, str], ...] = ()   # (permission, view) pairs beyond AnalysisView can_list
    order: int = 100
    icon: str = "fa-bar-chart"
    page_size: int | None = None              # rows a page; None: the result is not paged

    def __post_init__(self):
        unknown = set(self.uses) - set(COMMON_FILTERS)
        if unknown:
            raise ValueError(f"{self.key}: unknown filters {sorted(unknown)}")
        clash = {p.name for p in self.params} & (set(FILTER_KEYS) | set(PASSTHROUGH) | {PAGE_KEY})
        if clash:
            raise ValueError(f"{self.key}: parameter names {sorted(clash)} are reserved")

    def run(self, args: Mapping[str, str], user, today: dt.date | None = None) -> tuple[Filters, Result]:
        filters = Filters.parse(args, self, today=today)
        return filters, self.compute(filters, user)


_ANALYSES: dict[str, Analysis] = {}


def register(analysis: Analysis) -> Analysis:
    """Add (or replace) an analysis; returns it."""
    _ANALYSES[analysis.key] = analysis
    return analysis


def get(key: str) -> Analysis | None:
    return _ANALYSES.get(key)


def analyses() -> list[Analysis]:
    """Every registered analysis, in menu order."""
    return sorted(_ANALYSES.values(), key=lambda a: (a.order, a.key))


def export_rows(result: Result) -> tuple[int, Any]:
    """Every row of ``result`` for a download, totals row last: (how many, an iterable of row
    dicts). A paged result's rows come from its ``stream`` (read once, as they are written)."""
    extra = [result.totals] if result.totals else []
    if result.stream is None:
        return len(result.rows) + len(extra), [*result.rows, *extra]
    count = (result.page.total if result.page is not None and result.page.total is not None else 0) + len(extra)

    def rows():
        yield from result.stream()
        yield from extra
    return count, rows()


# --- JSON ---------------------------------------------------------------------------------

def plain(value):
    """A value as JSON carries it: numbers as numbers, dates as ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def result_json(result: Result) -> dict:
    """The result as the page's script reads it (labels already translated)."""
    drills = []
    for index in range(len(result.rows)):
        entry = result.drill[index] if result.drill and index < len(result.drill) else None
        if entry is None:
            drills.append(None)
        elif isinstance(entry, Mapping):
            drills.append({k: v.url for k, v in entry.items() if v is not None})
        else:
            drills.append({"*": entry.url})
    chart = None
    if result.chart is not None:
        c = result.chart
        labels = {col.key: str(col.label) for col in result.columns}
        chart = {"kind": c.kind, "category": c.category, "horizontal": c.horizontal, "top": c.top,
                 "x": c.x, "y": c.y, "name": c.name, "group": c.group, "marks": c.marks, "tree": c.tree,
                 "series": [{"key": s.key, "label": str(s.label) if s.label is not None else labels.get(s.key, s.key),
                             "stack": s.stack} for s in c.series]}
    return {
        "columns": [{"key": c.key, "label": str(c.label), "type": c.type} for c in result.columns],
        "rows": [{k: plain(v) for k, v in row.items()} for row in result.rows],
        "drill": drills,
        "totals": None if result.totals is None else {k: plain(v) for k, v in result.totals.items()},
        "chart": chart,
        "notes": [str(n) for n in result.notes],
        "page": None if result.page is None else {"number": result.page.number, "size": result.page.size,
                                                   "total": result.page.total, "pages": result.page.pages},
    }
