"""The classic lists (FAB's generated list views) export exactly what they show: their
filters, order and the row scope, all pages, their columns labelled as on screen."""
from __future__ import annotations

import csv
import io
import itertools
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.excel import limits
from portal.extensions import db
from portal.models import AccessLog, Contact, Customer
from tests.conftest import login, user
from tests.grid.helpers import DEMO


def view_named(app, name: str):
    return next(v for v in app.appbuilder.baseviews if type(v).__name__ == name)


def equal_filter(app, view: str, column: str) -> str:
    """The query argument FAB's list uses for "<column> equal to …"."""
    filters = view_named(app, view)._filters._all_filters[column]
    index = [type(f).__name__ for f in filters].index("FilterEqual")
    return f"_flt_{index}_{column}"


def workbook_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def last(action: str) -> AccessLog:
    return db.session.scalars(sa.select(AccessLog).where(AccessLog.action == action).order_by(AccessLog.id.desc())).first()


def test_the_list_offers_its_export_with_its_own_filters(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    flt = equal_filter(demo_app, "CustomerView", "value_grade")
    html = clerk.get(f"/customerview/list/?{flt}=A&_oc_CustomerView=name&_od_CustomerView=asc").text
    assert 'id="list-export-xlsx"' in html and 'id="list-export-csv"' in html
    start = html.index('id="list-export-xlsx" href="') + len('id="list-export-xlsx" href="')
    link = html[start:html.index('"', start)].replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == "/customerview/export/"
    assert query["format"] == ["xlsx"] and query[flt] == ["A"] and query["_oc_CustomerView"] == ["name"]


def test_no_export_link_for_a_role_that_may_not_download(demo_app):
    auditor = login(demo_app.test_client(), "auditor")
    assert "list-export-xlsx" not in auditor.get("/customerview/list/").text
    assert auditor.get("/customerview/export/").status_code == 403


def test_the_export_is_the_lists_rows_filtered_ordered_and_scoped_to_the_salesperson(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    flt = equal_filter(demo_app, "CustomerView", "value_grade")
    args = f"{flt}=B&_oc_CustomerView=name&_od_CustomerView=desc"
    response = sales.get(f"/customerview/export/?format=xlsx&{args}")
    assert response.status_code == 200
    header, *rows = workbook_rows(response.data)
    assert header == ["客户编号", "客户名称", "客户类型", "省份", "城市", "电话", "手机", "所属地区", "客户等级", "业务员", "客户阶段"]
    expected = db.session.scalars(sa.select(Customer).where(
        Customer.owner_id == user(demo_app, "zhangwei").id, Customer.value_grade == "B")
        .order_by(Customer.name.desc(), Customer.id.desc())).all()
    assert expected and [r[0] for r in rows] == [c.number for c in expected]
    assert {r[8] for r in rows} == {"B级"} and {r[9] for r in rows} == {"张伟"}
    # the same rows the list shows on its pages
    page = sales.get(f"/customerview/list/?{args}").text
    assert all(c.number in page for c in expected[:25])

    entry = last("export")
    detail = json.loads(entry.detail)
    assert (entry.username, entry.object_type, entry.row_count) == ("zhangwei", "Customer", len(expected))
    assert detail["kind"] == "list" and detail["view"] == "CustomerView" and detail["format"] == "xlsx"
    assert detail["filters"] and detail["filters"][0][0] == "value_grade" and detail["filters"][0][2] == ["B"]
    assert detail["order"] == ["name", "desc"] and detail["columns"][:2] == ["number", "name"]


def test_the_export_holds_every_page_of_the_list(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Contact))
    assert total > 25   # more than one page
    response = clerk.get("/contactview/export/?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0][:2] == ["客户", "姓名"] and len(table) - 1 == total
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(".csv")


def test_over_the_cap_the_list_says_so_and_writes_nothing(demo_app, monkeypatch):
    monkeypatch.setattr(limits, "limits_data", lambda path=None: {"Salesperson": {"max_rows": 2}})
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    response = sales.get("/customerview/export/?format=xlsx&_oc_CustomerView=name&_od_CustomerView=asc")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/customerview/list/" and "_oc_CustomerView=name" in location.query
    assert "format" not in parse_qs(location.query)
    page = sales.get(response.headers["Location"]).text
    assert "Narrow the filter" in page or "缩小" in page
    denial = json.loads(last("denied").detail)
    assert denial["kind"] == "list" and denial["export"] == "row_cap" and denial["max_rows"] == 2
    assert last("export") is None


def test_a_salesperson_cannot_take_the_lists_credit_or_sensitive_columns(demo_app, monkeypatch):
    monkeypatch.setattr(view_named(demo_app, "CustomerView"), "list_columns",
                        ["number", "name", "credit_limit", "id_number", "mobile"])
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    header = workbook_rows(sales.get("/customerview/export/?format=xlsx").data)[0]
    assert header == ["客户编号", "客户名称", "手机"]
    assert json.loads(last("export").detail)["withheld"] == ["credit_limit", "id_number"]


def test_sensitive_list_columns_are_masked_as_on_screen(demo_app, monkeypatch):
    monkeypatch.setattr(limits, "limits_data", lambda path=None: {})
    monkeypatch.setattr(view_named(demo_app, "CustomerView"), "list_columns", ["number", "bank_account"])
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    rows = workbook_rows(sales.get("/customerview/export/?format=xlsx").data)[1:]
    accounts = {c.number: c.bank_account for c in db.session.scalars(sa.select(Customer))}
    shown = [(number, account) for number, account in rows if account]
    assert shown and all("****" in account and account != accounts[number] for number, account in shown)
    clerk = login(demo_app.test_client(), "clerk")
    rows = workbook_rows(clerk.get("/customerview/export/?format=xlsx").data)[1:]
    assert all(account == accounts[number] for number, account in rows if account)


@pytest.mark.parametrize("fmt", ["pdf", ""])
def test_an_unknown_format_goes_back_to_the_list(demo_app, fmt):
    clerk = login(demo_app.test_client(), "clerk")
    response = clerk.get(f"/customerview/export/?format={fmt}")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/customerview/list/"


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_list_sorted_by_a_relation_column_shows_and_exports_its_rows_by_that_column(demo_app, direction):
    # FAB ordered by the relationship itself: a server error on the list and on its export.
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    args = f"_oc_ContactView=customer&_od_ContactView={direction}"
    assert sales.get(f"/contactview/list/?{args}").status_code == 200
    response = sales.get(f"/contactview/export/?format=xlsx&{args}")
    assert response.status_code == 200
    header, *rows = workbook_rows(response.data)
    key = Contact.customer_id.desc() if direction == "desc" else Contact.customer_id.asc()
    tie = Contact.id.desc() if direction == "desc" else Contact.id.asc()
    expected = db.session.scalars(sa.select(Contact).join(Customer).where(
        Customer.owner_id == user(demo_app, "zhangwei").id).order_by(key, tie)).all()
    assert expected and [(r[0], r[1]) for r in rows] == [(c.customer.number + " " + c.customer.name, c.name)
                                                         for c in expected]
    clerk = login(demo_app.test_client(), "clerk")
    assert clerk.get("/customerview/list/?_oc_CustomerView=owner&_od_CustomerView=asc").status_code == 200
    owners = [r[9] for r in workbook_rows(clerk.get(
        "/customerview/export/?format=xlsx&_oc_CustomerView=owner&_od_CustomerView=asc").data)[1:]]
    runs = [name for name, _ in itertools.groupby(owners)]
    assert len(runs) > 1 and len(runs) == len(set(runs))   # each salesperson's customers together
