"""Visit plans (客户访问管理表 put to work): who is due or overdue for a visit or a call, the
day's route in 路序, and how the visits done compare with the rules.

The rules are rows of :class:`~portal.models.VisitRule` (visitor role × grade). A rule's
visitor role is matched to people like this (``role_map``, config ``VISIT_RULE_ROLES``):

* ``salesperson``: the customer's own salesperson (``Customer.owner_id``) — their visits and
  calls count, nobody else's;
* ``sales_manager``: the manager of a team (``SalesTeam.manager_id``) for the customers of
  that team (assigned to it, or owned by one of its members);
* ``marketing_director`` / ``general_manager``: every user holding a portal role that
  ``role_map`` maps to the key (by default the roles ``MarketingDirector`` and
  ``GeneralManager``, which a company adds to seeds/roles.json if it wants them), for every
  customer.

So a plan is a set of (person, customer) pairs — :func:`responsibility` — and only the
person's own visits to the customer count for it. Customers with no grade, a grade without
a rule, or stage 旧客户 (former) are outside the plan; so are "when needed" and "not
required" rules.

How the dates follow from a rule (one track for visits, one for calls):

* ``monthly`` — "visit 3×, call 2–3× a month": a month is taken as 30 days; the next
  contact is *due from* ``last + 30 // max`` days and *due by* ``last + 30 // min`` days
  (calls 2–3×: due from 10 days after the last call, overdue after 15);
* ``interval`` — "every 1–2 months": due from ``last + min`` calendar months, due by
  ``last + max`` months (a month-end date stays a month-end date: 31 Jan + 1 = 28/29 Feb);
* a customer never visited (or never called) by the person is ``never`` — the most
  urgent, listed before the overdue ones.

A track is *overdue* when the day is after its due-by date (overdue days = day − due-by
date), *due* when its due-from date falls in the week (Monday–Sunday) of the day.

Counting (compliance): ``visit`` contacts count as visits and ``phone`` contacts as calls
(:data:`VISIT_METHODS`, :data:`CALL_METHODS`); e-mails and messages are logged but meet
neither. Every query aggregates in SQL (GROUP BY person and customer); rows come back only
for what is listed.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from portal.models import Customer, Region, Route, SalesTeam, User, Visit, VisitRule, team_member
from portal.models.planning import VISITOR_ROLES
from portal.security import scope

VISIT_METHODS = ("visit",)
CALL_METHODS = ("phone",)
MONTH_DAYS = 30
ROLE_KEYS = tuple(code for code, _zh, _en in VISITOR_ROLES)
#: portal role → rule role; the default of config VISIT_RULE_ROLES
DEFAULT_ROLE_MAP = {
    "Salesperson": "salesperson", "SalesManager": "sales_manager",
    "MarketingDirector": "marketing_director", "GeneralManager": "general_manager",
}
# When a user holds several mapped roles, their own plan is the most senior one's.
SENIORITY = ("general_manager", "marketing_director", "sales_manager", "salesperson")
MAX_PERIOD_DAYS = 3 * 366
STATUS_ORDER = ("never", "overdue", "due", "ok")


class PlanError(ValueError):
    """A request the plan cannot answer (unknown role, a period backwards or too long)."""


# -- dates ------------------------------------------------------------------------------------

def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months; a day the month lacks becomes its last day
    (31 Jan + 1 month = 28 Feb, or 29 in a leap year). ``months`` may be negative."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_start_for(day: dt.date, months: int) -> dt.date:
    """The latest date ``d`` with ``add_months(d, months) <= day`` — so a condition "d +
    months is on or before day" becomes ``d <= latest_start_for(day, months)``, a comparison
    with a constant any database can make (and use an index for)."""
    last_day = calendar.monthrange(day.year, day.month)[1]
    back = add_months(day, -months)
    if day.day == last_day:
        return back.replace(day=calendar.monthrange(back.year, back.month)[1])
    return back


def week_end(day: dt.date) -> dt.date:
    """The Sunday of ``day``'s week (Monday–Sunday)."""
    return day + dt.timedelta(days=6 - day.weekday())


def months_in(start: dt.date, end: dt.date) -> Fraction:
    """How many months the period ``start``–``end`` (both included) spans: whole calendar
    months count 1, a part of a month its share of that month's days (1–15 Jan = 15/31)."""
    total = Fraction(0)
    cursor = start
    while cursor <= end:
        days_in_month = calendar.monthrange(cursor.year, cursor.month)[1]
        month_end = cursor.replace(day=days_in_month)
        last = min(month_end, end)
        total += Fraction((last - cursor).days + 1, days_in_month)
        cursor = month_end + dt.timedelta(days=1)
    return total


