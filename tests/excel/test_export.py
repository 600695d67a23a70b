"""The one export writer: what a value becomes in .xlsx and .csv, safely and in flat memory."""
import csv
import datetime as dt
import io
import os
import re
import tracemalloc
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from portal.excel import export
from portal.excel.export import ExportColumn, column_width, neutralise, sanitise_sheet_name, write_table
from portal.fields.spec import FieldType as T

INJECTIONS = ["=cmd|' /C calc'!A0", "+SUM(1)", "-1+1", "@x", "\t=1+1", "\r=1+1"]

COLUMNS = [
    ExportColumn("客户名称", T.TEXT),
    ExportColumn("手机", T.MOBILE),
    ExportColumn("身份证号", T.ID_NUMBER),
    ExportColumn("银行卡号", T.CARD_NUMBER),
    ExportColumn("金额", T.MONEY),
    ExportColumn("数量", T.INT),
    ExportColumn("比率", T.DECIMAL),
    ExportColumn("签约日期", T.DATE),
    ExportColumn("最近拜访", T.DATETIME),
    ExportColumn("有效", T.BOOL),
]
ROW = ("杭州华信贸易有限公司", "13812345678", "11010519491231002X", "6222021234567890123",
       Decimal("1234567.50"), 42, 0.125, dt.date(2025, 3, 1), dt.datetime(2025, 3, 2, 14, 30), True)


def xlsx(columns, rows, sheet_name="客户", **kw):
    stream = io.BytesIO()
    count = write_table(stream, fmt="xlsx", sheet_name=sheet_name, columns=columns, rows=rows, **kw)
    stream.seek(0)
    return count, openpyxl.load_workbook(stream)


def csv_bytes(columns, rows, **kw):
    stream = io.BytesIO()
    count = write_table(stream, fmt="csv", sheet_name="客户", columns=columns, rows=rows, **kw)
    return count, stream.getvalue()


def csv_rows(data: bytes):
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


class Discard:
    """A write-only stream that keeps nothing (no tell, no seek, write answers None)."""

    size = 0

    def write(self, data):
        self.size += len(data)


# --- xlsx --------------------------------------------------------------------------------

def test_xlsx_has_the_labels_as_a_frozen_header_with_an_autofilter_over_the_rows():
    count, book = xlsx(COLUMNS, [ROW, ROW])
    sheet = book.active
    assert count == 2
    assert [cell.value for cell in sheet[1]] == [c.label for c in COLUMNS]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J3"
    header = sheet["A1"]
    assert header.font.b and header.fill.fgColor.rgb.endswith("DDEBF7") and header.border.bottom.style == "thin"


def test_xlsx_writes_numbers_as_numbers_and_dates_as_dates_with_their_formats():
    _, book = xlsx(COLUMNS, [ROW])
    row = {c.label: cell for c, cell in zip(COLUMNS, book.active[2])}
    assert row["金额"].value == 1234567.5 and row["金额"].number_format == "#,##0.00"
    assert row["数量"].value == 42 and row["数量"].number_format == "0"
    assert row["比率"].value == 0.125 and row["比率"].data_type == "n"
    assert row["签约日期"].value == dt.datetime(2025, 3, 1) and row["签约日期"].number_format == "yyyy-mm-dd"
    assert row["最近拜访"].value == dt.datetime(2025, 3, 2, 14, 30)
    assert row["最近拜访"].number_format == "yyyy-mm-dd hh:mm"
    assert row["签约日期"].is_date and row["最近拜访"].is_date


def test_xlsx_keeps_mobile_id_and_card_numbers_as_exact_text_even_when_given_as_ints():
    _, book = xlsx(COLUMNS[1:4], [ROW[1:4], (13812345678, "110105194912310021", 6222021234567890123)])
    sheet = book.active
    assert [c.value for c in sheet[2]] == ["13812345678", "11010519491231002X", "6222021234567890123"]
    assert [c.value for c in sheet[3]] == ["13812345678", "110105194912310021", "6222021234567890123"]
    assert all(c.data_type == "s" and c.number_format == "@" for c in (*sheet[2], *sheet[3]))


