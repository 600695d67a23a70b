"""Export limits per role (seeds/roles.json "export_limits": a row cap that refuses, fields a
role may not take) and the export log, on the grid's export and the rules themselves."""
from __future__ import annotations

import io
import json
import re
import os
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.excel import limits
from portal.excel.limits import ExportRefused, ExportRules, limits_data, role_rules, rules_for
from portal.extensions import db
from portal.fields import fields_of
from portal.models import AccessLog, Customer, Promotion
from tests.conftest import login, user
from tests.grid.helpers import DEMO

EXPORT = "/api/v1/grid/customer/export"


def person(*roles):
    return SimpleNamespace(id=1, roles=[SimpleNamespace(name=r) for r in roles])


def entries(action: str) -> list[AccessLog]:
    return db.session.scalars(sa.select(AccessLog).where(AccessLog.action == action).order_by(AccessLog.id)).all()


def sheet_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


@pytest.fixture
def limits_of(monkeypatch):
    """Replace the roles file's export_limits with ``data`` for the test."""
    def use(data: dict):
        monkeypatch.setattr(limits, "limits_data", lambda path=None: data)
    return use


# --- the rules -----------------------------------------------------------------------------

def test_the_roles_file_caps_the_salesperson_and_keeps_sensitive_and_credit_fields_in(app):
    rules = rules_for(user(app, "sales"))
    specs = fields_of(Customer)
    assert rules.max_rows == 2000 and rules.cap == 2000 and rules.capped_by_role
    assert rules.allows(Customer, specs["name"]) and rules.allows(Customer, specs["mobile"])
    for name in ("credit_limit", "loyalty_index", "payment_terms", "id_number", "income_level"):
        assert not rules.allows(Customer, specs[name]), name


def test_marketing_takes_names_addresses_and_contact_details_of_customers_only(app):
    rules = rules_for(user(app, "marketing"))
    kept, withheld = rules.split(Customer, fields_of(Customer).values())
    assert rules.max_rows == 50_000
    assert {s.name for s in kept} >= {"number", "name", "province", "city", "street", "postcode", "mobile", "email"}
    assert {s.section for s in kept} <= {"basic", "contact"} and "birth_date" not in {s.name for s in kept}
    assert {s.name for s in withheld} >= {"credit_limit", "value_grade", "owner_id", "birth_date"}
    # a model the rule does not name keeps its fields
    assert rules.split(Promotion, fields_of(Promotion).values())[1] == []


def test_roles_without_an_entry_and_admin_have_no_limit(app):
    for username in ("clerk", "custodian", "admin", "manager"):
        rules = rules_for(user(app, username))
        assert rules.max_rows is None and not rules.field_rules and not rules.capped_by_role, username
        assert rules.cap == limits.DEFAULT_MAX_ROWS


def test_several_roles_get_the_most_generous_rule():
    data = {"Salesperson": {"max_rows": 2000, "fields": {"exclude": ["sensitive", "section:credit"]}},
            "Marketing": {"max_rows": 50000, "fields": {"only": {"Customer": ["name", "section:contact"]}}}}
    specs = fields_of(Customer)
    both = rules_for(person("Salesperson", "Marketing"), data)
    assert both.max_rows == 50000
    assert both.allows(Customer, specs["education"])        # the salesperson's rule lets it out
    assert both.allows(Customer, specs["email"])
    assert not both.allows(Customer, specs["credit_limit"])   # neither does
    assert not both.allows(Customer, specs["loyalty_index"])
    unlimited = rules_for(person("Salesperson", "Clerk"), data)   # the clerk has no entry: no limit
    assert unlimited.max_rows is None and unlimited.allows(Customer, specs["credit_limit"])


def test_field_tokens_name_fields_sections_sensitive_and_one_model():
    rule = role_rules({"fields": {"exclude": ["owner", "Customer.section:credit", "Contact.sensitive"]}})[1]
    customer = fields_of(Customer)
    assert not rule.allows(Customer, customer["owner_id"])            # by its relation's name
    assert not rule.allows(Customer, customer["credit_limit"])
    assert rule.allows(Customer, customer["id_number"])               # sensitive, but only Contact's are out
    from portal.models import Contact

    assert not rule.allows(Contact, fields_of(Contact)["itinerary"])


