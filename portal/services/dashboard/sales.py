"""The salesperson's day: their reminders (portal/services/reminders.py) and the visits and
calls due or overdue under the contact-frequency rules, with this month's visits and calls
against the plan (portal/services/visit_plan.py) — all within their row scope, each number
opening the today page or the visit plan."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from portal.analysis.registry import Chart, Column, Result, Series
from portal.fields import fields_of
from portal.models import Customer, ReminderDone
from portal.services import reminders, visit_plan

from . import Figure, Page, Panel, Section


def _kind_label(kind: str) -> str:
    return fields_of(ReminderDone)["kind"].choice_label(kind)


def reminders_panel(session, user, today, options) -> list[Panel]:
    counts = reminders.counts_for(session, user, today, options.reminder_settings)
    figures = [Figure("total", _l("Reminders today"), sum(counts.values()), Page("TodayView.page"), tone="warn")]
    figures += [Figure(kind, _kind_label(kind), counts.get(kind, 0), Page("TodayView.page", {"kind": kind}))
                for kind in reminders.KINDS]
    rows = [{"kind": _kind_label(kind), "count": counts.get(kind, 0)} for kind in reminders.KINDS]
    links = [Page("TodayView.page", {"kind": kind}) for kind in reminders.KINDS]
    result = Result(columns=[Column("kind", _l("Reminder")), Column("count", _l("Count"), "int")],
                    rows=rows, drill=links, chart=Chart("bar", category="kind", series=(Series("count"),),
                                                        horizontal=True))
    return [Panel("reminders", _l("My reminders"), figures=figures, result=result, more=Page("TodayView.page"),
                  more_label=_l("Open the today page"))]


def month_start(today: dt.date) -> dt.date:
    return today.replace(day=1)


def visits_panel(session, user, today, options) -> list[Panel]:
    role_key = visit_plan.role_key_of(user, options.role_map) or "salesperson"
    status = visit_plan.due_counts(session, user, today, role_key=role_key, role_map=options.role_map)
    due_page = Page("VisitPlanView.due")
    figures = [
        Figure("never", _l("Never visited or called"), status["never"], due_page, tone="warn"),
        Figure("overdue", _l("Overdue"), status["overdue"], due_page, tone="warn"),
        Figure("due", _l("Due this week"), status["due"], due_page),
    ]
    start = month_start(today)
    report = visit_plan.compliance(session, user, start, today, role_key=role_key,
                                   person_id=user.id if role_key == "salesperson" else None,
                                   role_map=options.role_map)
    own = [r for r in report.totals if r.person_id == user.id]
    compliance_page = Page("VisitComplianceView.report",
                           {"start": start.isoformat(), "end": today.isoformat(), "role": role_key})
    if own:
        figures.append(Figure("visits_percent", _l("Visits this month against the plan (%)"), own[0].visits_percent,
                              compliance_page, type="percent"))
        figures.append(Figure("calls_percent", _l("Calls this month against the plan (%)"), own[0].calls_percent,
                              compliance_page, type="percent"))
    grade = fields_of(Customer)["value_grade"]
    rows = [{"grade": grade.choice_label(r.grade), "customers": r.customers,
             "visits_planned": round(r.visits_planned, 1), "visits_done": r.visits_done,
             "calls_planned": round(r.calls_planned, 1), "calls_done": r.calls_done}
            for r in report.rows if r.person_id == user.id]
    result = Result(
        columns=[Column("grade", grade.label), Column("customers", _l("Customers"), "int"),
                 Column("visits_planned", _l("Visits planned"), "decimal"), Column("visits_done", _l("Visits done"), "int"),
                 Column("calls_planned", _l("Calls planned"), "decimal"), Column("calls_done", _l("Calls done"), "int")],
        rows=rows, drill=[compliance_page] * len(rows),
        chart=Chart("bar", category="grade", series=(Series("visits_planned"), Series("visits_done"),
                                                     Series("calls_planned"), Series("calls_done"))))
    return [Panel("visits", _l("My visits due"), figures=figures, result=result, more=due_page,
                  more_label=_l("Open the visit plan"),
                  notes=[_l("This month so far (%(start)s – %(end)s), by grade: contacts planned by the rules "
                            "against those done.", start=start.isoformat(), end=today.isoformat())])]


SECTIONS = (
    Section("reminders", _l("Reminders"), reminders_panel, needs=(("can_list", "TodayView"),)),
    Section("visits", _l("Visits"), visits_panel, needs=(("can_list", "VisitPlanView"), ("can_list", "VisitComplianceView"))),
)
