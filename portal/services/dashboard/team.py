"""The sales manager's view of the team: this month's visit and call compliance per
salesperson (portal/services/visit_plan.py, the salesperson rules) and the team's customer
composition by grade (the composition analysis of portal/analysis/composition.py), both
within the manager's row scope (their teams' customers)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.analysis import registry
from portal.fields import fields_of
from portal.models import Customer
from portal.analysis.registry import Chart, Column, Result, Series
from portal.services import visit_plan

from . import Figure, Page, Panel, Section
from .sales import month_start


def _percent(covered: float, planned: float):
    return round(100 * covered / planned, 1) if planned else None


def team_panel(session, user, today, options) -> list[Panel]:
    start = month_start(today)
    report = visit_plan.compliance(session, user, start, today, role_key="salesperson", role_map=options.role_map)
    args = {"start": start.isoformat(), "end": today.isoformat(), "role": "salesperson"}
    page = Page("VisitComplianceView.report", args)
    planned_v = sum(r.visits_planned for r in report.totals)
    planned_c = sum(r.calls_planned for r in report.totals)
    figures = [
        Figure("people", _l("Salespeople in the plan"), len(report.totals), page),
        Figure("customers", _l("Customers in the plan"), sum(r.customers for r in report.totals), page),
        Figure("visits_percent", _l("Visits against the plan (%)"),
               _percent(sum(r.visits_covered for r in report.totals), planned_v), page, type="percent"),
        Figure("calls_percent", _l("Calls against the plan (%)"),
               _percent(sum(r.calls_covered for r in report.totals), planned_c), page, type="percent"),
    ]
    rows, links = [], []
    for r in report.totals:
        rows.append({"person": r.person, "customers": r.customers, "visits_planned": round(r.visits_planned, 1),
                     "visits_done": r.visits_done, "visits_percent": r.visits_percent,
                     "calls_planned": round(r.calls_planned, 1), "calls_done": r.calls_done,
                     "calls_percent": r.calls_percent})
        links.append(Page("VisitComplianceView.report", {**args, "person": r.person_id}))
    result = Result(
        columns=[Column("person", fields_of(Customer)["owner_id"].label), Column("customers", _l("Customers"), "int"),
                 Column("visits_planned", _l("Visits planned"), "decimal"), Column("visits_done", _l("Visits done"), "int"),
                 Column("visits_percent", _l("Visits %"), "decimal"),
                 Column("calls_planned", _l("Calls planned"), "decimal"), Column("calls_done", _l("Calls done"), "int"),
                 Column("calls_percent", _l("Calls %"), "decimal")],
        rows=rows, drill=links,
        chart=Chart("bar", category="person", series=(Series("visits_percent"), Series("calls_percent"))))
    return [Panel("team", _l("Team visit compliance this month"), figures=figures, result=result, more=page,
                  more_label=_l("Open the compliance report"),
                  notes=[_l("%(start)s – %(end)s: contacts done within the plan as a share of those planned by the "
                            "contact-frequency rules (each customer counts up to its plan).",
                            start=start.isoformat(), end=today.isoformat())])]


def composition_panel(session, user, today, options) -> list[Panel]:
    analysis = registry.get("composition")
    filters, result = analysis.run({"by": "grade"}, user, today=today)
    totals = result.totals or {}
    page = Page("AnalysisView.page", {"key": "composition", **filters.query_args()})
    figures = [
        Figure("customers", _l("Customers"), totals.get("customers", 0), page),
        Figure("sales", _l("Sales, last 12 months"), totals.get("sales", 0), page, type="money"),
    ]
    return [Panel("composition", _l("Team composition by grade"), figures=figures, result=result, more=page,
                  more_label=_l("Open the composition analysis"),
                  notes=[_l("Sales from %(start)s to %(end)s; click a bar for its customers.",
                            start=filters.date_from.isoformat(), end=filters.date_to.isoformat())])]


SECTIONS = (
    Section("team", _l("Team"), team_panel, needs=(("can_list", "VisitComplianceView"),)),
    Section("composition", _l("Composition"), composition_panel, needs=(("can_list", "AnalysisView"),)),
)
