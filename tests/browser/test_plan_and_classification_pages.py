"""The classification runs page, the grade proposals, the visits-due list, the route and the
compliance report in headless Chromium on the demo archive: what a custodian, a salesperson
and a sales manager click, checked against the services' own answers, with no request
leaving 127.0.0.1 (any such request fails the test)."""
from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.fields import fields_of
from portal.models import ClassificationRun, Customer, GradeProposal, User
from portal.services import visit_plan
from portal.views import visits_plan as plan_views
from tests.conftest import PASSWORD

from .conftest import DEMO_PASSWORD, guard_offline, open_session

EXTRA = plan_views.DUE_PAGE_SIZE + 25     # never-contacted customers added, so the due list has two pages


def offline(browser, live, username, password):
    """A session in which a request to any host but 127.0.0.1 is answered with an error (never
    sent) and recorded in ``page.external``; one the Content-Security-Policy refused too."""
    return guard_offline(open_session(browser, live, username, password))


def finish(page):
    assert not page.external, f"requests left 127.0.0.1: {page.external}"
    assert not page.js_errors, page.js_errors
    page.context.close()


def _user(username):
    return db.session.scalar(sa.select(User).where(User.username == username))


# -- classification -------------------------------------------------------------------------

def test_the_custodian_runs_abc_with_proposals_and_accepts_one_which_changes_the_card(browser, live):
    page = offline(browser, live, "custodian", PASSWORD)
    page.goto(f"{live.url}/classification/")
    before = page.locator("#classification-runs tbody tr td:first-child a").count()
    today = dt.date.today()
    page.select_option("#c-kind", "abc")
    page.fill("#c-from", (today - dt.timedelta(days=365)).isoformat())
    page.fill("#c-to", today.isoformat())
    page.select_option("#c-mode", "propose")
    page.click("#classification-run button[type=submit]")
    page.wait_for_load_state()
    db.session.expire_all()
    run = db.session.scalars(sa.select(ClassificationRun).order_by(ClassificationRun.id.desc())).first()
    assert run is not None and run.kind == "abc" and run.mode == "propose" and run.ran_by_name == "custodian"
    first_cell = page.locator("#classification-runs tbody tr").first.locator("td").first
    assert first_cell.inner_text().strip() == str(run.id)
    assert page.locator("#classification-runs tbody tr td:first-child a").count() == before + 1
    assert page.locator(".alert-success").count() >= 1

    proposal = db.session.scalars(sa.select(GradeProposal).where(GradeProposal.run_id == run.id,
                                                                  GradeProposal.status == "pending")
                                  .order_by(GradeProposal.id)).first()
    assert proposal is not None, "the demo archive's ABC run proposed no grade change"
    customer = db.session.get(Customer, proposal.customer_id)
    old, new = customer.value_grade, proposal.new_grade
    assert old != new
    page.click("#proposals-link")
    page.wait_for_load_state()
    page.check(f'#proposals input[name="id"][value="{proposal.id}"]')
    page.click('#proposals-form button[value="accept"]')
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() >= 1
    assert page.locator(f'#proposals input[name="id"][value="{proposal.id}"]').count() == 0

    db.session.expire_all()
    assert db.session.get(Customer, customer.id).value_grade == new
    page.goto(f"{live.url}/customerview/show/{customer.id}")
    grade = fields_of(Customer)["value_grade"]
    row = page.locator("tr", has_text=str(grade.label)).first
    assert grade.choice_label(new) in row.inner_text()
    finish(page)


# -- visit plan -----------------------------------------------------------------------------

@pytest.fixture
def long_due_list(live):
    """EXTRA grade-C customers of the salesperson zhangwei, never contacted: their due list
    runs to a second page."""
    owner = _user("zhangwei")
    for n in range(EXTRA):
        db.session.add(Customer(name=f"待访客户{n:03d}", customer_type="org", value_grade="C", owner_id=owner.id,
                                stage="current"))
    db.session.commit()
    return owner