# -- date arithmetic in SQL (SQLite and PostgreSQL) -------------------------------------------

class days_after(FunctionElement):
    """``date + n days`` as a date: ``date(d, '+n days')`` in SQLite, ``d + n`` in PostgreSQL."""

    type = sa.Date()
    inherit_cache = True
    name = "days_after"


@compiles(days_after)
def _days_after_default(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"({compiler.process(day, **kw)} + {compiler.process(days, **kw)})"


@compiles(days_after, "sqlite")
def _days_after_sqlite(element, compiler, **kw):
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '+' || ({compiler.process(days, **kw)}) || ' days')"


class months_after(FunctionElement):
    """:func:`add_months` in SQL (``n`` ≥ 0): a day the month lacks becomes its last day.
    PostgreSQL's ``date + interval`` does that; SQLite's ``+n months`` overflows into the next
    month, so the result is capped at the last day of the month n months on."""

    type = sa.Date()
    inherit_cache = True
    name = "months_after"


@compiles(months_after)
def _months_after_default(element, compiler, **kw):
    day, months = list(element.clauses)
    return (f"CAST({compiler.process(day, **kw)} + make_interval(months => CAST({compiler.process(months, **kw)} "
            f"AS INTEGER)) AS DATE)")


@compiles(months_after, "sqlite")
def _months_after_sqlite(element, compiler, **kw):
    day, months = (compiler.process(c, **kw) for c in element.clauses)
    return (f"min(date({day}, '+' || ({months}) || ' months'), "
            f"date({day}, 'start of month', '+' || (({months}) + 1) || ' months', '-1 day'))")


