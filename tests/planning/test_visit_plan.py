"""The visit plan from the rules of DOMAIN.md (客户访问管理表), with hand-computed dates."""
from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Region, VisitRule
from portal.services import visit_plan
from portal.services.visit_plan import add_months, latest_start_for, months_in

D = dt.date
ON = D(2025, 3, 12)


def rows_by_name(plan):
    return {r.name: r for r in plan.rows}


def test_the_seeded_rules_are_the_table_of_the_documents(app):
    rules = {(r.visitor_role, r.grade): r for r in db.session.scalars(sa.select(VisitRule))}
    a = rules[("salesperson", "A")]
    assert (a.schedule, a.visits_min, a.visits_max, a.calls_min, a.calls_max) == ("monthly", 3, 3, 2, 3)
    b = rules[("salesperson", "B")]
    assert (b.visits_min, b.visits_max, b.calls_min, b.calls_max) == (2, 2, 1, 2)
    assert (rules[("sales_manager", "B")].interval_min_months, rules[("sales_manager", "B")].interval_max_months) == (2, 3)
    assert rules[("sales_manager", "C")].schedule == "as_needed"
    assert rules[("marketing_director", "B")].interval_max_months == 12
    assert rules[("general_manager", "A")].interval_min_months == 12
    assert rules[("general_manager", "B")].schedule == "as_needed" and rules[("general_manager", "B")].note
    assert len(rules) == 12


def test_add_months_keeps_month_ends_and_latest_start_is_its_exact_inverse():
    assert add_months(D(2025, 1, 31), 1) == D(2025, 2, 28)
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2025, 3, 31), -1) == D(2025, 2, 28)
    assert add_months(D(2024, 12, 15), 2) == D(2025, 2, 15)
    assert latest_start_for(D(2025, 2, 28), 1) == D(2025, 1, 31)
    assert latest_start_for(D(2025, 3, 30), 1) == D(2025, 2, 28)
    # Brute force: d <= latest_start_for(day, m)  <=>  add_months(d, m) <= day.
    start = D(2023, 11, 1)
    for m in (1, 2, 3, 12):
        for offset in range(0, 500, 7):
            day = start + dt.timedelta(days=offset)
            cut = latest_start_for(day, m)
            assert add_months(cut, m) <= day
            assert add_months(cut + dt.timedelta(days=1), m) > day


def test_months_in_counts_calendar_months_and_parts_across_a_year_end():
    assert months_in(D(2025, 3, 1), D(2025, 3, 31)) == 1
    assert months_in(D(2025, 1, 1), D(2025, 3, 31)) == 3
    assert months_in(D(2024, 12, 16), D(2025, 1, 15)) == Fraction(16, 31) + Fraction(15, 31) == 1
    assert months_in(D(2025, 2, 1), D(2025, 2, 14)) == Fraction(1, 2)


def test_salesperson_due_list_by_the_rules(app, people, plan_archive):
    plan = visit_plan.due(db.session, people["sales"], ON)
    assert plan.role_key == "salesperson" and plan.week_end == D(2025, 3, 16)
    rows = rows_by_name(plan)
    # D1 has a grade without rule, F1 is a former customer, X is someone else's, C2 is on track.
    assert set(rows) == {"甲一公司", "乙一公司", "丙一公司"}
    a1 = rows["甲一公司"]
    # A: visit 3× a month = every 10 days: 03-01 + 10 = 03-11, one day overdue on 03-12.
    assert (a1.visit.last, a1.visit.due_from, a1.visit.due_by, a1.visit.status, a1.visit.overdue_days) == (
        D(2025, 3, 1), D(2025, 3, 11), D(2025, 3, 11), "overdue", 1)
    # A: call 2–3× a month: due from 03-03 + 10 = 03-13 (this week), overdue after 03-03 + 15 = 03-18.
    assert (a1.call.last, a1.call.due_from, a1.call.due_by, a1.call.status) == (
        D(2025, 3, 3), D(2025, 3, 13), D(2025, 3, 18), "due")
    assert a1.status == "overdue" and a1.overdue_days == 1
    # B: visit 2× a month = 15 days after the salesperson's own 02-20 (sales2's 03-01 does not count).
    b1 = rows["乙一公司"]
    assert (b1.visit.last, b1.visit.due_by, b1.visit.overdue_days) == (D(2025, 2, 20), D(2025, 3, 7), 5)
    # B: call 1–2×: from 03-05 + 15 = 03-20 (next week), by 03-05 + 30 = 04-04; the e-mail is no call.
    assert (b1.call.last, b1.call.due_from, b1.call.due_by, b1.call.status) == (
        D(2025, 3, 5), D(2025, 3, 20), D(2025, 4, 4), "ok")
    c1 = rows["丙一公司"]
    assert c1.status == "never" and c1.visit.last is None and c1.call.last is None
    assert [r.name for r in plan.rows] == ["丙一公司", "乙一公司", "甲一公司"]   # never, then most days overdue
    assert plan.total == 3 and plan.counts() == {"never": 1, "overdue": 2, "due": 0, "ok": 0}


