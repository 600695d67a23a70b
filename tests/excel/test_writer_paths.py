"""The writer's per-column short paths give the same cells as its general rules, for the
values each column type expects and for the odd ones; several tables make one workbook."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from portal.excel.export import ExportColumn, XlsxBook, write_table
from portal.fields.spec import FieldType as T

CASES = [
    # (type, value, xlsx value read back, xlsx data type, csv text): formula-like text is kept as it
    # is in an xlsx string cell (with the quote-prefix style) and neutralised with ' in a csv
    (T.DATE, dt.date(2025, 3, 1), dt.datetime(2025, 3, 1), "d", "2025-03-01"),
    (T.DATE, dt.date(1900, 3, 1), dt.datetime(1900, 3, 1), "d", "1900-03-01"),
    (T.DATE, dt.date(1900, 2, 15), dt.datetime(1900, 2, 15), "d", "1900-02-15"),   # before Excel's leap-day bug
    (T.DATE, dt.date(1850, 5, 1), "1850-05-01", "s", "1850-05-01"),
    (T.DATE, dt.datetime(2025, 3, 1, 9, 30), dt.datetime(2025, 3, 1), "d", "2025-03-01"),
    (T.DATETIME, dt.datetime(2025, 3, 2, 14, 30, 15), dt.datetime(2025, 3, 2, 14, 30, 15), "d", "2025-03-02 14:30:15"),
    (T.DATETIME, dt.datetime(2025, 3, 2, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
     dt.datetime(2025, 3, 2, 14, 30), "d", "2025-03-02 14:30:00+08:00"),   # xlsx has no zones; csv keeps it
    (T.DATETIME, dt.date(2025, 3, 2), dt.datetime(2025, 3, 2), "d", "2025-03-02 00:00:00"),
    (T.MONEY, Decimal("-12.30"), -12.3, "n", "-12.30"),
    (T.MONEY, Decimal("NaN"), "NaN", "s", "NaN"),
    (T.INT, 999_999_999_999_999, 999_999_999_999_999, "n", "999999999999999"),
    (T.INT, 10**15, "1000000000000000", "s", "1000000000000000"),
    (T.INT, 2.5, 2.5, "n", "2.5"),
    (T.INT, "12", "12", "s", "12"),
    (T.INT, "-3", "-3", "s", "'-3"),
    (T.TEXT, 42, 42, "n", "42"),
    (T.TEXT, True, "是", "s", "是"),
    (T.TEXT, "=1+1", "=1+1", "s", "'=1+1"),
    (T.MOBILE, 13812345678, "13812345678", "s", "13812345678"),
    (T.MOBILE, "+8613812345678", "+8613812345678", "s", "'+8613812345678"),
    (T.BOOL, False, "否", "s", "否"),
    (T.BOOL, 1, "是", "s", "是"),
    (T.CHOICE, Decimal("1.5"), 1.5, "n", "1.5"),
]


@pytest.mark.parametrize("type_, value, shown, kind, text", CASES)
def test_each_value_is_written_as_the_rules_say(type_, value, shown, kind, text):
    columns = [ExportColumn("值", type_)]
    stream = io.BytesIO()
    write_table(stream, fmt="xlsx", sheet_name="t", columns=columns, rows=[(value,)])
    cell = openpyxl.load_workbook(io.BytesIO(stream.getvalue())).active["A2"]
    assert (cell.value, cell.data_type) == (shown, kind)
    assert cell.quotePrefix == (kind == "s" and text.startswith("'"))
    if isinstance(shown, dt.datetime):
        assert cell.is_date
    stream = io.BytesIO()
    write_table(stream, fmt="csv", sheet_name="t", columns=columns, rows=[(value,)])
    assert list(csv.reader(io.StringIO(stream.getvalue().decode("utf-8-sig"))))[1] == [text]


def test_several_tables_make_one_workbook_with_distinct_sheet_names():
    stream = io.BytesIO()
    with XlsxBook(stream, yes_no=("Y", "N")) as book:
        assert book.add_table("客户", [ExportColumn("名称", T.TEXT)], [("甲",), ("乙",)]) == 2
        assert book.add_table("客户", [ExportColumn("有效", T.BOOL)], [(True,)]) == 1
        assert book.add_table("History", [ExportColumn("日期", T.DATE)], []) == 0
    workbook = openpyxl.load_workbook(io.BytesIO(stream.getvalue()))
    assert workbook.sheetnames == ["客户", "客户 (2)", "History_"]
    assert workbook["客户 (2)"]["A2"].value == "Y" and workbook["客户"].freeze_panes == "A2"


def test_a_failing_table_leaves_the_stream_untouched():
    stream = io.BytesIO()

    def failing():
        yield ("甲",)
        raise RuntimeError("gone")

    with pytest.raises(RuntimeError):
        with XlsxBook(stream) as book:
            book.add_table("一", [ExportColumn("名称", T.TEXT)], [("x",)])
            book.add_table("二", [ExportColumn("名称", T.TEXT)], failing())
    assert stream.getvalue() == b""
