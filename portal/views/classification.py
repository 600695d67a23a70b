"""Classification pages (issue 6).

* The analyses ABC, ABC lists, turnover × profit matrix, relationship type and RFM are
  registered with portal/analysis/registry.py (served by views/analyses.py at
  ``/analysis/<key>/``: chart, table, .xlsx, drill-down) and read the latest stored run of
  their kind (or the one named by ``run``), counted within the user's row scope.
* Drill-downs: ``classification.class`` (run + class → that class's customers in that run),
  ``classification.flag`` (run + gold/drag), ``classification.customer`` (one customer).
* :class:`ClassificationView` (``/classification/``): the stored runs with their parameters,
  period, date, who and counts, a form to run (can_run), and the grade proposals the
  custodian accepts or rejects, one by one or in bulk (can_decide).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _, lazy_gettext as _l

from portal.analysis import drill
from portal.analysis.registry import Analysis, Chart, Column, FilterError, Page, Param, Result, Series, register
from portal.extensions import db
from portal.fields import fields_of
from portal.models import ClassificationResult, ClassificationRun, Customer
from portal.models.classification import ABC, KINDS, MATRIX, MODES, RELATIONSHIP, RFM
from portal.security import scope
from portal.security.permissions import current_user, has
from portal.services.classification import ClassificationError, Period, lists, reports, runs

VIEW = "ClassificationView"
PAGES = {ABC: "abc", RFM: "rfm", MATRIX: "matrix", RELATIONSHIP: "relationship"}


# --- reading a stored run for a page --------------------------------------------------------

def _run_for(kind: str, filters) -> ClassificationRun | None:
    run_id = filters.param("run")
    if run_id is None:
        return reports.latest_run(db.session, kind)
    run = db.session.get(ClassificationRun, run_id)
    if run is None or run.kind != kind:
        raise FilterError(_l("There is no %(kind)s run number %(id)s.", kind=runs.KIND_LABELS[kind], id=run_id))
    return run


def _condition(filters, user):
    conditions = filters.customer_conditions(user)
    return sa.and_(*conditions) if conditions else None


def _run_note(run: ClassificationRun) -> str:
    if run.kind == RFM:
        what = _("analysis date %(on)s", on=run.as_of.isoformat())
    else:
        what = _("period %(start)s – %(end)s", start=run.period_from.isoformat(), end=run.period_to.isoformat())
    return _("Run %(id)s of %(at)s (%(what)s), %(n)s customers classified; recompute on the classification page.",
             id=run.id, at=run.ran_at.strftime("%Y-%m-%d %H:%M"), what=what, n=run.customer_count)


def _no_run(kind: str, columns) -> Result:
    return Result(columns=columns, rows=[], notes=[_l(
        "No %(kind)s run yet: the custodian runs it on the classification page or with flask portal classify.",
        kind=runs.KIND_LABELS[kind])])


RUN_PARAM = Param("run", _l("Run number"), kind="int", min=1, help=_l("Empty: the latest run"))


def _class_result(kind: str, filters, user, columns, value_label) -> Result:
    run = _run_for(kind, filters)
    if run is None:
        return _no_run(kind, columns)
    rows, links = [], []
    condition = _condition(filters, user)
    total_customers = 0
    for row in reports.summary(db.session, run, condition):
        total_customers += row["customers"]
        rows.append({"klass": row["label"], "customers": row["customers"], "value": row["value"],
                     "profit": row["profit"], "orders": row["orders"],
                     "share": Decimal(str(round(row["share"] * 100, 1))), "focus": row["focus"] or ""})
        links.append(drill.link("classification.class", run=run.id, **{"class": row["klass"]}))
    for row in rows:
        row["customer_share"] = (Decimal(row["customers"] * 100) / total_customers).quantize(Decimal("0.1")) \
            if total_customers else None
    notes = [_run_note(run)]
    thresholds = (run.parameters or {}).get("thresholds")
    if thresholds:
        notes.append(_("Thresholds used (at or above is high): %(t)s.",
                       t=", ".join(f"{k} {v}" for k, v in thresholds.items())))
    return Result(columns=columns, rows=rows, drill=links, notes=notes,
                  chart=Chart("bar", category="klass", series=(Series("customers"), Series("value", value_label))))


# --- ABC --------------------------------------------------------------------------------

def _abc(filters, user) -> Result:
    columns = [Column("klass", _l("Class")), Column("customers", _l("Customers"), "int"),
               Column("customer_share", _l("Share of customers %"), "decimal"),
               Column("value", _l("Value"), "money"), Column("share", _l("Share of value %"), "decimal")]
    result = _class_result(ABC, filters, user, columns, _l("Value"))
    run = _run_for(ABC, filters)
    if run is None:
        return result
    condition = _condition(filters, user)
    flags = reports.flag_counts(db.session, run, condition)
    for flag, label in (("gold", _l("Gold customers (top 5% by count)")),
                        ("drag", _l("Drag customers (bottom 20%, no order in 12 months)"))):
        result.rows.append({"klass": str(label), "customers": flags[flag], "customer_share": None,
                            "value": None, "share": None})
        result.drill.append(drill.link("classification.flag", run=run.id, flag=flag))
    p = run.parameters or {}
    result.notes.append(_("Value: the sum of the transaction amounts in the period, returns negative. Class by the "
                          "cumulative share of the customers with a greater value: below %(a)s → A, below %(b)s → B, "
                          "else C; tied customers share a class; customers who never traded are not classified.",
                          a=f"{Decimal(p.get('a_share', '0.7')) * 100:g}%", b=f"{Decimal(p.get('b_share', '0.95')) * 100:g}%"))
    result.chart = Chart("bar", category="klass", series=(Series("customers"), Series("value")), top=3)
    return result


register(Analysis("abc", _l("ABC value classes"), _abc, params=(RUN_PARAM,), uses=("region", "owner", "grade"),
                  description=_l("Customers by value class (A/B/C) of the latest ABC run, gold and drag customers."),
                  order=20, icon="fa-sort-amount-desc"))

LISTS = (("top", _l("Last year's top customers")), ("complaints", _l("Big customers with complaints")),
         ("cross_sell", _l("One or two product lines")))
LIST_PAGE_SIZE = 100      # the top and cross-sell lists run to thousands of customers: paged in SQL


def _paged(page: Page | None, fetch_page, fetch_all):
    """(rows, page, stream): the page's rows fetched in SQL with the total
    (``fetch_page(limit, offset)`` → (rows, total)) — or, for a caller that asked for no
    page (commands, tests), every row; ``stream`` yields every row for the .xlsx."""
    if page is None:
        return list(fetch_all()), None, None
    rows, total = fetch_page(page.size, page.offset)
    return rows, page.of(total), fetch_all


def _abc_lists(filters, user) -> Result:
    which = filters.param("list")
    condition = _condition(filters, user)
    today = dt.date.today()
    year = filters.param("year") or today.year - 1
    name = Column("name", _l("Customer"), source=(Customer, "name"))
    number = Column("number", _l("Customer number"), source=(Customer, "number"))
    owner = Column("owner", fields_of(Customer)["owner_id"].label)  # the registry's 业务员
    page = stream = None
    if which == "top":
        def ordered_text(rows):
            for row in rows:
                row["ordered_text"] = _("Yes") if row["ordered"] else _("No")
            return rows

        def top_page(limit, offset):
            rows, total = lists.top_customers_page(db.session, year, today, condition=condition, limit=limit,
                                                   offset=offset)
            return ordered_text(rows), total

        rows, page, stream = _paged(filters.page, top_page, lambda: ordered_text(
            lists.top_customers(db.session, year, today, condition=condition)))
        columns = [Column("rank", _l("Rank"), "int"), number, name, owner,
                   Column("value_last_year", _l("Value %(year)s", year=year), "money"),
                   Column("orders_this_year", _l("Orders %(year)s", year=year + 1), "int"),
                   Column("value_this_year", _l("Value %(year)s", year=year + 1), "money"),
                   Column("last_order", _l("Last order"), "date"), Column("ordered_text", _l("Ordered this year"))]
        notes = [_l("The top 5%% by count of the customers with a positive value in %(year)s (ties included), and "
                    "their orders since 1 January %(next)s.", year=year, next=year + 1)]
        chart = Chart("bar", category="name", series=(Series("value_last_year"), Series("value_this_year")),
                      horizontal=True, top=20)
    elif which == "complaints":
        run = reports.latest_run(db.session, ABC)
        columns = [number, name, owner, Column("value", _l("Value"), "money"),
                   Column("complaints", _l("Complaints"), "int"), Column("last_complaint", _l("Last complaint"), "date")]
        if run is None:
            return _no_run(ABC, columns)
        minimum = filters.param("min_complaints")
        rows = lists.complaining_big_customers(db.session, run.id, year, minimum, condition=condition)
        notes = [_l("Class A customers of ABC run %(id)s with at least %(n)s complaints in %(year)s.",
                    id=run.id, n=minimum, year=year)]
        chart = Chart("bar", category="name", series=(Series("complaints"),), horizontal=True, top=20)
    else:
        period = Period.of(dt.date(year, 1, 1), dt.date(year, 12, 31))
        maximum = filters.param("max_lines")
        rows, page, stream = _paged(
            filters.page,
            lambda limit, offset: lists.cross_sell_page(db.session, period, maximum, condition, limit=limit,
                                                        offset=offset),
            lambda: lists.iter_cross_sell(db.session, period, maximum, condition=condition))
        columns = [number, name, owner, Column("lines", _l("Product lines"), "int"),
                   Column("line_names", _l("Lines bought")), Column("value", _l("Value"), "money")]
        notes = [_l("Customers whose purchases in %(year)s cover at most %(n)s product lines (a line is a product "
                    "category; a product without one counts as its own): cross-selling candidates.",
                    year=year, n=maximum)]
        chart = Chart("bar", category="name", series=(Series("value"),), horizontal=True, top=20)
    links = [drill.link("classification.customer", id=row["customer_id"]) for row in rows]
    return Result(columns=columns, rows=rows, drill=links, chart=chart, notes=notes, page=page, stream=stream)


register(Analysis("abc_lists", _l("ABC working lists"), _abc_lists, uses=("region", "owner", "grade"),
                  params=(Param("list", _l("List"), choices=LISTS, default="top", tabs=True),
                          Param("year", _l("Year"), kind="int", min=1990, max=2100,
                                help=_l("Empty: last year")),
                          Param("min_complaints", _l("At least complaints"), kind="int", default="2", min=1, max=100),
                          Param("max_lines", _l("At most product lines"), kind="int", default="2", min=1, max=20)),
                  description=_l("Top customers and whether they ordered again, big customers who complained, "
                                 "customers buying one or two product lines."), order=21, icon="fa-list-ol",
                  page_size=LIST_PAGE_SIZE))


def _matrix(filters, user) -> Result:
    columns = [Column("klass", _l("Quadrant")), Column("customers", _l("Customers"), "int"),
               Column("value", _l("Turnover"), "money"), Column("profit", _l("Profit"), "money"),
               Column("focus", _l("Work focus"))]
    result = _class_result(MATRIX, filters, user, columns, _l("Turnover"))
    result.notes.append(_l("Profit: line amount less quantity × the product's cost price; lines of products without "
                           "a cost price add no profit."))
    return result


def _relationship(filters, user) -> Result:
    columns = [Column("klass", _l("Relationship type")), Column("customers", _l("Customers"), "int"),
               Column("profit", _l("Profit"), "money"), Column("focus", _l("Work focus"))]
    result = _class_result(RELATIONSHIP, filters, user, columns, _l("Turnover"))
    result.chart = Chart("bar", category="klass", series=(Series("customers"),))
    result.notes.append(_l("Loyalty: the card's loyalty index (0–100); profit as in the turnover × profit matrix."))
    return result


def _rfm(filters, user) -> Result:
    columns = [Column("klass", _l("Segment")), Column("customers", _l("Customers"), "int"),
               Column("orders", _l("Orders"), "int"), Column("value", _l("Revenue"), "money"),
               Column("focus", _l("Work focus"))]
    result = _class_result(RFM, filters, user, columns, _l("Revenue"))
    result.chart = Chart("bar", category="klass", series=(Series("customers"),), horizontal=True)
    result.notes.append(_l("Recency, frequency and monetary scores 1–5 by the cut points of the R package rfm "
                           "(type-7 quantiles + 1); the first matching segment wins."))
    return result


register(Analysis("matrix", _l("Turnover × profit matrix"), _matrix, params=(RUN_PARAM,),
                  uses=("region", "owner", "grade"), order=22, icon="fa-th-large",
                  description=_l("Quadrants A–D by turnover and profit, with each quadrant's work focus.")))
register(Analysis("relationship", _l("Relationship type"), _relationship, params=(RUN_PARAM,),
                  uses=("region", "owner", "grade"), order=23, icon="fa-handshake-o",
                  description=_l("Partner, functional, emotional and drifting customers by loyalty × profit.")))
register(Analysis("rfm", _l("RFM segments"), _rfm, params=(RUN_PARAM,), uses=("region", "owner", "grade"),
                  order=24, icon="fa-crosshairs",
                  description=_l("Recency, frequency and monetary scores and the segments they make.")))


# --- drill-downs ----------------------------------------------------------------------------

def _class_label(params):
    run = db.session.get(ClassificationRun, int(params["run"])) if str(params.get("run", "")).isdigit() else None
    klass = params.get("class", "")
    if run is None:
        return _("Classification class %(c)s", c=klass)
    return _("%(kind)s run %(id)s: %(c)s", kind=runs.KIND_LABELS[run.kind], id=run.id,
             c=reports.class_label(run.kind, klass))


@drill.define("classification.class", label=_class_label)
def _drill_class(params):
    run_id = drill.require(params, "run", kind="int")
    klass = drill.require(params, "class")
    return Customer.id.in_(reports.member_ids_query(run_id, klass=klass))


@drill.define("classification.flag", label=lambda p: _("ABC run %(id)s: %(flag)s", id=p.get("run", ""), flag={
    "gold": _("gold customers"), "drag": _("drag customers")}.get(p.get("flag"), "")))
def _drill_flag(params):
    run_id = drill.require(params, "run", kind="int")
    flag = drill.require(params, "flag", choices=("gold", "drag"))
    return Customer.id.in_(reports.member_ids_query(run_id, flag=flag))


@drill.define("classification.customer", label=lambda p: _("One customer"))
def _drill_customer(params):
    return Customer.id == drill.require(params, "id", kind="int")


# --- runs and proposals -----------------------------------------------------------------------

class ClassificationView(BaseView):
    route_base = "/classification"
    default_view = "index"
    base_permissions = ["can_list", "can_run", "can_decide"]
    # The rule parameters as the form and the runs' list name them (runs.PARAMETERS' keys).
    parameter_labels = {
        "a_share": _l("A: cumulative share below"), "b_share": _l("B: cumulative share below"),
        "gold_share": _l("Gold: top share by count"), "drag_share": _l("Drag: bottom share by count"),
        "drag_months": _l("Drag: months without an order"), "turnover_threshold": _l("High turnover from"),
        "profit_threshold": _l("High profit from"), "loyalty_threshold": _l("High loyalty from"),
        "bins": _l("Bins per measure"), "thresholds": _l("Thresholds"),
    }
    method_permission_name = {"index": "list", "run": "run", "proposals": "decide", "decide": "decide"}

    def _page(self, errors=(), form=None, status=200):
        user = current_user()
        context = {
            "runs": reports.runs(db.session, limit=100), "kinds": [(k, runs.KIND_LABELS[k]) for k in KINDS],
            "kind_labels": runs.KIND_LABELS, "mode_labels": runs.MODE_LABELS, "pages": PAGES,
            "parameters": runs.PARAMETERS, "parameter_labels": self.parameter_labels, "form": form or {},
            "errors": list(errors),
            "may_run": has(user, "can_run", VIEW), "may_decide": has(user, "can_decide", VIEW),
            "pending": reports.proposal_count(db.session),
            "class_label": reports.class_label, "today": dt.date.today().isoformat(),
        }
        return self.render_template("portal/classification.html", **context), status

    @expose("/", methods=["GET"])
    @has_access
    def index(self):
        return self._page()

    @expose("/run", methods=["POST"])
    @has_access
    def run(self):
        form = request.form
        kind = form.get("kind", "")
        mode = form.get("mode") or "none"
        names = runs.PARAMETERS.get(kind, ()) if kind != runs.ALL else \
            tuple(dict.fromkeys(n for names in runs.PARAMETERS.values() for n in names))
        parameters = {n: form.get(n) for n in names if form.get(n)}
        user = current_user()
        try:
            if mode not in MODES:
                raise ClassificationError(_l("Unknown mode: %(mode)s.", mode=mode[:40]))
            done = runs.run(db.session, kind, start=form.get("from"), end=form.get("to"), on=form.get("on"),
                            parameters=parameters, mode=mode, user_id=user.id, username=user.username)
        except ClassificationError as exc:
            db.session.rollback()
            return self._page(errors=[exc.message], form=form, status=400)
        db.session.commit()
        for record in done:
            flash(_("%(kind)s: run %(id)s, %(n)s customers classified.", kind=runs.KIND_LABELS[record.kind],
                    id=record.id, n=record.customer_count), "success")
        return redirect(url_for("ClassificationView.index"))

    @expose("/proposals", methods=["GET"])
    @has_access
    def proposals(self):
        run_id = request.args.get("run", "")
        if run_id and not run_id.isdigit():
            abort(400, _("The run number must be a whole number."))
        condition = scope.customer_condition(current_user())
        found = reports.proposals(db.session, run_id=int(run_id) if run_id else None, condition=condition)
        total = reports.proposal_count(db.session, condition=condition)
        return self.render_template("portal/classification_proposals.html", proposals=found, total=total,
                                    run_id=run_id)

    @expose("/proposals/decide", methods=["POST"])
    @has_access
    def decide(self):
        form = request.form
        action = form.get("action")
        if action not in ("accept", "reject"):
            abort(400, _("Choose accept or reject."))
        ids = form.getlist("id")
        if not all(i.isdigit() for i in ids):
            abort(400, _("The proposals are given by number."))
        every = form.get("all") == "1"
        if not ids and not every:
            flash(_("Choose at least one proposal."), "warning")
            return redirect(url_for("ClassificationView.proposals"))
        user = current_user()
        condition = scope.customer_condition(user)
        selected = None if every else [int(i) for i in ids]
        try:
            if action == "accept":
                n = runs.accept(db.session, ids=selected, condition=condition, user_id=user.id, username=user.username)
            else:
                n = runs.reject(db.session, ids=selected, condition=condition, user_id=user.id)
        except ClassificationError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
            return redirect(url_for("ClassificationView.proposals"))
        db.session.commit()
        flash(_("%(n)s grade proposals accepted.", n=n) if action == "accept" else
              _("%(n)s grade proposals rejected.", n=n), "success")
        return redirect(url_for("ClassificationView.proposals"))


def register_views(appbuilder, category: str) -> None:
    appbuilder.add_view(ClassificationView, "Classification runs", label=_l("Classification runs"),
                        icon="fa-tags", category=category)