def test_two_to_three_calls_a_month_at_the_boundaries(app, people, plan_archive):
    def a1_call(on):
        return rows_by_name(visit_plan.due(db.session, people["sales"], on)).get("甲一公司")

    # On Sunday 03-09 the week ends that day: the call (due from 03-13) is not due yet;
    # the visit (due 03-11) is not either, so A1 is not listed.
    assert a1_call(D(2025, 3, 9)) is None
    assert a1_call(D(2025, 3, 13)).call.status == "due"
    assert a1_call(D(2025, 3, 18)).call.status == "due"          # the last day allowed
    late = a1_call(D(2025, 3, 19)).call
    assert late.status == "overdue" and late.overdue_days == 1


def test_a_visit_by_someone_else_does_not_count_and_contacts_after_the_day_are_ignored(app, people, plan_archive):
    b1 = rows_by_name(visit_plan.due(db.session, people["sales"], ON))["乙一公司"]
    assert b1.visit.last == D(2025, 2, 20)
    # Looking back from 03-04, the 03-05 call has not happened: the last call is none.
    early = rows_by_name(visit_plan.due(db.session, people["sales"], D(2025, 3, 4)))["乙一公司"]
    assert early.call.status == "never"


def test_scope_a_salesperson_sees_their_own_a_manager_their_teams(app, people, plan_archive):
    assert [r.name for r in visit_plan.due(db.session, people["sales2"], ON).rows] == ["他人公司"]
    managers = visit_plan.due(db.session, people["manager"], ON, role_key="salesperson")
    assert {r.name for r in managers.rows} == {"甲一公司", "乙一公司", "丙一公司"}
    assert {r.person_id for r in managers.rows} == {people["sales"].id}
    admin = visit_plan.due(db.session, app.appbuilder.sm.find_user("custodian"), ON)
    assert {r.name for r in admin.rows} == {"甲一公司", "乙一公司", "丙一公司", "他人公司"}


def test_the_managers_own_plan_counts_only_the_managers_visits(app, people, plan_archive):
    plan = visit_plan.due(db.session, people["manager"], ON)    # the manager's own rules
    assert plan.role_key == "sales_manager"
    rows = rows_by_name(plan)
    # A: every 1–2 months: 01-20 → due from 02-20, by 03-20: due (from is before the week's end).
    a1 = rows["甲一公司"]
    assert (a1.visit.due_from, a1.visit.due_by, a1.visit.status, a1.call) == (D(2025, 2, 20), D(2025, 3, 20), "due", None)
    assert rows["乙一公司"].status == "never"       # B: every 2–3 months, never by the manager
    assert "丙一公司" not in rows                      # C: when needed, outside the plan