def test_a_salesperson_pages_their_due_list_and_downloads_all_of_it(browser, live, long_due_list, tmp_path):
    today = dt.date.today()
    whole = visit_plan.due(db.session, long_due_list, today)
    counts = visit_plan.due_counts(db.session, long_due_list, today)
    assert whole.total > plan_views.DUE_PAGE_SIZE
    page = offline(browser, live, "zhangwei", DEMO_PASSWORD)
    page.goto(f"{live.url}/visitplan/")
    for status in ("never", "overdue", "due"):
        label = page.locator(f'#due-counts [data-status="{status}"]').inner_text()
        assert label.endswith(f": {counts[status]}"), (status, label)
    first = page.locator("#due-table tbody tr[data-customer]")
    assert first.count() == plan_views.DUE_PAGE_SIZE
    shown = [int(x) for x in first.evaluate_all("rows => rows.map(r => r.dataset.customer)")]
    assert shown == [r.customer_id for r in whole.rows[:plan_views.DUE_PAGE_SIZE]]
    assert page.locator("#due-pager li.active").inner_text().strip() == "1"

    page.click('#due-pager a[data-page="2"]')
    page.wait_for_load_state()
    assert "page=2" in page.url
    second = page.locator("#due-table tbody tr[data-customer]")
    assert second.count() == whole.total - plan_views.DUE_PAGE_SIZE
    assert [int(x) for x in second.evaluate_all("rows => rows.map(r => r.dataset.customer)")] == \
        [r.customer_id for r in whole.rows[plan_views.DUE_PAGE_SIZE:]]
    assert page.locator("#due-pager li.active").inner_text().strip() == "2"
    assert page.locator('#due-counts [data-status="never"]').inner_text().endswith(f": {counts['never']}")

    with page.expect_download() as info:
        page.click("#due-xlsx")
    path = tmp_path / "due.xlsx"
    info.value.save_as(path)
    sheet = openpyxl.load_workbook(path, read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(rows) - 1 == whole.total
    assert [r[2] for r in rows[1:]] == [r.name for r in whole.rows]
    finish(page)


def test_the_route_lists_the_due_customers_in_route_order(browser, live):
    owner = _user("zhangwei")
    today = dt.date.today()
    expected = visit_plan.route(db.session, owner, today, only_due=False, limit=plan_views.ROUTE_PAGE_SIZE)
    assert expected.rows, "the demo archive gives zhangwei no customer in the plan"
    page = offline(browser, live, "zhangwei", DEMO_PASSWORD)
    page.goto(f"{live.url}/visitplan/")
    page.click("text=" + page.locator("a[href*='/visitplan/route']").first.inner_text().strip())
    page.wait_for_load_state()
    assert "/visitplan/route" in page.url
    page.check("input[name=all]")
    page.click(".plan-filters button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("#route-table tbody tr[data-customer]")
    ids = [int(x) for x in rows.evaluate_all("rows => rows.map(r => r.dataset.customer)")]
    assert ids == [r.customer_id for r in expected.rows]
    numbers = rows.evaluate_all("rows => rows.map(r => r.cells[0].textContent.trim())")
    assert numbers == [str(n) for n in range(1, len(ids) + 1)]
    assert page.locator("#route-print").get_attribute("href").count("print=1") == 1
    finish(page)


def test_the_manager_sees_compliance_for_the_team_with_the_current_grade_note(browser, live):
    manager = _user("zhouqiang")
    today = dt.date.today()
    start = today.replace(day=1) - dt.timedelta(days=90)
    report = visit_plan.compliance(db.session, manager, start, today)
    assert report.rows, "the demo archive gives zhouqiang's team no compliance rows"
    page = offline(browser, live, "zhouqiang", DEMO_PASSWORD)
    page.goto(f"{live.url}/visitcompliance/?start={start}&end={today}")
    table = page.locator("#compliance-table")
    people = set(table.locator("[data-person]").evaluate_all("rows => rows.map(r => r.dataset.person)"))
    assert people == {str(r.person_id) for r in report.rows}
    assert page.locator("#compliance-grade-note").is_visible()
    first = report.rows[0]
    cell = table.locator(f'[data-person="{first.person_id}"][data-grade="{first.grade}"]').first
    assert re.search(rf"\b{first.customers}\b", cell.inner_text())
    finish(page)
