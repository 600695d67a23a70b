"""The pages: the today page with its windows, marking done (logged), the .xlsx downloads
(opened and read back), the due list, the route, compliance and the rules list; bad
parameters get a 400 with a message, never a 500."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AccessLog, Contact, ReminderDone, VisitRule
from tests.conftest import login
from tests.planning.conftest import customer

D = dt.date


@pytest.fixture
def birthdays(app, people):
    sales, sales2 = people["sales"], people["sales2"]
    mine = customer("王小明", "A", sales, customer_type="person", birth_date=D(1980, 1, 3))
    db.session.add(Contact(customer=mine, name="张经理", birth_date=D(1975, 12, 28)))
    customer("别人家", "A", sales2, customer_type="person", birth_date=D(1981, 1, 2))
    db.session.commit()
    return mine


def workbook(response):
    assert response.status_code == 200, response.text[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_today_page_shows_my_reminders_with_links_to_the_cards(client, birthdays):
    login(client, "sales")
    page = client.get("/today/?on=2025-12-28&birthday_days=7")
    assert page.status_code == 200
    assert "王小明" in page.text and "张经理" in page.text and "别人家" not in page.text
    assert f"/customerview/show/{birthdays.id}" in page.text
    log = db.session.scalars(sa.select(AccessLog).where(AccessLog.object_type == "Reminder")).all()
    assert log and log[-1].action == "list" and log[-1].username == "sales"


def test_mark_done_is_logged_and_the_reminder_disappears_until_next_year(client, birthdays):
    login(client, "sales")
    response = client.post("/today/done", data={"kind": "birthday", "customer": birthdays.id, "subject": 0,
                                                "occurrence": "2026-01-03", "on": "2025-12-28",
                                                "next": "/today/?on=2025-12-28"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/today/?on=2025-12-28")
    row = db.session.scalar(sa.select(ReminderDone))
    assert (row.kind, row.customer_id, row.subject_id, row.occurrence) == ("birthday", birthdays.id, 0, D(2026, 1, 3))
    assert row.done_by.username == "sales"
    entry = db.session.scalar(sa.select(AccessLog).where(AccessLog.action == "reminder_done"))
    assert entry.object_id == str(birthdays.id) and "birthday" in entry.detail
    own = f'data-customer="{birthdays.id}" data-subject="0"'
    page = client.get("/today/?on=2025-12-28&birthday_days=7&kind=birthday").text
    assert own not in page and "张经理" in page
    assert own in client.get("/today/?on=2026-12-28&birthday_days=7&kind=birthday").text
    # Marked twice, or somebody else's: a message, nothing recorded.
    again = client.post("/today/done", data={"kind": "birthday", "customer": birthdays.id, "subject": 0,
                                             "occurrence": "2026-01-03", "on": "2025-12-28"})
    assert again.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderDone)) == 1


def test_a_salesperson_cannot_mark_done_another_salespersons_reminder(client, birthdays, people):
    login(client, "sales2")
    client.post("/today/done", data={"kind": "birthday", "customer": birthdays.id, "subject": 0,
                                     "occurrence": "2026-01-03", "on": "2025-12-28"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderDone)) == 0


@pytest.mark.parametrize("query", [
    "birthday_days=abc", "birthday_days=999", "stale_months=0", "on=2025-02-30", "kind=cake", "colour=red",
])
def test_bad_parameters_of_the_today_page_get_400(client, query):
    login(client, "sales")
    response = client.get(f"/today/?{query}")
    assert response.status_code == 400
    assert 'id="today-error"' in response.text
    assert client.get(f"/today/xlsx?{query}").status_code == 400


def test_bad_done_posts_get_400(client, birthdays):
    login(client, "sales")
    for data in ({"kind": "cake", "customer": birthdays.id}, {"kind": "birthday", "customer": "x"},
                 {"kind": "birthday", "customer": birthdays.id, "occurrence": "2026-13-01"},
                 {"kind": "birthday", "customer": birthdays.id, "on": "2999-01-01"}):
        assert client.post("/today/done", data=data).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderDone)) == 0


def test_today_xlsx_holds_the_reminders_and_is_logged(client, birthdays):
    login(client, "sales")
    rows = workbook(client.get("/today/xlsx?on=2025-12-28&birthday_days=7"))
    header, data = rows[0], rows[1:]
    assert len(header) == 6
    assert [(r[1], r[2], r[4]) for r in data] == [
        (dt.datetime(2025, 12, 28), 0, "王小明"), (dt.datetime(2026, 1, 3), 6, "王小明")]
    assert "张经理" in data[0][5]
    export = db.session.scalar(sa.select(AccessLog).where(AccessLog.action == "export",
                                                          AccessLog.object_type == "Reminder"))
    assert export.row_count == 2


def test_a_salesperson_export_leaves_out_the_credit_reminders(client, people):
    customer("赊账公司", "A", people["sales"], credit_report_date=D(2025, 1, 31), credit_report_valid_months=3)
    db.session.commit()
    login(client, "sales")
    assert "赊账公司" in client.get("/today/?on=2025-04-30&credit_days=0&kind=credit_report").text
    rows = workbook(client.get("/today/xlsx?on=2025-04-30&credit_days=0&kind=credit_report"))
    assert rows[1:] == []      # the Salesperson's exports hold nothing of the credit section


def test_visits_due_page_and_xlsx(client, plan_archive):
    login(client, "sales")
    page = client.get("/visitplan/?on=2025-03-12")
    assert page.status_code == 200
    assert "甲一公司" in page.text and "他人公司" not in page.text and 'data-status="never"' in page.text
    rows = workbook(client.get("/visitplan/due.xlsx?on=2025-03-12"))
    assert [r[2] for r in rows[1:]] == ["丙一公司", "乙一公司", "甲一公司"]
    a1 = rows[3]
    assert a1[11] == dt.datetime(2025, 3, 1) and a1[14] == 1 and a1[15] == dt.datetime(2025, 3, 3)


def test_route_page_print_and_xlsx(client, plan_archive):
    login(client, "sales")
    page = client.get("/visitplan/route?on=2025-03-12&all=1")
    assert page.status_code == 200
    text = page.text
    assert text.index("丙一公司") < text.index("甲一公司") < text.index("乙一公司") < text.index("丙二公司")
    printable = client.get("/visitplan/route?on=2025-03-12&all=1&print=1")
    assert printable.status_code == 200 and "route-table" in printable.text and "navbar" not in printable.text
    rows = workbook(client.get("/visitplan/route.xlsx?on=2025-03-12"))
    assert [r[2] for r in rows[1:]] == ["丙一公司", "甲一公司", "乙一公司"]


def test_compliance_page_for_the_manager(client, plan_archive, people):
    login(client, "manager")
    page = client.get("/visitcompliance/?start=2025-03-01&end=2025-03-31")
    assert page.status_code == 200
    assert f'data-person="{people["sales"].id}" data-grade="A"' in page.text
    assert f'data-person="{people["sales2"].id}"' not in page.text
    rows = workbook(client.get("/visitcompliance/xlsx?start=2025-03-01&end=2025-03-31"))
    by_grade = {r[1]: r for r in rows[1:]}
    assert len(by_grade) == 4                                  # A, B, C and all grades
    total = rows[-1]
    assert total[2:8] == [4, 7, 7, 4, 2, round(100 * 2 / 7, 1)]


@pytest.mark.parametrize("url", [
    "/visitplan/?on=2025-13-01", "/visitplan/?role=boss", "/visitplan/?grade=Z", "/visitplan/?person=abc",
    "/visitplan/?foo=1", "/visitplan/route?region=999999", "/visitplan/route?all=maybe",
    "/visitplan/due.xlsx?on=x", "/visitplan/route.xlsx?route=abc",
    "/visitcompliance/?start=2025-03-02&end=2025-03-01", "/visitcompliance/?start=2020-01-01&end=2025-01-01",
    "/visitcompliance/?role=boss", "/visitcompliance/xlsx?end=nope",
])
def test_bad_parameters_of_the_plan_pages_get_400(client, url):
    login(client, "manager")
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("who, url, says", [
    ("sales", "/visitplan/due.xlsx?on=2025-13-01", "plan-error"),
    ("sales", "/visitplan/due.xlsx?role=boss", "plan-error"),
    ("sales", "/visitplan/route.xlsx?route=abc", "plan-error"),
    ("manager", "/visitcompliance/xlsx?start=2025-03-02&end=2025-03-01", "plan-error"),
    ("sales", "/today/xlsx?birthday_days=999", "today-error"),
])
def test_a_planning_export_with_a_bad_parameter_shows_its_page_with_the_reason(client, plan_archive, who, url, says):
    """A hand-edited .xlsx link gets the page in the portal's layout with the reason where the
    page shows it (in the user's language), not a bare text answer; nothing is exported."""
    login(client, who)
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert f'id="{says}"' in response.text
    assert 'class="navbar' in response.text
    error = response.text.split(f'id="{says}">', 1)[1].split("<", 1)[0]
    assert error.strip() and any("\u4e00" <= ch <= "\u9fff" for ch in error), error
    assert not db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "export")).all()