def test_a_rule_edited_by_a_manager_changes_the_plan_at_once(app, people, plan_archive):
    rule = db.session.scalar(sa.select(VisitRule).where(VisitRule.visitor_role == "salesperson", VisitRule.grade == "D"))
    assert rule is None
    db.session.add(VisitRule(visitor_role="salesperson", grade="D", schedule="monthly", visits_min=1, active=True))
    db.session.commit()
    assert "丁一公司" in rows_by_name(visit_plan.due(db.session, people["sales"], ON))


def test_route_order_by_region_route_and_order_on_route(app, people, plan_archive):
    everyone = visit_plan.route(db.session, people["sales"], ON, only_due=False)
    # EC (华东, sort 10) route EC-01 by order 1, 2; then NC; customers without a region last.
    assert [r.name for r in everyone.rows] == ["丙一公司", "甲一公司", "乙一公司", "丙二公司"]
    due = visit_plan.route(db.session, people["sales"], ON)
    assert [r.name for r in due.rows] == ["丙一公司", "甲一公司", "乙一公司"]
    east = db.session.scalar(sa.select(Region.id).where(Region.code == "EC"))
    ec = visit_plan.route(db.session, people["sales"], ON, region_id=east, only_due=False)
    assert [r.name for r in ec.rows] == ["丙一公司", "甲一公司"]
    assert [r.name for r in visit_plan.route(db.session, people["sales2"], ON, only_due=False).rows] == ["他人公司"]


def test_compliance_per_person_and_grade_for_march(app, people, plan_archive):
    report = visit_plan.compliance(db.session, people["sales"], D(2025, 3, 1), D(2025, 3, 31))
    assert report.months == 1
    rows = {r.grade: r for r in report.rows}
    a, b, c = rows["A"], rows["B"], rows["C"]
    # A: A1 only (F1 is former): 3 visits planned, 1 done; calls 2–3 planned, 1 done.
    assert (a.customers, a.visits_planned, a.visits_done, a.visits_percent) == (1, 3, 1, 33.3)
    assert (a.calls_planned, a.calls_planned_max, a.calls_done, a.calls_percent) == (2, 3, 1, 50.0)
    # B: B1: no visit of the salesperson in March (sales2's does not count), one call of one.
    assert (b.visits_planned, b.visits_done, b.visits_percent, b.calls_done, b.calls_percent) == (2, 0, 0.0, 1, 100.0)
    # C: C1 never, C2 three visits where one was planned: done 3, within plan 1 of 2 → 50 %.
    assert (c.customers, c.visits_planned, c.visits_done, c.visits_covered, c.visits_percent) == (2, 2, 3, 1, 50.0)
    assert (c.calls_planned, c.calls_done, c.calls_percent) == (2, 1, 50.0)
    [total] = report.totals
    assert (total.customers, total.visits_planned, total.visits_done, total.visits_covered) == (4, 7, 4, 2)
    assert total.visits_percent == round(100 * 2 / 7, 1)


def test_compliance_of_an_empty_period_and_of_a_team(app, people, plan_archive):
    empty = visit_plan.compliance(db.session, people["sales"], D(2024, 6, 1), D(2024, 6, 30))
    by_grade = {r.grade: r for r in empty.rows}
    assert by_grade["A"].visits_done == 0 and by_grade["A"].visits_percent == 0.0
    team = visit_plan.compliance(db.session, people["manager"], D(2025, 3, 1), D(2025, 3, 31))
    assert {r.person_id for r in team.totals} == {people["sales"].id}
    everyone = visit_plan.compliance(db.session, app.appbuilder.sm.find_user("custodian"), D(2025, 3, 1), D(2025, 3, 31))
    assert {r.person_id for r in everyone.totals} == {people["sales"].id, people["sales2"].id}
    # The manager's own rules over a quarter: A every 1–2 months → 1.5–3 visits planned; one done (01-20).
    own = visit_plan.compliance(db.session, people["manager"], D(2025, 1, 1), D(2025, 3, 31), role_key="sales_manager")
    a = {r.grade: r for r in own.rows}["A"]
    assert (a.visits_planned, a.visits_planned_max, a.visits_done, a.visits_percent) == (1.5, 3, 1, 66.7)