def sheet_xml(columns, rows, **kw) -> str:
    stream = io.BytesIO()
    write_table(stream, fmt="xlsx", sheet_name="客户", columns=columns, rows=rows, **kw)
    return zipfile.ZipFile(stream).read("xl/worksheets/sheet1.xml").decode()


def test_xlsx_writes_formula_text_as_it_is_in_string_cells_with_the_quote_prefix():
    # An xlsx text cell is a typed string: no spreadsheet evaluates it, so the value stays what the
    # screen shows (no apostrophe added), and the quote-prefix style keeps it text when edited.
    columns = [ExportColumn("备注", T.TEXT), ExportColumn("电话", T.PHONE)]
    rows = [(text, "+86 138 1234 5678") for text in INJECTIONS]
    _, book = xlsx(columns, rows)
    cells = list(book.active.iter_rows(min_row=2))
    # xlsx stores a carriage return as the escape _x000D_, which Excel decodes and openpyxl does not.
    assert [text.value.replace("_x000D_", "\r") for text, _ in cells] == INJECTIONS
    assert {phone.value for _, phone in cells} == {"+86 138 1234 5678"}
    assert all(c.data_type == "s" and c.quotePrefix for row in cells for c in row)
    assert {phone.number_format for _, phone in cells} == {"@"}   # an identifier keeps its text format
    xml = sheet_xml(columns, rows)
    assert "<f>" not in xml and "<f " not in xml and xml.count('t="inlineStr"') == 2 * len(INJECTIONS) + 2


def test_xlsx_ordinary_text_has_no_quote_prefix():
    _, book = xlsx([ExportColumn("备注", T.TEXT), ExportColumn("手机", T.MOBILE)], [("a=b", "13812345678")])
    assert not any(c.quotePrefix for c in book.active[2])


def test_xlsx_long_text_wraps_so_its_line_breaks_show_formula_like_or_not():
    columns = [ExportColumn("备注", T.LONGTEXT), ExportColumn("名称", T.TEXT)]
    _, book = xlsx(columns, [("第一行\n第二行", "甲\n乙"), ("=1+1\n第二行", "=2")])
    plain, formula_like = book.active[2], book.active[3]
    assert plain[0].value == "第一行\n第二行" and plain[0].alignment.wrap_text and not plain[0].quotePrefix
    assert formula_like[0].alignment.wrap_text and formula_like[0].quotePrefix
    assert plain[0].alignment.vertical == formula_like[0].alignment.vertical == "top"
    assert not plain[1].alignment.wrap_text and formula_like[1].quotePrefix   # short text is left as it was


def test_xlsx_header_labels_are_kept_as_they_are_with_the_quote_prefix_when_formula_like():
    _, book = xlsx([ExportColumn("=HYPERLINK(\"x\")", T.TEXT), ExportColumn("名称", T.TEXT)], [])
    first, second = book.active[1]
    assert first.value == "=HYPERLINK(\"x\")" and first.quotePrefix and first.font.b
    assert second.value == "名称" and not second.quotePrefix


def test_xlsx_yes_no_words_that_look_like_formulas_are_kept_with_the_quote_prefix():
    _, book = xlsx([ExportColumn("有效", T.BOOL)], [(True,), (False,)], yes_no=("+", "-"))
    cells = [row[0] for row in book.active.iter_rows(min_row=2)]
    assert [c.value for c in cells] == ["+", "-"] and all(c.quotePrefix for c in cells)


def test_the_exported_phone_reads_back_exactly_as_it_was():
    # The export is re-imported by clerks: what the reader takes from the cell is the stored value.
    _, book = xlsx([ExportColumn("电话", T.PHONE), ExportColumn("地址", T.TEXT)], [("+86 571 8888 0000", "-3号楼")])
    assert [c.value for c in book.active[2]] == ["+86 571 8888 0000", "-3号楼"]


def test_xlsx_writes_negative_numbers_of_number_types_as_numbers_not_neutralised_text():
    _, book = xlsx([ExportColumn("金额", T.MONEY), ExportColumn("数量", T.INT)], [(Decimal("-12.30"), -5)])
    assert [c.value for c in book.active[2]] == [-12.3, -5]


