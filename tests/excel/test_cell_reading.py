"""What a cell becomes at the dry run when the workbook holds what Excel does to data: numbers
of more than 15 digits in text columns, formula errors, footer lines under the list."""
from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l

from portal.excel import importer, steps
from portal.excel.importer import Who
from portal.excel.reader import ROUNDED, formula_error
from portal.extensions import db

from .files import csv_file, formula_errors_xlsx, ods_formula_errors, xls_formula_errors
from .importing import committed, prepared, staged


def test_a_number_of_more_than_15_digits_in_a_text_column_is_flagged_and_shorter_ones_keep_their_digits(app, tmp_path):
    batch = prepared(tmp_path, [["客户编号", "客户名称", "手机", "统一社会信用代码"],
                                [20260001, "甲公司", 13800000001, 913301001234567.0],
                                [1234567890123456789, "乙公司", 13800000002, "91330100123456789X"],
                                ["KH-3", "丙公司", 13800000003, 9.13301001234568e17]],
                     match=["name", "mobile"], mode="upsert")
    rows = staged(batch)
    assert rows[2].status == "new"
    assert rows[2].values["number"] == "20260001" and rows[2].values["credit_code"] == "913301001234567"
    assert rows[3].status == "invalid" and rows[3].errors == {"number": str(ROUNDED)}
    assert rows[4].status == "invalid" and rows[4].errors == {"credit_code": str(ROUNDED)}
    assert str(ROUNDED) == "此数字超过15位，已被 Excel 舍入；请将该列设置为文本格式后重新输入。"


def test_two_rounded_18_digit_order_numbers_are_flagged_not_taken_for_duplicates(app, tmp_path):
    committed(tmp_path, [["客户名称", "手机"], ["甲公司", "13800000001"]], match=["name", "mobile"], mode="create")
    batch = prepared(tmp_path, [["交易单号", "客户名称", "交易日期", "金额"],
                                [202603021234567890, "甲公司", "2026/3/2", 100],
                                [202603021234567891, "甲公司", "2026/3/2", 200],
                                [2026030212345, "甲公司", "2026/3/2", 300]],
                     "transaction", match=["number"], mode="upsert")
    rows = staged(batch)
    assert [rows[n].status for n in (2, 3, 4)] == ["invalid", "invalid", "new"]
    assert rows[2].errors == rows[3].errors == {"number": str(ROUNDED)}
    assert rows[4].values["number"] == "2026030212345"


def test_formula_errors_are_flagged_on_their_cells_in_xlsx_and_csv(app, tmp_path):
    path = formula_errors_xlsx(tmp_path / "名单.xlsx", ["客户名称", "手机", "信贷限额", "城市"], "杭州")
    csv = csv_file(tmp_path / "名单.csv", [["客户名称", "手机", "信贷限额", "城市"], ["甲公司", "#N/A", "#DIV/0!", "杭州"],
                                           ["乙公司", "13800000002", "100", "宁波"], ["丙公司", "13800000003", "", "#N/A 待查"]])
    for file in (path, csv):
        batch = importer.upload(db.session, file, file.name, "customer", Who())
        db.session.commit()
        steps.run("prepare", batch, Who(), background=False, options={"match": ["name", "mobile"], "mode": "upsert"})
        rows = staged(batch)
        assert rows[2].status == "invalid"
        assert rows[2].errors == {"mobile": str(formula_error("#N/A")), "credit_limit": str(formula_error("#DIV/0!"))}
        assert rows[3].status == "new"
    assert rows[4].status == "new" and rows[4].values["city"] == "#N/A 待查"   # only a cell that is the error alone
    assert str(formula_error("#N/A")) == "单元格是公式错误 #N/A，请修正公式或直接填写值。"
    assert str(_l("The cell holds the formula error %(error)s; correct the formula or type the value in.",
                  error="#REF!")).endswith("#REF!，请修正公式或直接填写值。")


@pytest.mark.parametrize("write, amounts, city", [
    (ods_formula_errors, ("#DIV/0!", "Err:502", "#VALUE!"), "#VALUE!"),   # not the 0 LibreOffice keeps
    (xls_formula_errors, ("#DIV/0!", "#N/A", "#VALUE!"), "#REF!"),        # not the empty cell calamine gives
], ids=["ods", "xls"])
def test_formula_errors_in_an_ods_or_xls_are_flagged_not_imported_as_a_value(app, tmp_path, write, amounts, city):
    path = write(tmp_path / f"名单.{write.__name__[:3]}", ("客户名称", "信贷限额", "城市"))
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    steps.run("prepare", batch, Who(), background=False, options={"match": [], "mode": "create"})
    rows = staged(batch)
    assert rows[2].status == "invalid" and rows[2].errors == {"credit_limit": str(formula_error(amounts[0]))}
    assert rows[3].errors == {"credit_limit": str(formula_error(amounts[1]))}   # Err:502: LibreOffice's own code
    assert rows[4].errors == {"credit_limit": str(formula_error(amounts[2])), "city": str(formula_error(city))}
    assert rows[5].status == "new" and str(rows[5].values["credit_limit"]) in ("0", "0.00")   # a real 0


def test_a_totals_row_and_the_footer_lines_under_it_are_not_imported(app, tmp_path):
    batch = prepared(tmp_path, [["客户名称", "手机", "信贷限额"], ["甲公司", "13800000001", 100],
                                ["乙公司", "13800000002", 200], ["合计：2家", None, 300], [None],
                                ["制表人：张三", None, None], ["注：以上数据截至2026年3月1日", None, None]],
                     match=["name", "mobile"], mode="upsert")
    assert sorted(staged(batch)) == [2, 3]
    assert batch.counts["total"] == 2


def test_invisible_characters_do_not_make_a_second_customer(app, tmp_path):
    committed(tmp_path, [["客户名称", "手机", "电子邮箱"], ["甲公司", "13800000001", "a@example.com"]],
              match=["name", "mobile"], mode="create")
    batch = prepared(tmp_path, [["客户名称", "手机", "电子邮箱", "城市"],
                                ["甲公司\u200b", "13800000001\u200b", "a@example.com\ufeff", "杭州"]],
                     match=["name", "mobile"], mode="upsert")
    row = staged(batch)[2]
    assert row.status == "update"