def test_bad_periods_and_roles_are_refused(app, people):
    with pytest.raises(visit_plan.PlanError):
        visit_plan.compliance(db.session, people["sales"], D(2025, 3, 2), D(2025, 3, 1))
    with pytest.raises(visit_plan.PlanError):
        visit_plan.compliance(db.session, people["sales"], D(2020, 1, 1), D(2025, 1, 1))
    with pytest.raises(visit_plan.PlanError):
        visit_plan.due(db.session, people["sales"], ON, role_key="boss")


# -- the status and the order computed in SQL ----------------------------------------------------

def test_months_after_in_sql_is_add_months(app):
    from tests.planning.conftest import D as day
    starts = [day(2024, 1, 29), day(2024, 1, 31), day(2025, 1, 31), day(2025, 3, 31), day(2025, 8, 31),
              day(2025, 12, 31), day(2025, 11, 30), day(2024, 2, 29), day(2025, 6, 15)]
    for start in starts:
        for months in (0, 1, 2, 3, 6, 11, 12, 13, 24):
            got = db.session.scalar(sa.select(visit_plan.months_after(sa.literal(start, sa.Date),
                                                                      sa.literal(months, sa.Integer))))
            if isinstance(got, str):
                got = dt.date.fromisoformat(got)
            assert got == add_months(start, months), (start, months)


def _python_order(plan):
    return sorted(plan.rows, key=lambda r: (visit_plan.STATUS_ORDER.index(r.status), -r.overdue_days, r.grade,
                                            r.number, r.person_id))


@pytest.mark.parametrize("role_key", ["salesperson", "sales_manager"])
def test_sql_order_limit_and_counts_agree_with_the_rules_day_by_day(app, people, plan_archive, role_key):
    """Around the boundaries of every track (monthly days, interval months from a month end,
    a year end): the SQL order is the rule's order, a limit is its head, due_counts its counts."""
    from tests.planning.conftest import customer, visit

    sales, manager = people["sales"], people["manager"]
    extra = [customer(f"月末{n}", grade, sales, team=people["team"]) for n, grade in enumerate("ABAB")]
    db.session.flush()
    visit(extra[0], manager, D(2024, 12, 31))
    visit(extra[1], manager, D(2024, 11, 30))
    visit(extra[2], sales, D(2025, 1, 31))
    visit(extra[2], sales, D(2025, 1, 31), "phone")
    visit(extra[3], sales, D(2024, 12, 31), "phone")
    db.session.commit()
    for offset in range(0, 120, 2):
        on = D(2025, 1, 1) + dt.timedelta(days=offset)
        plan = visit_plan.due(db.session, manager, on, role_key=role_key)
        assert [(r.person_id, r.customer_id) for r in plan.rows] == [
            (r.person_id, r.customer_id) for r in _python_order(plan)], on
        assert plan.total == len(plan.rows)
        assert visit_plan.due_counts(db.session, manager, on, role_key=role_key) == plan.counts(), on
        head = visit_plan.due(db.session, manager, on, role_key=role_key, limit=2)
        assert [r.customer_id for r in head.rows] == [r.customer_id for r in plan.rows[:2]]
        assert head.total == plan.total
    assert visit_plan.due(db.session, manager, ON, role_key=role_key, limit=0).rows == []


def test_due_counts_in_scope_and_by_grade(app, people, plan_archive):
    assert visit_plan.due_counts(db.session, people["sales"], ON) == {"never": 1, "overdue": 2, "due": 0, "ok": 0}
    assert visit_plan.due_counts(db.session, people["sales"], ON, grade="C") == {
        "never": 1, "overdue": 0, "due": 0, "ok": 0}
    assert visit_plan.due_counts(db.session, people["sales2"], ON)["overdue"] + visit_plan.due_counts(
        db.session, people["sales2"], ON)["never"] == 1
    with pytest.raises(visit_plan.PlanError):
        visit_plan.due_counts(db.session, people["sales"], ON, role_key="boss")