def test_xlsx_writes_bools_as_yes_no_words_and_none_as_an_empty_cell():
    columns = [ExportColumn("有效", T.BOOL), ExportColumn("备注", T.TEXT), ExportColumn("金额", T.MONEY)]
    _, book = xlsx(columns, [(True, None, None), (False, "", None)])
    assert [c.value for c in book.active[2]] == ["是", None, None]
    assert book.active["A3"].value == "否"
    _, book = xlsx(columns, [(True, None, None)], yes_no=("Yes", "No"))
    assert book.active["A2"].value == "Yes"


def test_xlsx_sheet_name_is_sanitised_and_chinese_kept():
    _, book = xlsx(COLUMNS, [ROW], sheet_name="客户/导出:[2025]*?\\" + "长" * 40)
    [name] = book.sheetnames
    assert name.startswith("客户_导出__2025") and len(name) == 31
    assert not set(name) & set("[]:*?/\\")


@pytest.mark.parametrize("raw, clean", [
    ("客户档案", "客户档案"), ("a/b\\c", "a_b_c"), ("'quoted'", "quoted"), ("", "Sheet1"),
    ("???", "___"), ("History", "History_"), ("x" * 40, "x" * 31),
])
def test_sheet_names_excel_would_refuse_are_made_acceptable(raw, clean):
    assert sanitise_sheet_name(raw) == clean


def test_xlsx_cuts_a_cell_at_excels_32767_characters():
    _, book = xlsx([ExportColumn("备注", T.LONGTEXT)], [("长" * 40_000,)])
    assert book.active["A2"].value == "长" * 32_767


def test_xlsx_keeps_integers_longer_than_excel_can_hold_exactly_as_text():
    _, book = xlsx([ExportColumn("数量", T.INT)], [(12345678901234567,)])
    assert book.active["A2"].value == "12345678901234567"


def test_xlsx_can_be_written_to_a_stream_that_cannot_seek_or_tell():
    class WriteOnly:
        def __init__(self):
            self.buffer = io.BytesIO()

        def write(self, data):
            self.buffer.write(data)   # answers None, like a WSGI write callable

    stream = WriteOnly()
    assert write_table(stream, fmt="xlsx", sheet_name="客户", columns=COLUMNS, rows=[ROW]) == 1
    stream.buffer.seek(0)
    assert openpyxl.load_workbook(stream.buffer).active["A2"].value == ROW[0]


def test_xlsx_continues_on_a_new_sheet_with_the_header_again_past_excels_row_limit(monkeypatch):
    monkeypatch.setattr(export, "MAX_ROWS", 5)   # a header and four data rows per sheet
    columns = [ExportColumn("序号", T.INT), ExportColumn("名称", T.TEXT)]
    count, book = xlsx(columns, ((i, f"客户{i}") for i in range(1, 11)), sheet_name="客户")
    assert count == 10
    assert book.sheetnames == ["客户", "客户 (2)", "客户 (3)"]
    numbers = []
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == ("序号", "名称") and sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:B{len(rows)}"
        numbers += [number for number, _ in rows[1:]]
    assert numbers == list(range(1, 11))


def test_xlsx_exactly_a_full_sheet_of_rows_makes_no_empty_second_sheet(monkeypatch):
    monkeypatch.setattr(export, "MAX_ROWS", 5)
    count, book = xlsx([ExportColumn("序号", T.INT)], ((i,) for i in range(4)))
    assert count == 4 and book.sheetnames == ["客户"]


def test_xlsx_overflow_sheet_names_stay_within_31_characters(monkeypatch):
    monkeypatch.setattr(export, "MAX_ROWS", 2)
    _, book = xlsx([ExportColumn("序号", T.INT)], ((i,) for i in range(3)), sheet_name="档" * 31)
    assert book.sheetnames == ["档" * 31, "档" * 27 + " (2)", "档" * 27 + " (3)"]


def test_xlsx_with_no_rows_still_has_its_header():
    count, book = xlsx(COLUMNS, iter(()))
    assert count == 0 and [c.value for c in book.active[1]] == [c.label for c in COLUMNS]


