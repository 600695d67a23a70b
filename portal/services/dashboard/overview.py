"""The archive at a glance (everyone), and the custodian's and auditor's overview: the size of
the archive and how it grew, the classification runs and the grade proposals waiting, what
changed in the archive and how it was accessed — each a few GROUP BY queries, within the
user's row scope (the change and access logs are the custodian's and auditor's, who see
every customer).

Days of the logs are the server's calendar days; :data:`ACTIVITY_DAYS` of them up to today.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.analysis.registry import Chart, Column, Result, Series
from portal.analysis.sql import year_month
from portal.fields import fields_of
from portal.i18n import pick
from portal.models import AccessLog, ChangeLog, ClassificationRun, Contact, Customer, Promotion, Transaction, Visit
from portal.models.audit import ACCESS_ACTIONS, CHANGE_ACTIONS
from portal.models.choices import STAGE
from portal.models.classification import KINDS
from portal.security import scope
from portal.services.classification import reports, runs

from . import Figure, Grid, Page, Panel, Section

RECENT_CARDS = 8
GROWTH_MONTHS = 12
ACTIVITY_DAYS = 30
#: access-log actions the auditor looks at first
WATCHED = ("login_failed", "denied", "not_found", "export", "import", "purge", "reassign")


def _count(session, model, user) -> int:
    return session.scalar(scope.scoped(sa.select(sa.func.count()).select_from(model), model, user)) or 0


def _day_range(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.combine(first, dt.time()), dt.datetime.combine(last + dt.timedelta(days=1), dt.time())


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def created_grid(resource: str, first: dt.date, last: dt.date) -> Grid:
    return Grid(resource, {"created_on": f"{dt.datetime.combine(first, dt.time()).isoformat()}.."
                                         f"{dt.datetime.combine(last, dt.time.max).isoformat()}"})


# --- the glance: what the start page always showed ------------------------------------------

def glance(session, user, today, options) -> list[Panel]:
    by_stage = dict(session.execute(
        scope.scoped(sa.select(Customer.stage, sa.func.count()).group_by(Customer.stage), Customer, user)).all())
    figures = [Figure(code, pick(zh, en), by_stage.get(code, 0), Grid("customer", {"stage": code}))
               for code, zh, en in STAGE]
    figures.append(Figure("transactions", _l("Transactions"), _count(session, Transaction, user), Grid("transaction")))
    recent = session.execute(
        scope.scoped(sa.select(Customer.id, Customer.number, Customer.name, Customer.city, Customer.changed_on),
                     Customer, user).order_by(Customer.changed_on.desc(), Customer.id.desc()).limit(RECENT_CARDS)).all()
    rows = [{"id": r.id, "number": r.number, "name": r.name, "city": r.city or "", "changed_on": r.changed_on,
             "target": Page("CustomerView.show", {"pk": r.id})} for r in recent]
    return [Panel("glance", _l("The archive at a glance"), figures=figures, rows=rows,
                  more=Grid("customer"), more_label=_l("Open the customer grid"))]


# --- the overview: size and growth -----------------------------------------------------------

def _months(today: dt.date, n: int) -> list[dt.date]:
    first = today.year * 12 + today.month - 1 - (n - 1)
    return [dt.date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(n)]


def _month_end(month: dt.date) -> dt.date:
    nxt = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def overview(session, user, today, options) -> list[Panel]:
    figures = [
        Figure("customers", _l("Cards"), _count(session, Customer, user), Grid("customer")),
        Figure("contacts", _l("Contacts"), _count(session, Contact, user), Grid("contact")),
        Figure("transactions", _l("Transactions"), _count(session, Transaction, user), Grid("transaction")),
        Figure("visits", _l("Visits and calls"), _count(session, Visit, user), Grid("visit")),
        Figure("promotions", _l("Promotions"), session.scalar(sa.select(sa.func.count()).select_from(Promotion)) or 0,
               Page("PromotionView.list")),
    ]
    months = _months(today, GROWTH_MONTHS)
    start, _end = _day_range(months[0], today)
    month = year_month(Customer.created_on)
    added = dict(session.execute(scope.scoped(
        sa.select(month, sa.func.count()).where(Customer.created_on >= start).group_by(month), Customer, user)).all())
    rows, links = [], []
    for m in months:
        key = f"{m:%Y-%m}"
        rows.append({"month": key, "added": added.get(key, 0)})
        links.append(created_grid("customer", m, min(_month_end(m), today)))
    result = Result(columns=[Column("month", _l("Month")), Column("added", _l("Cards added"), "int")],
                    rows=rows, drill=links, chart=Chart("bar", category="month", series=(Series("added"),)))
    return [Panel("overview", _l("Archive size"), figures=figures, result=result,
                  notes=[_l("Cards added per month (by the date they were entered) over the last %(n)s months.",
                            n=GROWTH_MONTHS)])]


# --- classification runs and proposals -------------------------------------------------------

def classification(session, user, today, options) -> list[Panel]:
    condition = scope.customer_condition(user) if user is not scope.ALL else None
    pending = reports.proposal_count(session, condition=condition)
    figures = [Figure("proposals", _l("Grade proposals waiting"), pending, Page("ClassificationView.proposals"),
                      tone="warn")]
    latest = {}
    ranked = sa.select(ClassificationRun.kind, sa.func.max(ClassificationRun.ran_at).label("at")).group_by(
        ClassificationRun.kind).subquery()
    for run in session.scalars(sa.select(ClassificationRun).join(
            ranked, sa.and_(ranked.c.kind == ClassificationRun.kind, ranked.c.at == ClassificationRun.ran_at))):
        if run.kind not in latest or run.id > latest[run.kind].id:
            latest[run.kind] = run
    rows, links = [], []
    for kind in KINDS:
        run = latest.get(kind)
        rows.append({"kind": str(runs.KIND_LABELS.get(kind, kind)), "ran_at": run.ran_at if run else None,
                     "days": (today - run.ran_at.date()).days if run else None,
                     "customers": run.customer_count if run else None,
                     "mode": str(runs.MODE_LABELS.get(run.mode, run.mode)) if run else str(_l("Never run"))})
        links.append(Page("ClassificationView.index"))
    never = sum(1 for kind in KINDS if kind not in latest)
    figures.append(Figure("never", _l("Classifications never run"), never, Page("ClassificationView.index"), tone="warn"))
    result = Result(columns=[Column("kind", _l("Classification")), Column("ran_at", _l("Last run"), "datetime"),
                             Column("days", _l("Days ago"), "int"), Column("customers", _l("Customers classified"), "int"),
                             Column("mode", _l("Grades"))],
                    rows=rows, drill=links)
    return [Panel("classification", _l("Classification runs"), figures=figures, result=result,
                  more=Page("ClassificationView.index"), more_label=_l("Open the classification runs"))]


# --- change activity and access --------------------------------------------------------------

def _choice(choices, code) -> str:
    found = next(((zh, en) for c, zh, en in choices if c == code), None)
    return pick(*found) if found else code


def change_log_page(first: dt.date, last: dt.date) -> Page:
    """The change history list between two days (Flask-AppBuilder's filters on ``at``:
    index 1 is "greater than", 2 "smaller than")."""
    start, end = _day_range(first, last)
    return Page("ChangeLogView.list", {"_flt_1_at": start.isoformat(sep=" "), "_flt_2_at": end.isoformat(sep=" ")})


def access_log_page(first: dt.date, last: dt.date, action: str | None = None) -> Page:
    start, end = _day_range(first, last)
    args = {"_flt_1_at": start.isoformat(sep=" "), "_flt_2_at": end.isoformat(sep=" ")}
    if action:
        args["_flt_0_action"] = action
    return Page("AccessLogView.list", args)


def activity(session, user, today, options) -> list[Panel]:
    first = today - dt.timedelta(days=ACTIVITY_DAYS - 1)
    start, end = _day_range(first, today)
    day = sa.func.date(ChangeLog.at)
    query = scope.scoped(sa.select(day, ChangeLog.action, sa.func.count())
                         .where(ChangeLog.at >= start, ChangeLog.at < end).group_by(day, ChangeLog.action),
                         ChangeLog, user)
    found: dict[tuple[dt.date, str], int] = {}
    for d, action, n in session.execute(query):
        found[(_as_date(d), action)] = n
    actions = [code for code, _zh, _en in CHANGE_ACTIONS]
    days = [first + dt.timedelta(days=i) for i in range(ACTIVITY_DAYS)]
    rows, links = [], []
    for d in days:
        rows.append({"day": f"{d:%m-%d}", "date": d, **{a: found.get((d, a), 0) for a in actions}})
        links.append(change_log_page(d, d))
    total = sum(found.values())
    figures = [
        Figure("today", _l("Changes today"), sum(n for (d, _a), n in found.items() if d == today),
               change_log_page(today, today)),
        Figure("period", _l("Changes, last %(n)s days", n=ACTIVITY_DAYS), total, change_log_page(first, today)),
        Figure("people", _l("People who changed cards"), session.scalar(scope.scoped(
            sa.select(sa.func.count(sa.distinct(ChangeLog.username))).where(ChangeLog.at >= start, ChangeLog.at < end),
            ChangeLog, user)) or 0, change_log_page(first, today)),
    ]
    result = Result(columns=[Column("date", _l("Date"), "date"),
                             *[Column(a, _choice(CHANGE_ACTIONS, a), "int") for a in actions]],
                    rows=rows, drill=links,
                    chart=Chart("stacked_bar", category="day", series=tuple(Series(a) for a in actions)))
    return [Panel("activity", _l("Change activity"), figures=figures, result=result,
                  more=change_log_page(first, today), more_label=_l("Open the change history"))]


def access(session, user, today, options) -> list[Panel]:
    first = today - dt.timedelta(days=ACTIVITY_DAYS - 1)
    start, end = _day_range(first, today)
    counts = dict(session.execute(sa.select(AccessLog.action, sa.func.count())
                                  .where(AccessLog.at >= start, AccessLog.at < end).group_by(AccessLog.action)).all())
    figures = [Figure(a, _choice(ACCESS_ACTIONS, a), counts.get(a, 0), access_log_page(first, today, a),
                      tone="warn" if a in ("login_failed", "denied", "not_found") else None) for a in WATCHED]
    rows = [{"action": _choice(ACCESS_ACTIONS, code), "count": counts.get(code, 0)} for code, _zh, _en in ACCESS_ACTIONS]
    links = [access_log_page(first, today, code) for code, _zh, _en in ACCESS_ACTIONS]
    result = Result(columns=[Column("action", fields_of(AccessLog)["action"].label), Column("count", _l("Count"), "int")],
                    rows=rows, drill=links,
                    chart=Chart("bar", category="action", series=(Series("count"),), horizontal=True))
    return [Panel("access", _l("Access, last %(n)s days", n=ACTIVITY_DAYS), figures=figures, result=result,
                  more=access_log_page(first, today), more_label=_l("Open the access log"))]


SECTIONS = (
    Section("glance", _l("At a glance"), glance, needs=(("can_list", "CustomerView"),)),
    Section("overview", _l("Archive"), overview, needs=(("can_list", "CustomerView"),)),
    Section("classification", _l("Classification"), classification, needs=(("can_list", "ClassificationView"),)),
    Section("activity", _l("Change activity"), activity, needs=(("can_list", "ChangeLogView"),)),
    Section("access", _l("Access"), access, needs=(("can_list", "AccessLogView"),)),
)