@pytest.mark.parametrize("entry", [{"max_rows": "many"}, {"max_rows": -1}, {"fields": {"exclude": "credit_limit"}}])
def test_a_malformed_entry_is_refused_with_its_reason(entry):
    with pytest.raises(ValueError, match="roles.json export_limits"):
        role_rules(entry)


def test_the_limits_are_read_again_when_the_file_changes(tmp_path):
    path = tmp_path / "roles.json"
    path.write_text(json.dumps({"export_limits": {"Salesperson": {"max_rows": 10}}}))
    assert limits_data(path)["Salesperson"]["max_rows"] == 10
    path.write_text(json.dumps({"export_limits": {"_comment": "x", "Salesperson": {"max_rows": 20}}}))
    os.utime(path, (1, 1))
    assert limits_data(path) == {"Salesperson": {"max_rows": 20}}


def test_a_row_source_longer_than_the_cap_is_refused_not_cut():
    rules = ExportRules(max_rows=2)
    assert list(rules.capped(iter([1, 2]))) == [1, 2]
    with pytest.raises(ExportRefused) as refused:
        list(rules.capped(iter([1, 2, 3])))
    assert refused.value.reason == "row_cap" and "2" in str(refused.value.message)
    with pytest.raises(ExportRefused):
        rules.check_count(3)
    rules.check_count(2)


# --- on the grid's export ------------------------------------------------------------------

def test_a_salesperson_over_the_row_cap_is_refused_with_the_message_and_nothing_is_written(demo_app, limits_of):
    limits_of({"Salesperson": {"max_rows": 3}})
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = db.session.scalar(sa.select(sa.func.count()).select_from(Customer)
                             .where(Customer.owner_id == user(demo_app, "zhangwei").id))
    assert mine > 3
    for fmt in ("xlsx", "csv"):
        response = sales.get(EXPORT, query_string={"format": fmt})
        assert response.status_code == 403 and response.is_json
        message = response.json["message"]
        assert f"{mine:,}" in message and "3" in message and "Content-Disposition" not in response.headers
    assert entries("export") == []
    denial = json.loads(entries("denied")[-1].detail)
    assert denial["kind"] == "grid" and denial["export"] == "row_cap"
    assert (denial["rows"], denial["max_rows"], denial["format"]) == (mine, 3, "csv")

    # Narrowed to three rows or fewer, the same export goes through.
    number = db.session.scalars(sa.select(Customer.number).where(
        Customer.owner_id == user(demo_app, "zhangwei").id)).first()
    narrowed = sales.get(EXPORT, query_string={"format": "xlsx", "q": number})
    assert narrowed.status_code == 200 and len(sheet_rows(narrowed.data)) >= 2


