"""Purchased company lists (exports of the business-registry sites): their headers matched
(企业名称, 所属省份, 注册资本(万元)), and amounts as they write them: the unit in the header (注册资本(万元)), a
magnitude and the yuan's name in the cell (500万元人民币), another currency refused by name, and
a number too big for its column refused at the dry run (PostgreSQL would refuse it at the
commit, SQLite would keep it)."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from portal.excel import steps
from portal.excel.headers import header_unit, header_units
from portal.excel.importer import Who
from portal.extensions import db
from portal.models import Customer

from .importing import prepared, staged


def test_a_header_unit_is_read_in_any_bracket_and_named_as_the_list_names_it():
    assert header_unit("注册资本(万元)") == ("注册资本", Decimal(10000))
    assert header_unit("注册资本（万元人民币）*") == ("注册资本", Decimal(10000))
    assert header_unit("销售额（单位：亿元）") == ("销售额", Decimal(10) ** 8)
    assert header_unit("基本信息 / 注册资本 [千元]") == ("基本信息 / 注册资本", Decimal(1000))
    assert header_unit("注册资本(元)") == ("注册资本", Decimal(1))
    assert header_unit("注册资本") is None and header_unit("员工人数(人)") is None and header_unit("(万元)") is None
    assert header_units(["客户名称", "注册资本(元)", "注册资本(万元)"]) == {"2": "10000"}


def test_a_company_list_in_ten_thousands_of_yuan_is_imported_in_yuan(app, tmp_path):
    batch = prepared(tmp_path, [
        ["企业名称", "注册资本(万元)", "员工人数", "备注(万元)"],
        ["甲公司", 500, "1.2万", "50"],
        ["乙公司", "1,200.5", 30, None],
        ["丙公司", "800元", 3, None],            # the cell names its own unit
        ["丁公司", "50万美元", 3, None],
        ["戊公司", 20_000_000_000, 3, None],     # 200万亿元: more than Numeric(16, 2) holds
        ["己公司", 10, 3_000_000_000, None],     # more people than an integer column holds
    ], mapping={"0": "name", "1": "registered_capital", "2": "employee_count", "3": "custom:备注(万元)"},
        mode="create", match=[])
    rows = staged(batch)
    assert rows[2].values == {"name": "甲公司", "registered_capital": "5000000.00", "employee_count": 12000,
                              "custom:备注(万元)": "50"}   # text keeps what the cell says
    assert rows[3].values["registered_capital"] == "12005000.00"
    assert rows[4].values["registered_capital"] == "800.00"
    assert rows[5].status == "invalid" and "美元" in rows[5].errors["registered_capital"]
    assert rows[6].status == "invalid" and "99999999999999.99" in rows[6].errors["registered_capital"]
    assert rows[7].status == "invalid" and set(rows[7].errors) == {"employee_count"}
    assert batch.counts["new"] == 3 and batch.counts["invalid"] == 3

    steps.run("commit", batch, Who(), background=False)
    assert batch.counts["created"] == 3
    capital = dict(db.session.execute(sa.select(Customer.name, Customer.registered_capital)
                                      .where(Customer.name.in_(["甲公司", "乙公司", "丙公司"]))).all())
    assert capital == {"甲公司": Decimal("5000000.00"), "乙公司": Decimal("12005000.00"), "丙公司": Decimal("800.00")}


def test_a_header_with_a_unit_is_matched_to_its_field(app, tmp_path):
    batch = prepared(tmp_path, [["企业名称", "注册资本（万元）"], ["甲公司", 100]], mode="create", match=[])
    assert batch.mapping == {"0": "name", "1": "registered_capital"}
    assert next(iter(staged(batch).values())).values["registered_capital"] == "1000000.00"


def test_a_registry_sites_export_is_matched_by_its_headers(app, tmp_path):
    headers = ["企业名称", "登记状态", "法定代表人", "注册资本", "成立日期", "统一社会信用代码", "所属省份", "所属城市",
               "所属区县", "电话", "邮箱", "所属行业", "企业地址", "网址", "经营范围"]
    row = ["宁波某某贸易有限公司", "存续", "王伟", "1000万元人民币", "2015-06-18", "91330200MA2AXXXX0X", "浙江省",
           "宁波市", "鄞州区", "0574-88123456", "info@example.com", None, "鄞州区某路1号", "www.example.com", "批发"]
    batch = prepared(tmp_path, [headers, row], mode="create", match=[])
    assert batch.mapping == {"0": "name", "1": None, "2": "legal_representative", "3": "registered_capital",
                             "4": "founded_on", "5": "credit_code", "6": "province", "7": "city", "8": "district",
                             "9": "phone", "10": "email", "11": "industry_id", "12": "street", "13": "website",
                             "14": None}
    values = next(iter(staged(batch).values())).values
    assert values["registered_capital"] == "10000000.00" and values["city"] == "宁波市"
