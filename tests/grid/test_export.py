"""Export of the current grid view (GET …/export): exactly the rows and columns on screen,
scoped, masked, labelled from the registry, and logged."""
from __future__ import annotations

import csv
import io
import json
from urllib.parse import unquote

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.extensions import db
from portal.models import AccessLog, Customer
from tests.conftest import login, user

from .helpers import DEMO

VIEW = {"sort": "province,-number", "f.value_grade": "A|B|C",
        "columns": "number,name,owner,value_grade,bank_account"}


def test_export_is_exactly_the_view_scoped_masked_and_logged(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    response = sales.get("/api/v1/grid/customer/export", query_string={"format": "xlsx", **VIEW})
    assert response.status_code == 200, response.text[:300]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name.startswith("客户-") and name.endswith(".xlsx") and len(name) == len("客户-20260101-0930.xlsx")

    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    # The bank account is withheld: a salesperson's exports hold nothing sensitive nor from the
    # credit section (seeds/roles.json export_limits; masking on export: tests/excel/test_limits.py).
    assert header == ["客户编号", "客户名称", "业务员", "客户等级"]
    page = sales.get("/api/v1/grid/customer/rows", query_string={"size": 500, **VIEW}).json
    assert [r[0] for r in rows] == [r["number"] for r in page["rows"]]  # the same rows in the same order
    mine = db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(
        Customer.owner_id == user(demo_app, "zhangwei").id, Customer.value_grade.in_(["A", "B", "C"])))
    assert len(rows) == mine == page["total"]
    assert {r[2] for r in rows} == {"张伟"} and {r[3] for r in rows} <= {"A级", "B级", "C级"}

    entry = db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "export")).all()[-1]
    detail = json.loads(entry.detail)
    assert (entry.username, entry.object_type, entry.row_count) == ("zhangwei", "Customer", len(rows))
    assert detail["via"] == "grid" and detail["format"] == "xlsx" and detail["filters"] == {"value_grade": "A|B|C"}
    assert detail["columns"] == VIEW["columns"].split(",")[:4] and detail["sort"] == VIEW["sort"]
    assert detail["withheld"] == ["bank_account"]
    # the credit limit is masked for a salesperson: the export is not sorted by it
    masked = sales.get("/api/v1/grid/customer/export", query_string={"format": "xlsx", **VIEW,
                                                                      "sort": "province,-credit_limit"})
    assert masked.status_code == 400


def test_a_csv_export_takes_the_visible_columns_and_the_search(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    person = db.session.scalars(sa.select(Customer).where(Customer.customer_type == "person")).first()
    response = clerk.get("/api/v1/grid/customer/export", query_string={"format": "csv", "q": person.number})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    visible = [c["label"] for c in clerk.get("/api/v1/grid/customer/schema").json["columns"] if c["visible"]]
    assert table[0] == visible
    assert person.number in [row[0] for row in table[1:]]
    account = db.session.scalars(sa.select(Customer).where(Customer.bank_account.is_not(None))).first()
    full = clerk.get("/api/v1/grid/customer/export", query_string={
        "format": "csv", "q": account.number, "columns": "number,bank_account"})
    rows = list(csv.reader(io.StringIO(full.data.decode("utf-8-sig"))))[1:]
    assert [account.number, account.bank_account] in rows  # the clerk may see it in full


def test_export_is_refused_to_the_auditor_and_checks_its_parameters(demo_app):
    auditor = login(demo_app.test_client(), "auditor")
    assert auditor.get("/api/v1/grid/customer/export").status_code in (401, 403)
    clerk = login(demo_app.test_client(), "clerk")
    assert clerk.get("/api/v1/grid/customer/export", query_string={"format": "pdf"}).status_code == 400
    assert clerk.get("/api/v1/grid/customer/export", query_string={"columns": "name,nonsense"}).status_code == 400
    assert clerk.get("/api/v1/grid/contact/export", query_string={"format": "csv"}).status_code == 200