def test_the_rules_list_is_read_by_all_and_edited_by_manager_and_custodian(client, app):
    rule = db.session.scalar(sa.select(VisitRule).where(VisitRule.visitor_role == "salesperson",
                                                        VisitRule.grade == "A"))
    login(client, "clerk")
    assert client.get("/visitruleview/list/").status_code == 200
    assert client.get(f"/visitruleview/edit/{rule.id}").status_code in (302, 403)
    client.get("/logout/")
    login(client, "manager")
    form = client.get(f"/visitruleview/edit/{rule.id}")
    assert form.status_code == 200
    response = client.post(f"/visitruleview/edit/{rule.id}", data={
        "visitor_role": "salesperson", "grade": "A", "schedule": "monthly", "visits_min": "4", "visits_max": "4",
        "calls_min": "2", "calls_max": "3", "active": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(VisitRule, rule.id).visits_min == 4


@pytest.mark.parametrize("who, url, page", [
    ("sales", "/visitplan/due.xlsx?on=2025-03-12", "/visitplan/"),
    ("sales", "/visitplan/route.xlsx?on=2025-03-12", "/visitplan/route"),
    ("manager", "/visitcompliance/xlsx?start=2025-03-01&end=2025-03-31", "/visitcompliance/"),
    ("sales", "/today/xlsx?on=2025-12-28&birthday_days=7", "/today/"),
])
def test_over_the_cap_a_planning_export_returns_to_its_page_with_the_reason(client, plan_archive, birthdays, people,
                                                                             monkeypatch, who, url, page):
    """As the lists, the grid and the campaigns do: back to the page with its filter kept and
    the reason shown, the refusal logged, nothing written."""
    from urllib.parse import parse_qs, urlsplit

    from portal.excel import limits

    monkeypatch.setattr(limits, "limits_data",
                        lambda path=None: {r.name: {"max_rows": 1} for r in people[who].roles})
    login(client, who)
    response = client.get(url)
    assert response.status_code == 302, response.text[:300]
    location = urlsplit(response.headers["Location"])
    assert location.path == page
    assert parse_qs(location.query) == parse_qs(urlsplit(url).query)
    shown = client.get(response.headers["Location"]).text
    assert "请缩小筛选范围后重新导出" in shown, shown[:3000]
    denials = db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "denied")).all()
    assert denials and '"row_cap"' in denials[-1].detail
    assert not db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "export")).all()