def test_an_export_cut_short_by_a_failing_row_source_leaves_no_temp_files(monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    def failing():
        yield ROW
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        write_table(io.BytesIO(), fmt="xlsx", sheet_name="客户", columns=COLUMNS, rows=failing())
    write_table(io.BytesIO(), fmt="xlsx", sheet_name="客户", columns=COLUMNS, rows=[ROW])
    assert os.listdir(tmp_path) == []


def test_xlsx_streams_rows_with_flat_memory():
    rows = ((f"客户{i}", f"138{i:08d}", Decimal(i) / 100, dt.date(2025, 1, 1)) for i in range(20_000))
    columns = [ExportColumn("名称", T.TEXT), ExportColumn("手机", T.MOBILE), ExportColumn("金额", T.MONEY),
               ExportColumn("日期", T.DATE)]
    tracemalloc.start()
    try:
        assert write_table(Discard(), fmt="xlsx", sheet_name="客户", columns=columns, rows=rows) == 20_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024   # 80,000 cells held in memory would take several times this


# --- csv ---------------------------------------------------------------------------------

def test_csv_starts_with_a_bom_ends_lines_with_crlf_and_round_trips_chinese_text():
    count, data = csv_bytes(COLUMNS, [ROW])
    assert count == 1
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == 2
    header, row = csv_rows(data)
    assert header == [c.label for c in COLUMNS]
    assert row == ["杭州华信贸易有限公司", "13812345678", "11010519491231002X", "6222021234567890123",
                   "1234567.50", "42", "0.125", "2025-03-01", "2025-03-02 14:30:00", "是"]


def test_csv_writes_decimals_as_plain_digits_and_none_as_empty():
    columns = [ExportColumn("金额", T.MONEY), ExportColumn("备注", T.TEXT), ExportColumn("有效", T.BOOL)]
    _, data = csv_bytes(columns, [(Decimal("1E+3"), None, False)], yes_no=("Y", "N"))
    assert csv_rows(data)[1] == ["1000", "", "N"]


def test_csv_neutralises_formula_text_with_a_leading_apostrophe():
    columns = [ExportColumn("备注", T.TEXT), ExportColumn("电话", T.PHONE)]
    _, data = csv_bytes(columns, [(text, "+86 138 1234 5678") for text in INJECTIONS])
    rows = csv_rows(data)[1:]
    assert [text for text, _ in rows] == ["'" + text for text in INJECTIONS]
    assert {phone for _, phone in rows} == {"'+86 138 1234 5678"}


def test_csv_quotes_cells_holding_commas_quotes_and_line_breaks():
    _, data = csv_bytes([ExportColumn("地址", T.TEXT)], [('杭州市, "西湖区"\n文三路',)])
    assert csv_rows(data)[1] == ['杭州市, "西湖区"\n文三路']


def test_csv_streams_200k_rows_from_a_generator_with_small_peak_memory():
    rows = ((f"客户{i}", f"138{i:08d}", Decimal(i) / 100, dt.date(2025, 1, 1)) for i in range(200_000))
    columns = [ExportColumn("名称", T.TEXT), ExportColumn("手机", T.MOBILE), ExportColumn("金额", T.MONEY),
               ExportColumn("日期", T.DATE)]
    sink = Discard()
    tracemalloc.start()
    try:
        assert write_table(sink, fmt="csv", sheet_name="客户", columns=columns, rows=rows) == 200_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.size > 7_000_000            # the rows did go out...
    assert peak < 10 * 1024 * 1024          # ...without being held: a list of them would be ~60 MB


# --- shared rules ------------------------------------------------------------------------

@pytest.mark.parametrize("text", INJECTIONS)
def test_neutralise_prefixes_text_that_a_spreadsheet_would_run_as_a_formula(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["杭州华信", "13812345678", "a=b", " =1", "", "'quoted"])
def test_neutralise_leaves_ordinary_text_alone(text):
    assert neutralise(text) == text


def test_header_labels_are_neutralised_too():
    _, data = csv_bytes([ExportColumn("=HYPERLINK(\"x\")", T.TEXT)], [])
    assert csv_rows(data) == [["'=HYPERLINK(\"x\")"]]


def test_column_width_counts_chinese_label_characters_double_and_honours_an_explicit_width():
    assert column_width(ExportColumn("统一社会信用代码证书编号", T.TEXT)) == 24 + 3
    assert column_width(ExportColumn("Unified social credit code", T.TEXT)) == 26 + 3
    assert column_width(ExportColumn("金额", T.MONEY)) == export.DEFAULT_WIDTHS[T.MONEY]
    assert column_width(ExportColumn("金额", T.MONEY, width=9)) == 9


def column_widths(data_or_xml: str) -> list[float]:
    return [float(w) for w in re.findall(r'<col min="\d+" max="\d+" width="([\d.]+)"', data_or_xml)]


def test_xlsx_column_widths_suit_the_values_counting_chinese_double():
    columns = [ExportColumn("客户名称", T.TEXT), ExportColumn("详细地址", T.TEXT), ExportColumn("备注", T.TEXT),
               ExportColumn("金额", T.MONEY), ExportColumn("性别", T.CHOICE)]
    rows = [("杭州华信贸易有限公司", "浙江省杭州市西湖区文三路100号明远大厦12楼", None, Decimal("1.00"), "男"),
            ("短名", "文一路1号", None, Decimal("2.00"), "女")]
    name, street, empty, money, choice = column_widths(sheet_xml(columns, rows))
    assert name >= 20 + 2 and street >= 40 + 1            # the widest value, 2 columns a character
    assert empty >= export.DEFAULT_WIDTHS[T.TEXT]          # no text: the type's width
    assert money >= export.DEFAULT_WIDTHS[T.MONEY]         # numbers are not measured
    assert 7 <= choice < export.DEFAULT_WIDTHS[T.CHOICE]   # short values: the header's width


def test_xlsx_column_widths_are_capped_and_count_the_longest_line_of_a_cell():
    columns = [ExportColumn("备注", T.LONGTEXT), ExportColumn("地址块", T.LONGTEXT), ExportColumn("固定", T.TEXT, width=9)]
    rows = [("长" * 5000, "310012\n浙江省杭州市西湖区\n文三路100号", "很长很长很长很长很长很长很长")]
    note, block, fixed = column_widths(sheet_xml(columns, rows))
    assert export.MAX_CONTENT_WIDTH <= note < export.MAX_CONTENT_WIDTH + 1
    assert 18 + 2 <= block < 30                             # 浙江省杭州市西湖区, not the whole cell
    assert fixed < 10                                       # an explicit width is kept


def test_xlsx_column_widths_come_from_the_first_rows_only(monkeypatch):
    monkeypatch.setattr(export, "WIDTH_SAMPLE_ROWS", 3)
    rows = [("短",)] * 3 + [("这是一个第四行才出现的很长很长的名称",)]
    count, book = xlsx([ExportColumn("名称", T.TEXT)], iter(rows))
    assert count == 4 and [r[0] for r in book.active.iter_rows(min_row=2, values_only=True)] == [r[0] for r in rows]
    [width] = column_widths(sheet_xml([ExportColumn("名称", T.TEXT)], iter(rows)))
    assert width < 10   # the header's width: the fourth row is written but not measured


def test_column_width_from_content_is_between_the_header_and_the_cap():
    assert column_width(ExportColumn("客户名称", T.TEXT), content=20) == 22
    assert column_width(ExportColumn("客户名称", T.TEXT), content=2) == 8 + 3
    assert column_width(ExportColumn("备注", T.LONGTEXT), content=500) == export.MAX_CONTENT_WIDTH
    assert column_width(ExportColumn("金额", T.MONEY, width=9), content=40) == 9


def test_a_row_with_the_wrong_number_of_values_is_refused():
    with pytest.raises(ValueError, match="row 2 has 1 values for 10 columns"):
        write_table(io.BytesIO(), fmt="csv", sheet_name="x", columns=COLUMNS, rows=[ROW, ("only one",)])


def test_an_unknown_format_is_refused_before_anything_is_written():
    stream = io.BytesIO()
    with pytest.raises(ValueError, match="unknown export format"):
        write_table(stream, fmt="xls", sheet_name="x", columns=COLUMNS, rows=[ROW])
    assert stream.getvalue() == b""
