"""The due list and the route are paged in SQL: a page is a slice of the whole sorted list,
the total and the status counts count the whole list, the pager keeps the filters, the
.xlsx holds every row; bad page numbers get a 400. Compliance says it counts current grades."""
from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest

from portal.extensions import db
from portal.services import visit_plan
from portal.views import visits_plan as views
from tests.conftest import login
from tests.planning.conftest import customer, visit

D = dt.date
ON = D(2025, 3, 12)
MANY = views.DUE_PAGE_SIZE + 30          # never-contacted C customers: two pages and a bit


@pytest.fixture
def long_plan(plan_archive, people):
    """plan_archive plus MANY grade-C customers of ``sales`` never contacted, and a few of
    grade A visited long ago (overdue), so the list sorts across statuses and pages."""
    sales = people["sales"]
    for n in range(MANY):
        customer(f"长名单{n:03d}公司", "C", sales, region="EC", route="EC-01", order=n + 10)
    for n in range(5):
        c = customer(f"逾期{n}公司", "A", sales)
        db.session.flush()
        visit(c, sales, D(2025, 1, 1) + dt.timedelta(days=n))
        visit(c, sales, D(2025, 1, 2), "phone")
    db.session.commit()
    return people


def workbook_rows(response):
    assert response.status_code == 200, response.text[:300]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_pages_of_due_are_slices_of_the_whole_list_and_count_it_all(app, long_plan):
    sales = long_plan["sales"]
    whole = visit_plan.due(db.session, sales, ON)
    assert whole.total == len(whole.rows) > MANY
    keys = [(r.person_id, r.customer_id) for r in whole.rows]
    counts = visit_plan.due_counts(db.session, sales, ON)
    pages, offset = [], 0
    while True:
        page = visit_plan.due(db.session, sales, ON, limit=40, offset=offset)
        assert page.total == whole.total and page.status_counts == counts
        if not page.rows:
            break
        pages += [(r.person_id, r.customer_id) for r in page.rows]
        offset += 40
    assert pages == keys
    assert counts["never"] >= MANY and counts["overdue"] >= 5
    streamed = list(visit_plan.iter_due(db.session, sales, ON, batch=7))
    assert [(r.person_id, r.customer_id) for r in streamed] == keys
    assert [r.name for r in streamed] == [r.name for r in whole.rows]
    assert all(r.address is not None for r in streamed)


def test_a_page_past_the_end_is_empty_but_still_counts(app, long_plan):
    sales = long_plan["sales"]
    page = visit_plan.due(db.session, sales, ON, limit=50, offset=10_000)
    assert page.rows == [] and page.total > MANY and page.status_counts["never"] >= MANY


def test_route_pages_are_slices_of_the_route(app, long_plan):
    sales = long_plan["sales"]
    whole = visit_plan.route(db.session, sales, ON, only_due=False)
    ids = [r.customer_id for r in whole.rows]
    part = visit_plan.route(db.session, sales, ON, only_due=False, limit=25, offset=50)
    assert part.total == whole.total == len(ids)
    assert [r.customer_id for r in part.rows] == ids[50:75]


def test_the_due_page_shows_one_page_with_the_counts_of_all_and_a_pager_keeping_filters(client, long_plan):
    login(client, "sales")
    first = client.get(f"/visitplan/?on={ON}&grade=C")
    assert first.status_code == 200
    text = first.text
    assert len(re.findall(r'<tr class="status-', text)) == views.DUE_PAGE_SIZE
    never = re.search(r'data-status="never">[^<:]*: (\d+)<', text)
    assert never and int(never.group(1)) >= MANY
    assert 'id="due-pager"' in text and 'data-pages="2"' in text
    links = re.findall(r'href="(/visitplan/\?[^"]*page=2[^"]*)"', text)
    assert links and all("grade=C" in link and f"on={ON}" in link for link in links)
    second = client.get(links[0].replace("&amp;", "&"))
    assert second.status_code == 200
    rows_two = re.findall(r'<tr class="status-[^"]*" data-customer="(\d+)"', second.text)
    rows_one = re.findall(r'<tr class="status-[^"]*" data-customer="(\d+)"', text)
    total = visit_plan.due(db.session, long_plan["sales"], ON, grade="C").total
    assert total > MANY and len(rows_two) == total - views.DUE_PAGE_SIZE
    assert not set(rows_one) & set(rows_two)


def test_the_due_xlsx_holds_every_row_not_a_page(client, long_plan):
    login(client, "sales")
    rows = workbook_rows(client.get(f"/visitplan/due.xlsx?on={ON}&page=2"))
    whole = visit_plan.due(db.session, long_plan["sales"], ON)
    assert len(rows) - 1 == whole.total > views.DUE_PAGE_SIZE
    assert [r[2] for r in rows[1:]] == [r.name for r in whole.rows]


def test_the_route_page_numbers_its_rows_in_route_order(client, long_plan):
    login(client, "sales")
    page = client.get(f"/visitplan/route?on={ON}&all=1")
    assert page.status_code == 200
    numbers = [int(n) for n in re.findall(r'<tr data-customer="\d+" data-status="[a-z]+">\s*<td>(\d+)</td>', page.text)]
    whole = visit_plan.route(db.session, long_plan["sales"], ON, only_due=False)
    assert numbers == list(range(1, min(whole.total, views.ROUTE_PAGE_SIZE) + 1))


@pytest.mark.parametrize("url", ["/visitplan/?page=0", "/visitplan/?page=x", "/visitplan/?page=-1",
                                 "/visitplan/route?page=1.5"])
def test_bad_page_numbers_get_400_with_a_message(client, plan_archive, url):
    login(client, "sales")
    response = client.get(url)
    assert response.status_code == 400 and 'id="plan-error"' in response.text


def test_a_page_past_the_end_says_so(client, long_plan):
    login(client, "sales")
    response = client.get(f"/visitplan/?on={ON}&page=99")
    assert response.status_code == 200
    assert '<tr class="status-' not in response.text and 'id="due-counts"' in response.text
    assert 'id="due-pager"' in response.text


def test_compliance_says_it_counts_current_grades_on_the_page_and_in_the_xlsx(client, plan_archive):
    login(client, "manager")
    page = client.get("/visitcompliance/?start=2025-03-01&end=2025-03-31")
    assert page.status_code == 200 and 'id="compliance-grade-note"' in page.text
    response = client.get("/visitcompliance/xlsx?start=2025-03-01&end=2025-03-31")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames[0] in ("按当前等级的拜访达成", "Compliance by current grade")