# -- rules ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Track:
    """One kind of contact a rule asks for: visits or calls."""

    schedule: str            # monthly | interval
    low: int                 # times a month at least / longest interval in months
    high: int                # times a month at most / shortest interval in months

    def due_from(self, last: dt.date) -> dt.date:
        if self.schedule == "monthly":
            return last + dt.timedelta(days=max(1, MONTH_DAYS // self.high))
        return add_months(last, self.high)

    def due_by(self, last: dt.date) -> dt.date:
        if self.schedule == "monthly":
            return last + dt.timedelta(days=max(1, MONTH_DAYS // self.low))
        return add_months(last, self.low)

    def latest_last_due_by(self, day: dt.date) -> dt.date:
        """The latest last contact that makes the next one due on or before ``day``."""
        if self.schedule == "monthly":
            return day - dt.timedelta(days=max(1, MONTH_DAYS // self.high))
        return latest_start_for(day, self.high)

    def latest_last_overdue(self, day: dt.date) -> dt.date:
        """The latest last contact that makes the track overdue on ``day`` (due-by before it)."""
        before = day - dt.timedelta(days=1)
        if self.schedule == "monthly":
            return before - dt.timedelta(days=max(1, MONTH_DAYS // self.low))
        return latest_start_for(before, self.low)

    def due_by_sql(self, last):
        """:meth:`due_by` of a SQL date expression."""
        if self.schedule == "monthly":
            return days_after(last, sa.literal(max(1, MONTH_DAYS // self.low), sa.Integer))
        return months_after(last, sa.literal(self.low, sa.Integer))

    def per_month(self) -> tuple[Fraction, Fraction]:
        """(at least, at most) contacts a month."""
        if self.schedule == "monthly":
            return Fraction(self.low), Fraction(self.high)
        return Fraction(1, self.low), Fraction(1, self.high)


@dataclass(frozen=True)
class Rule:
    grade: str
    schedule: str
    visits: Track | None
    calls: Track | None
    note: str | None = None


def _track(schedule: str, low, high) -> Track | None:
    if not low:
        return None
    high = max(high or low, low)
    if schedule == "interval":   # an interval's "at least" is its longest gap
        low, high = high, low
    return Track(schedule, int(low), int(high))


def rules_for(session: Session, role_key: str) -> dict[str, Rule]:
    """grade → the active rule of ``role_key`` that plans contacts (monthly or interval)."""
    if role_key not in ROLE_KEYS:
        raise PlanError(role_key)
    rules = {}
    for row in session.scalars(sa.select(VisitRule).where(VisitRule.visitor_role == role_key,
                                                          VisitRule.active.is_(True))):
        if row.schedule == "monthly":
            visits = _track("monthly", row.visits_min, row.visits_max)
            calls = _track("monthly", row.calls_min, row.calls_max)
        elif row.schedule == "interval":
            visits, calls = _track("interval", row.interval_min_months, row.interval_max_months), None
        else:
            continue
        if visits or calls:
            rules[row.grade] = Rule(row.grade, row.schedule, visits, calls, row.note)
    return rules


def role_key_of(user, role_map: dict | None = None) -> str | None:
    """The rule role of ``user``'s own plan: the most senior of the keys their portal roles
    map to; None when none does."""
    role_map = DEFAULT_ROLE_MAP if role_map is None else role_map
    keys = {role_map.get(role.name) for role in getattr(user, "roles", ())}
    return next((key for key in SENIORITY if key in keys), None)


# -- who is responsible for whom --------------------------------------------------------------

def responsibility(role_key: str, role_map: dict | None = None):
    """A subquery of (person_id, customer_id): who is to visit whom under ``role_key``'s rules."""
    role_map = DEFAULT_ROLE_MAP if role_map is None else role_map
    if role_key == "salesperson":
        query = sa.select(Customer.owner_id.label("person_id"), Customer.id.label("customer_id")).where(
            Customer.owner_id.is_not(None))
    elif role_key == "sales_manager":
        by_team = sa.select(SalesTeam.manager_id.label("person_id"), Customer.id.label("customer_id")).join(
            Customer, Customer.team_id == SalesTeam.id).where(SalesTeam.manager_id.is_not(None))
        by_member = sa.select(SalesTeam.manager_id.label("person_id"), Customer.id.label("customer_id")).join(
            team_member, team_member.c.team_id == SalesTeam.id).join(
            Customer, Customer.owner_id == team_member.c.user_id).where(SalesTeam.manager_id.is_not(None))
        query = sa.union(by_team, by_member)
    elif role_key in ROLE_KEYS:
        from flask_appbuilder.security.sqla.models import Role, assoc_user_role

        roles = [name for name, key in role_map.items() if key == role_key]
        people = sa.select(assoc_user_role.c.user_id).join(Role, Role.id == assoc_user_role.c.role_id).where(
            Role.name.in_(roles or ["-"]))
        query = sa.select(User.id.label("person_id"), Customer.id.label("customer_id")).join(
            Customer, sa.true()).where(User.id.in_(people))
    else:
        raise PlanError(role_key)
    return query.subquery("responsible")


def _in_plan(rules: dict[str, Rule]):
    return sa.and_(Customer.stage != "former", Customer.value_grade.in_(sorted(rules) or ["-"]))


def _scoped(query, user):
    condition = scope.customer_condition(user)
    return query if condition is None else query.where(condition)


def _by_grade(rules: dict[str, Rule], value_of, default=None):
    """A CASE on the customer's grade with a constant per grade."""
    whens = [(Customer.value_grade == grade, value) for grade, rule in rules.items()
             if (value := value_of(rule)) is not None]
    if not whens:
        return sa.literal(default) if default is not None else sa.null()
    return sa.case(*whens, else_=default)


# -- due and overdue --------------------------------------------------------------------------

@dataclass(frozen=True)
class TrackState:
    last: dt.date | None
    due_from: dt.date | None
    due_by: dt.date | None
    status: str                  # never | overdue | due | ok
    overdue_days: int | None


@dataclass(frozen=True)
class DueRow:
    person_id: int
    person: str
    customer_id: int
    number: str
    name: str
    grade: str
    region: str | None
    route: str | None
    route_order: int | None
    address: str
    phone: str | None
    mobile: str | None
    visit: TrackState | None
    call: TrackState | None

    @property
    def status(self) -> str:
        states = [t.status for t in (self.visit, self.call) if t is not None]
        return min(states, key=STATUS_ORDER.index) if states else "ok"

    @property
    def overdue_days(self) -> int:
        return max((t.overdue_days or 0 for t in (self.visit, self.call) if t is not None), default=0)


@dataclass
class DueList:
    on: dt.date
    week_end: dt.date
    role_key: str
    rules: dict[str, Rule]
    rows: list[DueRow] = field(default_factory=list)
    total: int = 0
    #: rows per status of the whole list (not only of ``rows``) when :func:`due` fetched a page
    status_counts: dict[str, int] | None = None

    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUS_ORDER}
        for row in self.rows:
            counts[row.status] += 1
        return counts


def _state(track: Track | None, last: dt.date | None, on: dt.date, until: dt.date) -> TrackState | None:
    if track is None:
        return None
    if last is None:
        return TrackState(None, None, None, "never", None)
    due_from, due_by = track.due_from(last), track.due_by(last)
    if on > due_by:
        return TrackState(last, due_from, due_by, "overdue", (on - due_by).days)
    return TrackState(last, due_from, due_by, "due" if due_from <= until else "ok", None)


def _plan_query(session: Session, user, on: dt.date, role_key: str, rules: dict[str, Rule], *,
                person_id: int | None, region_id: int | None, route_id: int | None, grade: str | None,
                role_map: dict | None):
    """(person, customer) rows with the person's last visit and last call up to ``on``.

    Narrow on purpose: only the integers and codes the filters and sort orders need are
    grouped (the GROUP BY of every customer × their visits is the cost of the page); the
    names, addresses and phones are fetched for the rows returned only (:func:`_details`)."""
    last_visit = sa.func.max(sa.case((Visit.method.in_(VISIT_METHODS), Visit.visited_on))).label("last_visit")
    last_call = sa.func.max(sa.case((Visit.method.in_(CALL_METHODS), Visit.visited_on))).label("last_call")
    if role_key == "salesperson":
        # The owner is on the customer's row: no join of customer to itself, and one group per
        # customer (grouped by its key alone, the rows come out of the scan already grouped).
        person = Customer.owner_id
        query = sa.select(person.label("person_id")).select_from(Customer).where(person.is_not(None))
        groups = (Customer.id,)
    else:
        pairs = responsibility(role_key, role_map)
        person = pairs.c.person_id
        query = sa.select(person).select_from(pairs).join(Customer, Customer.id == pairs.c.customer_id)
        groups = (Customer.id, person)
    # The other customer columns depend on its key (which PostgreSQL accepts in a GROUP BY).
    query = (query.add_columns(Customer.id, Customer.number, Customer.value_grade, Customer.region_id,
                               Customer.route_id, Customer.route_order, last_visit, last_call)
             .outerjoin(Visit, sa.and_(Visit.customer_id == Customer.id, Visit.visitor_id == person,
                                       Visit.visited_on <= on))
             .where(_in_plan(rules))
             .group_by(*groups))
    query = _scoped(query, user)
    if person_id is not None:
        query = query.where(person == person_id)
    if region_id is not None:
        query = query.where(Customer.region_id == region_id)
    if route_id is not None:
        query = query.where(Customer.route_id == route_id)
    if grade is not None:
        query = query.where(Customer.value_grade == grade)
    return query, last_visit, last_call


def _due_condition(rules: dict[str, Rule], until: dt.date, last_visit, last_call):
    """HAVING: a track never done, or whose next contact falls due by ``until`` (which
    includes every overdue one: due-by is never before due-from)."""
    visit_cut = _by_grade(rules, lambda r: r.visits.latest_last_due_by(until) if r.visits else None)
    call_cut = _by_grade(rules, lambda r: r.calls.latest_last_due_by(until) if r.calls else None)
    has_calls = [g for g, r in rules.items() if r.calls]
    has_visits = [g for g, r in rules.items() if r.visits]
    branches = []
    if has_visits:
        branches.append(sa.and_(Customer.value_grade.in_(has_visits),
                                sa.or_(last_visit.is_(None), last_visit <= visit_cut)))
    if has_calls:
        branches.append(sa.and_(Customer.value_grade.in_(has_calls),
                                sa.or_(last_call.is_(None), last_call <= call_cut)))
    return sa.or_(*branches) if branches else sa.false()


def _people(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(i for i in ids if i is not None))
    if not ids:
        return {}
    rows = session.execute(sa.select(User.id, User.first_name, User.last_name, User.username).where(User.id.in_(ids)))
    return {r.id: (f"{r.last_name or ''}{r.first_name or ''}".strip() or r.username) for r in rows}


def _address(row) -> str:
    return "".join(p for p in (row.province, row.city, row.district, row.street) if p)


def _details(session: Session, ids: Iterable[int]) -> dict[int, sa.Row]:
    """customer id → name, address, phones, region and route names (the rows shown only)."""
    ids = sorted(set(ids))
    found = {}
    for begin in range(0, len(ids), 1000):
        query = (sa.select(Customer.id, Customer.name, Customer.province, Customer.city, Customer.district,
                           Customer.street, Customer.phone, Customer.mobile, Region.name.label("region"),
                           Route.name.label("route"))
                 .outerjoin(Region, Region.id == Customer.region_id).outerjoin(Route, Route.id == Customer.route_id)
                 .where(Customer.id.in_(ids[begin:begin + 1000])))
        found.update((r.id, r) for r in session.execute(query))
    return found


def _rows(session, result, rules, on, until, people: dict | None = None) -> list[DueRow]:
    """DueRows of plan rows (:func:`_plan_query`'s columns), in their order. ``people`` (id →
    name) is filled in as needed, so a caller going batch by batch asks for each person once."""
    result = list(result)
    people = {} if people is None else people
    people.update(_people(session, (r.person_id for r in result if r.person_id not in people)))
    details = _details(session, (r.id for r in result))
    rows = []
    for r in result:
        rule, d = rules[r.value_grade], details[r.id]
        rows.append(DueRow(
            person_id=r.person_id, person=people.get(r.person_id, ""), customer_id=r.id, number=r.number, name=d.name,
            grade=r.value_grade, region=d.region, route=d.route, route_order=r.route_order, address=_address(d),
            phone=d.phone, mobile=d.mobile,
            visit=_state(rule.visits, r.last_visit, on, until), call=_state(rule.calls, r.last_call, on, until)))
    return rows


def _check_role(role_key: str) -> None:
    if role_key not in ROLE_KEYS:
        raise PlanError(role_key)


STATUS_CODE = {status: code for code, status in enumerate(STATUS_ORDER)}


def _track_status(rules: dict[str, Rule], kind: str, grade, last, on: dt.date, until: dt.date):
    """:func:`_state`'s status of one track as a SQL code (index in STATUS_ORDER); 3 (ok)
    for a grade whose rule has no such track, so the row's status is the least of the two."""
    whens = []
    for g, rule in rules.items():
        track = getattr(rule, kind)
        if track is None:
            continue
        whens += [(sa.and_(grade == g, last.is_(None)), 0),
                  (sa.and_(grade == g, last <= track.latest_last_overdue(on)), 1),
                  (sa.and_(grade == g, last <= track.latest_last_due_by(until)), 2)]
    return sa.case(*whens, else_=3) if whens else sa.literal(3)


def _overdue_due_by(rules: dict[str, Rule], kind: str, grade, last, on: dt.date):
    """The track's due-by date when it is overdue on ``on``, else NULL."""
    whens = [(sa.and_(grade == g, last <= track.latest_last_overdue(on)), track.due_by_sql(last))
             for g, rule in rules.items() if (track := getattr(rule, kind)) is not None]
    return sa.case(*whens, else_=None) if whens else sa.null()


class least(FunctionElement):
    """The smaller of two values, NULL counting as absent (NULL only when both are):
    ``LEAST(a, b)`` in PostgreSQL (which skips NULLs), ``min(coalesce(a, b), coalesce(b, a))``
    in SQLite (whose two-argument min() is NULL when either is). One function call, where a
    CASE would repeat each argument's own CASE three times — per row, in the sort and in
    every window count of :func:`due`."""

    inherit_cache = True
    name = "least"

    @property
    def type(self):
        return list(self.clauses)[0].type


@compiles(least)
def _least_default(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"LEAST({a}, {b})"


@compiles(least, "sqlite")
def _least_sqlite(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"min(coalesce({a}, {b}), coalesce({b}, {a}))"


def _least(a, b):
    """The smaller of two values, NULL counting as absent (both dialects)."""
    if isinstance(a, sa.Null):
        return b
    if isinstance(b, sa.Null):
        return a
    return least(a, b)


def _due_plan(session: Session, user, on: dt.date, role_key: str, rules: dict[str, Rule], *,
              person_id, grade, role_map):
    """The due (person, customer) rows as a subquery with two more columns: ``status_code``
    and ``first_due_by`` (the sort key of :func:`due`), SQL only. They are computed over the
    finished aggregate, once per row (in the aggregate's own SELECT SQLite ran 4× slower),
    and read as columns by the sort and the window counts."""
    until = week_end(on)
    query, last_visit, last_call = _plan_query(session, user, on, role_key, rules, person_id=person_id,
                                               region_id=None, route_id=None, grade=grade, role_map=role_map)
    p = query.having(_due_condition(rules, until, last_visit, last_call)).subquery("due_plan")
    status = _least(_track_status(rules, "visits", p.c.value_grade, p.c.last_visit, on, until),
                    _track_status(rules, "calls", p.c.value_grade, p.c.last_call, on, until))
    # Most overdue days first = the earliest due-by date of the overdue tracks first.
    first_due_by = _least(_overdue_due_by(rules, "visits", p.c.value_grade, p.c.last_visit, on),
                          _overdue_due_by(rules, "calls", p.c.value_grade, p.c.last_call, on))
    # MATERIALIZED on SQLite: else it folds this SELECT into the next one and evaluates the status
    # CASE again in the sort and in every window count (PostgreSQL plans it well either way).
    plan = sa.select(p, status.label("status_code"), first_due_by.label("first_due_by")).cte("plan") \
        .prefix_with("MATERIALIZED", dialect="sqlite")
    return plan, plan.c.status_code, plan.c.first_due_by


def _due_order(p, status, first_due_by):
    # never → overdue (most days first = earliest overdue due-by first) → due, then grade, number, person
    return (status, first_due_by.is_(None), first_due_by, p.c.value_grade, p.c.number, p.c.person_id)


def due(session: Session, user, on: dt.date, *, role_key: str | None = None, person_id: int | None = None,
        grade: str | None = None, limit: int | None = None, offset: int = 0,
        role_map: dict | None = None) -> DueList:
    """The contacts due this week (Monday–Sunday of ``on``) or overdue on ``on``, within
    ``user``'s row scope: for a salesperson their customers, for a manager their team's
    (under the salesperson rules: each salesperson's list; under ``sales_manager``: the
    manager's own). ``role_key`` defaults to the user's own (:func:`role_key_of`, else
    ``salesperson``). Sorted never → overdue (most days first) → due, then by grade, number
    and person — in SQL, so ``limit`` and ``offset`` fetch only the page shown; with a
    ``limit``, ``total`` and ``status_counts`` still count the whole list (window counts of
    the same query, so the plan is computed once). :func:`iter_due` streams every row."""
    role_key = role_key or role_key_of(user, role_map) or "salesperson"
    _check_role(role_key)
    rules = rules_for(session, role_key)
    until = week_end(on)
    result = DueList(on=on, week_end=until, role_key=role_key, rules=rules)
    if not rules:
        if limit is not None:
            result.status_counts = {status: 0 for status in STATUS_ORDER}
        return result
    p, status, first_due_by = _due_plan(session, user, on, role_key, rules, person_id=person_id, grade=grade,
                                        role_map=role_map)
    query = sa.select(p).order_by(*_due_order(p, status, first_due_by))
    if limit is None:
        fetched = session.execute(query).all()
        result.rows, result.total = _rows(session, fetched, rules, on, until), len(fetched)
        return result
    windows = [sa.func.count().over().label("total_count")]
    windows += [sa.func.sum(sa.case((status == code, 1), else_=0)).over().label(f"n_{name}")
                for name, code in STATUS_CODE.items()]
    fetched = session.execute(query.add_columns(*windows).limit(max(limit, 0)).offset(max(offset, 0))).all()
    if fetched:
        result.total = fetched[0].total_count
        result.status_counts = {name: int(getattr(fetched[0], f"n_{name}") or 0) for name in STATUS_ORDER}
    else:   # a page past the end (or none asked for): count without fetching
        result.status_counts = _count_statuses(session, p, status)
        result.total = sum(result.status_counts.values())
    result.rows = _rows(session, fetched, rules, on, until) if limit > 0 else []
    return result


def iter_due(session: Session, user, on: dt.date, *, role_key: str | None = None, person_id: int | None = None,
             grade: str | None = None, role_map: dict | None = None, batch: int = 1000):
    """Every row of :func:`due` (same order), fetched ``batch`` at a time from one query —
    for a download that writes them as they come. The arguments are checked at the call
    (PlanError), the rows read as the returned iterator is."""
    role_key = role_key or role_key_of(user, role_map) or "salesperson"
    _check_role(role_key)
    rules = rules_for(session, role_key)
    if not rules:
        return iter(())
    until = week_end(on)
    p, status, first_due_by = _due_plan(session, user, on, role_key, rules, person_id=person_id, grade=grade,
                                        role_map=role_map)
    query = sa.select(p).order_by(*_due_order(p, status, first_due_by))

    def rows():
        people: dict[int, str] = {}
        for part in session.execute(query, execution_options={"yield_per": batch}).partitions():
            yield from _rows(session, part, rules, on, until, people)
    return rows()


def _count_statuses(session: Session, p, status) -> dict[str, int]:
    counts = {name: 0 for name in STATUS_ORDER}
    code = status.label("status_code")
    for value, n in session.execute(sa.select(code, sa.func.count()).select_from(p).group_by(code)):
        counts[STATUS_ORDER[int(value)]] += n
    return counts


def due_counts(session: Session, user, on: dt.date, *, role_key: str | None = None, person_id: int | None = None,
               grade: str | None = None, role_map: dict | None = None) -> dict[str, int]:
    """How many rows :func:`due` (same arguments) lists per status — never, overdue, due
    (and ok, always 0) — counted in SQL (one GROUP BY, no row fetched): a dashboard's figures."""
    role_key = role_key or role_key_of(user, role_map) or "salesperson"
    _check_role(role_key)
    counts = {status: 0 for status in STATUS_ORDER}
    rules = rules_for(session, role_key)
    if not rules:
        return counts
    p, status, _first = _due_plan(session, user, on, role_key, rules, person_id=person_id, grade=grade,
                                  role_map=role_map)
    return _count_statuses(session, p, status)


@dataclass
class RouteList:
    on: dt.date
    role_key: str
    rows: list[DueRow] = field(default_factory=list)
    total: int = 0


def route(session: Session, user, on: dt.date, *, region_id: int | None = None, route_id: int | None = None,
          role_key: str | None = None, person_id: int | None = None, only_due: bool = True,
          limit: int | None = None, offset: int = 0, role_map: dict | None = None) -> RouteList:
    """Customers in visiting order (路序): region, route, order on the route (customers
    without one last), number — the due ones (``only_due``) or all of the plan — for
    planning and printing a day's visits. Ordered in SQL, so ``limit``/``offset`` fetch a
    page of the route (``total`` counts it all)."""
    role_key = role_key or role_key_of(user, role_map) or "salesperson"
    _check_role(role_key)
    rules = rules_for(session, role_key)
    result = RouteList(on=on, role_key=role_key)
    if not rules:
        return result
    until = week_end(on)
    query, last_visit, last_call = _plan_query(session, user, on, role_key, rules, person_id=person_id,
                                               region_id=region_id, route_id=route_id, grade=None, role_map=role_map)
    if only_due:
        query = query.having(_due_condition(rules, until, last_visit, last_call))
    p = query.subquery("plan")
    query = (sa.select(p, sa.func.count().over().label("total_count"))
             .outerjoin(Region, Region.id == p.c.region_id).outerjoin(Route, Route.id == p.c.route_id)
             .order_by(p.c.region_id.is_(None), Region.sort_order, p.c.region_id,
                       p.c.route_id.is_(None), Route.sort_order, p.c.route_id,
                       p.c.route_order.is_(None), p.c.route_order, p.c.number, p.c.person_id))
    if limit is not None:
        query = query.limit(max(limit, 0)).offset(max(offset, 0))
    fetched = session.execute(query).all()
    if fetched:
        result.total = fetched[0].total_count
    elif offset or limit is not None:
        result.total = session.scalar(sa.select(sa.func.count()).select_from(p))
    result.rows = _rows(session, fetched, rules, on, until)
    return result


# -- compliance -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComplianceRow:
    """Planned vs done contacts of one person for the customers of one grade (or all grades
    when ``grade`` is None). ``covered`` counts each customer's contacts up to what was
    planned for it, so visiting one customer ten times does not make up for another never
    visited; ``percent`` = covered / planned (None when nothing was planned)."""

    person_id: int
    person: str
    grade: str | None
    customers: int
    visits_planned: float
    visits_planned_max: float
    visits_done: int
    visits_covered: float
    calls_planned: float
    calls_planned_max: float
    calls_done: int
    calls_covered: float

    @staticmethod
    def _percent(covered: float, planned: float) -> float | None:
        return round(100 * covered / planned, 1) if planned else None

    @property
    def visits_percent(self) -> float | None:
        return self._percent(self.visits_covered, self.visits_planned)

    @property
    def calls_percent(self) -> float | None:
        return self._percent(self.calls_covered, self.calls_planned)


@dataclass
class Compliance:
    start: dt.date
    end: dt.date
    months: Fraction
    role_key: str
    rules: dict[str, Rule]
    rows: list[ComplianceRow] = field(default_factory=list)    # per person and grade
    totals: list[ComplianceRow] = field(default_factory=list)  # per person, all grades


def check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise PlanError("end before start")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise PlanError("period too long")


def compliance(session: Session, user, start: dt.date, end: dt.date, *, role_key: str = "salesperson",
               person_id: int | None = None, role_map: dict | None = None) -> Compliance:
    """Planned vs done visits and calls per person and grade over ``start``–``end`` (both
    included), for the customers in ``user``'s row scope (a manager: the team; a
    salesperson: themselves). Planned for one customer = the rule's contacts a month × the
    period's months (:func:`months_in`; "every 2–3 months" plans 1/3 visit a month at least,
    1/2 at most). The customers are those in the plan now (current grade and owner)."""
    _check_role(role_key)
    check_period(start, end)
    rules = rules_for(session, role_key)
    months = months_in(start, end)
    result = Compliance(start=start, end=end, months=months, role_key=role_key, rules=rules)
    if not rules:
        return result

    def planned(kind: str, which: int):
        def value(rule: Rule):
            track = getattr(rule, kind)
            return None if track is None else float(track.per_month()[which] * months)
        return _by_grade(rules, value, default=0.0)

    pairs = responsibility(role_key, role_map)
    visits = sa.func.count(sa.case((Visit.method.in_(VISIT_METHODS), Visit.id)))
    calls = sa.func.count(sa.case((Visit.method.in_(CALL_METHODS), Visit.id)))
    per_customer = (sa.select(pairs.c.person_id, Customer.id.label("customer_id"), Customer.value_grade.label("grade"),
                              visits.label("visits"), calls.label("calls"),
                              planned("visits", 0).label("vp"), planned("visits", 1).label("vpx"),
                              planned("calls", 0).label("cp"), planned("calls", 1).label("cpx"))
                    .select_from(pairs)
                    .join(Customer, Customer.id == pairs.c.customer_id)
                    .outerjoin(Visit, sa.and_(Visit.customer_id == Customer.id, Visit.visitor_id == pairs.c.person_id,
                                              Visit.visited_on >= start, Visit.visited_on <= end))
                    .where(_in_plan(rules))
                    .group_by(pairs.c.person_id, Customer.id, Customer.value_grade))
    per_customer = _scoped(per_customer, user)
    if person_id is not None:
        per_customer = per_customer.where(pairs.c.person_id == person_id)
    c = per_customer.subquery("per_customer")

    def capped(done, plan):
        return sa.func.sum(sa.case((done < plan, done), else_=plan))

    aggregates = (sa.func.count().label("customers"), sa.func.sum(c.c.vp).label("vp"), sa.func.sum(c.c.vpx).label("vpx"),
                  sa.func.sum(c.c.visits).label("vd"), capped(c.c.visits, c.c.vp).label("vc"),
                  sa.func.sum(c.c.cp).label("cp"), sa.func.sum(c.c.cpx).label("cpx"),
                  sa.func.sum(c.c.calls).label("cd"), capped(c.c.calls, c.c.cp).label("cc"))
    by_grade = session.execute(sa.select(c.c.person_id, c.c.grade, *aggregates)
                               .group_by(c.c.person_id, c.c.grade)).all()
    totals = session.execute(sa.select(c.c.person_id, *aggregates).group_by(c.c.person_id)).all()
    people = _people(session, (r.person_id for r in totals))

    def row(r, grade):
        return ComplianceRow(
            person_id=r.person_id, person=people.get(r.person_id, ""), grade=grade, customers=r.customers,
            visits_planned=_num(r.vp), visits_planned_max=_num(r.vpx), visits_done=int(r.vd or 0),
            visits_covered=_num(r.vc), calls_planned=_num(r.cp), calls_planned_max=_num(r.cpx),
            calls_done=int(r.cd or 0), calls_covered=_num(r.cc))

    result.rows = sorted((row(r, r.grade) for r in by_grade), key=lambda x: (x.person, x.person_id, x.grade))
    result.totals = sorted((row(r, None) for r in totals), key=lambda x: (x.person, x.person_id))
    return result


def _num(value) -> float:
    return round(float(value or 0), 4)