def test_a_refusal_to_a_browser_goes_back_to_the_grid_with_the_message(demo_app, limits_of):
    limits_of({"Salesperson": {"max_rows": 3}})
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    response = sales.get(EXPORT, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/grid/customer/")
    page = sales.get("/grid/customer/")
    assert "Narrow the filter" in page.text or "缩小" in page.text


def test_fields_a_role_may_not_take_are_absent_and_logged_as_withheld(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    asked = "number,name,credit_limit,id_number,mobile,loyalty_index"
    response = sales.get(EXPORT, query_string={"format": "xlsx", "columns": asked})
    header = sheet_rows(response.data)[0]
    assert header == ["客户编号", "客户名称", "手机"]
    detail = json.loads(entries("export")[-1].detail)
    assert detail["columns"] == ["number", "name", "mobile"]
    assert detail["withheld"] == ["credit_limit", "id_number", "loyalty_index"]

    only_forbidden = sales.get(EXPORT, query_string={"format": "xlsx", "columns": "credit_limit,id_number"})
    assert only_forbidden.status_code == 403 and only_forbidden.json["message"]
    assert json.loads(entries("denied")[-1].detail)["export"] == "no_columns"


def test_marketing_exports_only_the_fields_it_may(demo_app):
    marketing = login(demo_app.test_client(), "marketing")
    response = marketing.get(EXPORT, query_string={
        "format": "csv", "columns": "number,name,owner,value_grade,phone,city,credit_limit"})
    header = response.data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header == ["客户编号", "客户名称", "电话", "城市"]


def test_masked_values_stay_masked_when_no_field_limit_applies(demo_app, limits_of):
    limits_of({})   # no limits at all: the gate's masking alone decides
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    response = sales.get(EXPORT, query_string={"format": "xlsx", "columns": "number,id_number,bank_account,credit_limit"})
    header, *rows = sheet_rows(response.data)
    assert header == ["客户编号", "身份证号", "银行账号", "信贷限额"]
    mine = {c.number: c for c in db.session.scalars(sa.select(Customer).where(
        Customer.owner_id == user(demo_app, "zhangwei").id))}
    assert len(rows) == len(mine)
    for number, id_number, account, credit in rows:
        customer = mine[number]
        assert (id_number is None) == (customer.id_number is None)
        assert id_number is None or ("*" in id_number and id_number != customer.id_number)
        assert account is None or ("****" in account and account != customer.bank_account)
        assert credit is None or credit == "****"
    assert any(r[1] for r in rows) and any(r[2] for r in rows)


@pytest.mark.parametrize("query", [{"f.id_number": "3301"}, {"f.credit_limit": "100000.."},
                                   {"f.credit_rating": "AAA|AA"}, {"sort": "-credit_limit"}])
def test_a_column_masked_for_the_user_cannot_filter_or_sort_the_export_or_the_grid(demo_app, limits_of, query):
    # Filtering by a masked ID number spelled it out digit by digit; sorting by the credit
    # limit ranked the salesperson's customers by it, behind the mask.
    limits_of({})
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    for path, args in ((EXPORT, {"format": "csv", "columns": "number,name"}), ("/api/v1/grid/customer/rows", {})):
        response = sales.get(path, query_string={**args, **query})
        assert response.status_code == 400, path
        assert "不能按它筛选或排序" in response.json["message"]
    assert not entries("export")
    schema = sales.get("/api/v1/grid/customer/schema").json["columns"]
    assert {c["field"]: c["sortable"] for c in schema}["credit_limit"] is False
    clerk = login(demo_app.test_client(), "clerk")   # sees them: filters and sorts as before
    assert clerk.get(EXPORT, query_string={"format": "csv", **query}).status_code == 200
    assert {c["field"]: c["sortable"] for c in clerk.get("/api/v1/grid/customer/schema").json["columns"]}["credit_limit"]


def test_every_grid_export_is_logged_with_who_the_filter_and_the_row_count(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    response = clerk.get(EXPORT, query_string={"format": "csv", "f.value_grade": "A", "sort": "-number"})
    lines = response.data.decode("utf-8-sig").strip().splitlines()
    entry = entries("export")[-1]
    detail = json.loads(entry.detail)
    assert (entry.username, entry.object_type, entry.row_count) == ("clerk", "Customer", len(lines) - 1)
    assert detail["filters"] == {"value_grade": "A"} and detail["sort"] == "-number" and detail["format"] == "csv"
    assert entry.at is not None and detail["kind"] == "grid"


def test_the_auditor_reads_an_export_and_a_refusal_in_the_log_by_labels_not_internal_names(demo_app, limits_of):
    # The log's details were raw JSON: {"filters": {"value_grade": "A|B"}, "withheld": ["bank_account"] …}
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    sales.get(EXPORT, query_string={"format": "xlsx", "f.value_grade": "A|B", "sort": "-number",
                                    "columns": "number,name,bank_account"})
    limits_of({"Salesperson": {"max_rows": 1}})
    sales.get(EXPORT, query_string={"format": "csv"}, headers={"Accept": "application/json"})
    auditor = login(demo_app.test_client(), "auditor")
    export, denial = entries("export")[-1], entries("denied")[-1]
    shown = auditor.get(f"/accesslogview/show/{export.id}").text
    for text in ("客户等级</b>: A级、B级", "排序</b>: 客户编号 ↓", "列</b>: 客户编号、客户名称",
                 "未导出（角色不可导出）</b>: 银行账号", "格式</b>: xlsx", "导出自</b>: 表格视图"):
        assert text.replace("</b>", "") in re.sub(r"<b>|</b>", "", shown), text
    assert "value_grade" not in shown and "bank_account" not in shown and "&#34;filters&#34;" not in shown
    refused = re.sub(r"<b>|</b>", "", auditor.get(f"/accesslogview/show/{denial.id}").text)
    assert "拒绝原因: 超出行数上限" in refused and "角色行数上限: 1" in refused
    listed = auditor.get("/accesslogview/list/?_flt_0_action=export").text
    assert "未导出（角色不可导出）" in listed and ">客户<" in listed   # the record type by its name too
