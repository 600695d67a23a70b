"""Reading uploaded spreadsheets: every kind, the messy layouts real workbooks have, and every
kind of bad file refused with a clear message (a ReadError, never anything else)."""
from __future__ import annotations

import datetime as dt
import itertools
import tracemalloc

import pytest
from flask_babel import LazyString

from portal.excel import reader
from portal.excel.reader import (FileTooLarge, IdentifierRounded, Limits, ReadError, cell_text, data_rows,
                                 find_header, identifier_text, open_workbook)
from portal.fields.validation import FieldInvalid

from . import files

KNOWN_HEADERS = {"客户名称", "手机", "银行卡号", "签约日期", "金额", "备注", "名称"}


def known(text: str) -> bool:
    return text in KNOWN_HEADERS


def read_all(path, name=None, **kw):
    book = open_workbook(path, name or path.name, **kw)
    return book, list(book.rows(book.first_with_data()))


def refused(path, name=None, **kw) -> str:
    """The message a bad file gets; fails unless it is a ReadError (also when raised while reading)."""
    with pytest.raises(ReadError) as caught:
        book = open_workbook(path, name or path.name, **kw)
        for sheet in book.sheets:
            for _ in book.rows(sheet.name):
                pass
    return str(caught.value)


# --- the kinds ------------------------------------------------------------------------------

def test_messy_xlsx_header_under_merged_title_totals_dropped_rows_numbered_as_in_excel(tmp_path):
    book = open_workbook(files.messy_xlsx(tmp_path / "展会名单.xlsx"), "展会名单.xlsx")
    assert book.kind == "xlsx"
    assert [s.name for s in book.sheets] == ["说明", "下拉选项", "客户名单"]
    assert book.sheets[0].rows == 0 and book.sheets[1].hidden
    assert book.first_with_data() == "客户名单"
    head = list(itertools.islice(book.rows("客户名单"), 30))
    header = find_header(head, known)
    assert header == 2 and head[header] == files.HEADER
    rows = list(data_rows(book.rows("客户名单"), header, len(files.HEADER)))
    assert [number for number, _ in rows] == [4, 6]          # row 5, 7 and 8 empty, 9 the totals
    (_, first), (_, second) = rows
    assert first[:2] == ["杭州华信贸易有限公司 ", 13812345678] and first[3:] == [dt.date(2026, 3, 2), 1200.5, None]
    assert type(first[2]) is float                           # 19 digits: past what a float holds exactly
    assert second[4] == 2401 and type(second[4]) is int    # a formula's cached value, whole: an int
    assert identifier_text(first[1]) == "13812345678"
    with pytest.raises(IdentifierRounded):
        identifier_text(first[2])                           # Excel rounded the 19-digit card number
    assert identifier_text(second[2]) == "6222021234567890123"   # the same number typed as text is kept
    assert cell_text(first[0]) == "杭州华信贸易有限公司"


def test_xlsx_cells_keep_excel_row_and_column_positions_when_data_starts_at_b3(tmp_path):
    path = files.xlsx(tmp_path / "b3.xlsx", [["名称", "手机"], ["甲", 13812345678]], start="B3")
    book, rows = read_all(path)
    assert book.sheets[0].rows == 4 and book.sheets[0].columns == 3
    assert rows == [[None, None, None], [None, None, None], [None, "名称", "手机"], [None, "甲", 13812345678]]


@pytest.mark.parametrize("write", [files.xls, files.ods], ids=["xls", "ods"])
def test_xls_and_ods_cells_keep_their_excel_positions(tmp_path, write):
    path = write(tmp_path / f"pos.{write.__name__}", [[None, None], [None, "名称", "手机"], [None, "甲", 1]])
    _, rows = read_all(path)
    assert rows == [[None, None, None], [None, "名称", "手机"], [None, "甲", 1]]


def test_xlsx_dates_datetimes_booleans_and_floats_come_typed(tmp_path):
    path = files.xlsx(tmp_path / "t.xlsx", [["名称", "时间", "日期", "是否", "比率", "数量"],
                                             ["甲", dt.datetime(2026, 3, 2, 14, 30), dt.date(1985, 3, 2), True, 0.125, 3.0]])
    _, rows = read_all(path)
    assert rows[1] == ["甲", dt.datetime(2026, 3, 2, 14, 30), dt.date(1985, 3, 2), True, 0.125, 3]
    assert type(rows[1][5]) is int
    assert [cell_text(v) for v in rows[1]] == ["甲", "2026-03-02 14:30", "1985-03-02", "是", "0.125", "3"]


def test_xlsx_dates_in_chinese_formats_are_dates_and_chart_sheets_are_left_out(tmp_path):
    book, rows = read_all(files.chinese_dates_xlsx(tmp_path / "日期.xlsx"))
    assert [s.name for s in book.sheets] == ["日期"]
    assert [row[1] for row in rows[1:]] == [dt.date(2026, 3, 2)] * 5


def test_xlsx_written_by_openpyxl_and_one_without_dimension_read_the_same(tmp_path):
    rows = [["名称", "手机"], ["甲", "13812345678"], ["乙", 13987654321]]
    plain = files.openpyxl_xlsx(tmp_path / "o.xlsx", rows)
    bare = files.without_dimension(tmp_path / "bare.xlsx", plain)
    for path in (plain, bare):
        book, got = read_all(path)
        assert (book.sheets[0].rows, book.sheets[0].columns) == (3, 2)
        assert got == [["名称", "手机"], ["甲", "13812345678"], ["乙", 13987654321]]


def test_xls_from_xlwt_with_a_title_row(tmp_path):
    path = files.xls(tmp_path / "旧系统导出.xls", [["客户名称", "手机", "签约日期"], ["甲", 13812345678, dt.date(2026, 1, 2)]],
                     sheet="名单", title="客户名单")
    book = open_workbook(path, path.name)
    assert book.kind == "xls" and book.first_with_data() == "名单"
    assert book.sheets[1].rows == 0
    rows = list(book.rows("名单"))
    assert find_header(rows, known) == 1
    assert list(data_rows(rows, 1, 3)) == [(3, ["甲", 13812345678, dt.date(2026, 1, 2)])]


def test_kind_comes_from_the_content_not_the_name(tmp_path):
    real_xls = files.xls(tmp_path / "a.xls", [["名称"], ["甲"]])
    renamed = tmp_path / "renamed.xlsx"
    renamed.write_bytes(real_xls.read_bytes())
    assert open_workbook(renamed, "名单.xlsx").kind == "xls"
    real_xlsx = files.xlsx(tmp_path / "b.xlsx", [["名称"], ["甲"]])
    stored = tmp_path / "upload-17.bin"               # how an upload may be kept on disk
    stored.write_bytes(real_xlsx.read_bytes())
    assert open_workbook(stored, "名单.xls").kind == "xlsx"
    text = files.csv_file(tmp_path / "c.xls", [["名称", "手机"], ["甲", "13812345678"]], delimiter="\t")
    book, rows = read_all(text, "系统导出.xls")        # a tab-separated "xls" from an old system
    assert book.kind == "csv" and rows == [["名称", "手机"], ["甲", "13812345678"]]


def test_ods_from_odfpy(tmp_path):
    path = files.ods(tmp_path / "名单.ods", [["客户名称", "手机"], ["甲", 13812345678], [None, None], ["乙", 2.5]],
                     sheet="表1")
    book, rows = read_all(path)
    assert book.kind == "ods" and book.sheets[0].name == "表1"
    assert rows == [["客户名称", "手机"], ["甲", 13812345678], [None, None], ["乙", 2.5]]


# --- CSV ------------------------------------------------------------------------------------

CSV_ROWS = [["客户名称", "手机", "备注"], ["杭州华信", "13812345678", "第一行\n第二行"], ["宁波海天", "13987654321", ""]]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030", "utf-16-le-bom", "utf-16-be-bom"])
def test_csv_encodings(tmp_path, encoding):
    _, rows = read_all(files.csv_file(tmp_path / "名单.csv", CSV_ROWS, encoding=encoding))
    assert rows == [["客户名称", "手机", "备注"], ["杭州华信", "13812345678", "第一行\n第二行"],
                    ["宁波海天", "13987654321", None]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_detected(tmp_path, delimiter):
    rows = [["客户名称", "地址", "手机"], ["甲", "杭州市, 西湖区; 文三路|1号", "13812345678"], ["乙", "宁波", "13987654321"]]
    book, got = read_all(files.csv_file(tmp_path / "d.csv", rows, delimiter=delimiter))
    assert got == rows and book.sheets[0].columns == 3


def test_csv_with_a_title_line_and_semicolons_and_a_one_column_csv(tmp_path):
    rows = [["2026 年客户名单"], ["客户名称", "手机", "备注"], ["甲", "13812345678", "a,b"], ["乙", "13987654321", None]]
    book, got = read_all(files.csv_file(tmp_path / "t.csv", rows, delimiter=";", encoding="gb18030"))
    assert got[1:3] == [["客户名称", "手机", "备注"], ["甲", "13812345678", "a,b"]]
    assert find_header(got, lambda text: False) == 1
    _, single = read_all(files.csv_file(tmp_path / "one.csv", [["手机"], ["13812345678"], ["13987654321"]]))
    assert single == [["手机"], ["13812345678"], ["13987654321"]]


def test_csv_quoted_line_breaks_keep_row_numbers_of_records(tmp_path):
    path = files.csv_file(tmp_path / "q.csv", [["名称", "备注"], ["甲", "一\n二\n三"], [None, None], ["乙", "x"]])
    book = open_workbook(path, "q.csv")
    assert book.sheets[0].name == "q" and book.sheets[0].rows >= 4    # lines: an upper bound
    assert list(data_rows(book.rows("q"), 0, 2)) == [(2, ["甲", "一\n二\n三"]), (4, ["乙", "x"])]


def test_gb18030_found_even_when_the_chinese_comes_after_the_first_64_kib(tmp_path):
    rows = [["name", "mobile"]] + [[f"n{i}", "13812345678"] for i in range(8000)] + [["杭州华信", "13987654321"]]
    _, got = read_all(files.csv_file(tmp_path / "late.csv", rows, encoding="gb18030"))
    assert got[-1] == ["杭州华信", "13987654321"]


def test_csv_rows_are_read_lazily_in_flat_memory(tmp_path):
    rows = [["客户名称", "手机", "地址", "备注"]] + [[f"公司{i}", f"138{i:08d}", "浙江省杭州市西湖区文三路", "x" * 40]
                                           for i in range(20000)]
    path = files.csv_file(tmp_path / "big.csv", rows)
    book = open_workbook(path, "big.csv")
    tracemalloc.start()
    count = sum(1 for _ in book.rows("big"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 20001
    assert peak < 2 * 1024 * 1024      # the file is 1.6 MB; a few rows' worth is held at a time


def test_csv_error_late_in_the_file_comes_after_the_good_rows(tmp_path):
    path = tmp_path / "late-nul.csv"
    path.write_bytes("名称,手机\n甲,1\n".encode() + b"x" * 70000 + b",\x00\n")
    rows = open_workbook(path, path.name).rows("late-nul")
    assert next(rows) == ["名称", "手机"] and next(rows) == ["甲", "1"]
    with pytest.raises(ReadError, match="Row 3"):
        next(rows)


def test_csv_that_is_neither_utf8_nor_gb18030_is_refused(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"name,city\nM\xfcller,K\xf6ln\xff\n")
    assert "text encoding" in refused(path)


def test_csv_with_only_a_bom_has_no_data(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n")
    book = open_workbook(path, path.name)
    assert book.first_with_data() is None


# --- bad files ------------------------------------------------------------------------------

def test_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert refused(path) == "The file is empty."


@pytest.mark.parametrize("content", [files.PNG, files.PDF], ids=["png", "pdf"])
def test_picture_or_pdf_renamed_xlsx_is_not_a_spreadsheet(tmp_path, content):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(content)
    assert "not a spreadsheet" in refused(path)


def test_renamed_word_document_and_xlsb_and_web_page(tmp_path):
    assert "not a spreadsheet" in refused(files.other_zip(tmp_path / "doc.xlsx"))
    assert ".xlsb" in refused(files.xlsb_like(tmp_path / "b.xlsx"))
    page = tmp_path / "报表.xls"
    page.write_bytes(files.HTML_XLS)
    assert "web page" in refused(page)


def test_truncated_xlsx(tmp_path):
    source = files.messy_xlsx(tmp_path / "full.xlsx")
    assert "damaged or incomplete" in refused(files.truncated(tmp_path / "half.xlsx", source))


def test_truncated_xls(tmp_path):
    source = files.xls(tmp_path / "full.xls", [["名称"], ["甲"]] * 200)
    message = refused(files.truncated(tmp_path / "half.xls", source))
    assert "Excel 97-2003" in message or "damaged" in message


def test_password_protected_xlsx(tmp_path):
    source = files.xlsx(tmp_path / "plain.xlsx", [["名称"], ["甲"]])
    assert "password-protected" in refused(files.encrypted_xlsx(tmp_path / "locked.xlsx", source))


def test_ole_file_that_is_no_workbook(tmp_path):
    path = tmp_path / "odd.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    assert "Excel 97-2003" in refused(path)


def test_zip_bomb_refused_before_anything_unpacks_it(tmp_path, monkeypatch):
    source = files.xlsx(tmp_path / "plain.xlsx", [["名称"], ["甲"]])
    bomb = files.zip_bomb_xlsx(tmp_path / "bomb.xlsx", source)
    assert bomb.stat().st_size < 200_000
    monkeypatch.setattr(reader.python_calamine.CalamineWorkbook, "from_filelike",
                        lambda *a, **k: pytest.fail("calamine opened a zip bomb"))
    assert "unpacks to 20 MB, far more than a workbook of its size" in refused(bomb)


def test_the_portals_checked_copy_is_opened_without_unpacking_it_again(tmp_path, monkeypatch):
    """upload() unpacks every member once (the checks above); the dry run opens the portal's
    copy of that file reading only the first chunk of each sheet, for its declared size."""
    path = files.xlsx(tmp_path / "big.xlsx", [["名称", "备注"]] + [[f"甲{i}", "x" * 200] for i in range(20_000)],
                      constant_memory=True)
    unpacked = []
    read = reader.zipfile.ZipExtFile.read
    monkeypatch.setattr(reader.zipfile.ZipExtFile, "read",
                        lambda self, n=-1: unpacked.append(self.name) or read(self, n))
    opened = {}
    for before in (False, True):
        unpacked.clear()
        with open_workbook(path, path.name, unpacked_before=before) as book:
            reads = unpacked.count("xl/worksheets/sheet1.xml")
            opened[before] = (book.sheets, book.head("Sheet1", 3), reads)
    assert opened[True][:2] == opened[False][:2]   # the same sheets, sizes and first rows
    assert opened[False][2] > 4 and opened[True][2] == 1   # the sheet's 4 MB unpacked, then its first chunk


def test_zip_over_the_unpacked_limit(tmp_path):
    path = files.messy_xlsx(tmp_path / "m.xlsx")
    assert "at most 0.00095 MB" in refused(path, limits=Limits(max_uncompressed_bytes=1000))


def test_zip_lying_about_its_unpacked_size_is_damaged(tmp_path):
    source = files.xlsx(tmp_path / "plain.xlsx", [["名称", "手机"]] + [["甲", "13812345678"]] * 500)
    assert "damaged" in refused(files.lying_zip(tmp_path / "liar.xlsx", source))


def test_ods_repeat_bomb(tmp_path):
    path = files.ods_repeat_bomb(tmp_path / "r.ods", rows=100_000, columns=400)
    assert path.stat().st_size < 2000
    assert "cells" in refused(path)
    wide = files.ods_repeat_bomb(tmp_path / "w.ods", rows=2, columns=10_000)
    assert "10000 columns; at most 500" in refused(wide)
    book, rows = read_all(files.ods_repeat_bomb(tmp_path / "ok.ods", rows=3, columns=2))
    assert rows == [["名称", None], [1, 1], [1, 1], [1, 1]]   # LibreOffice's empty padding costs nothing


def test_sheet_with_nothing_in_it_has_no_header(tmp_path):
    path = files.xlsx(tmp_path / "blank.xlsx", [])
    book = open_workbook(path, path.name)
    assert book.first_with_data() is None
    assert list(book.rows("Sheet1")) == []
    with pytest.raises(ReadError, match="No header row"):
        find_header([], known)


def test_ten_thousand_columns(tmp_path):
    path = files.xlsx(tmp_path / "wide.xlsx", [[f"列{i}" for i in range(10_000)]], constant_memory=True)
    book = open_workbook(path, path.name)
    assert book.sheets[0].columns == 10_000
    with pytest.raises(ReadError, match="10000 columns; at most 500 can be imported"):
        book.rows("Sheet1")
    csv_path = files.csv_file(tmp_path / "wide.csv", [[f"列{i}" for i in range(10_000)]])
    assert "10000 columns; at most 500" in refused(csv_path)


def test_cell_of_one_megabyte_names_its_row_and_column(tmp_path):
    path = files.xlsx_with_long_cell(tmp_path / "long.xlsx", tmp_path, chars=1_000_000, cell="C5")
    assert refused(path) == ("Row 5, column C: the cell holds 1000000 characters; a cell may hold at most 32767.")
    rows = [["名称", "手机", "备注"], ["甲", "1", None], [None] * 3, [None] * 3, ["乙", "2", "x" * 1_000_000]]
    assert "Row 5, column C:" in refused(files.csv_file(tmp_path / "long.csv", rows))


def test_file_over_the_upload_limit(tmp_path):
    path = files.messy_xlsx(tmp_path / "m.xlsx")
    with pytest.raises(FileTooLarge, match="at most 0.00095 MB"):
        open_workbook(path, path.name, limits=Limits(max_bytes=1000))


def test_more_rows_than_the_limit(tmp_path):
    rows = [["名称"]] + [[f"甲{i}"] for i in range(20)]
    xlsx_path = files.xlsx(tmp_path / "rows.xlsx", rows)
    assert "21 rows; at most 10" in refused(xlsx_path, limits=Limits(max_rows=10))
    csv_path = files.csv_file(tmp_path / "rows.csv", rows)
    assert "more than 10 rows" in refused(csv_path, limits=Limits(max_rows=10))
    assert "21 rows" in refused(files.xls(tmp_path / "rows.xls", rows), limits=Limits(max_rows=10))


def test_unknown_sheet(tmp_path):
    book = open_workbook(files.xlsx(tmp_path / "a.xlsx", [["名称"]]), "a.xlsx")
    with pytest.raises(ReadError, match="no sheet named"):
        book.rows("Sheet9")


# --- header, data rows, cell text -----------------------------------------------------------

def test_find_header_prefers_the_row_with_most_known_headers_first_of_equals():
    rows = [["客户名单"], ["名称", "x"], ["客户名称", "手机", "备注"], ["客户名称", "手机", "金额"]]
    assert find_header(rows, known) == 2


def test_find_header_without_known_headers_takes_first_mostly_text_row_after_a_title():
    rows = [[None, None], ["2026 年客户名单", None], ["公司", "电话", "联系人"], ["甲", "13812345678", "张三"]]
    assert find_header(rows, lambda text: False) == 2
    numbers_only = [["1", "2", "3"], [4, 5, 6], ["2026-01-02", "1,234.5", "7"]]
    with pytest.raises(ReadError, match="first 30 rows"):
        find_header(numbers_only, lambda text: False)


def test_find_header_looks_only_at_the_first_rows():
    rows = [[None]] * 30 + [["客户名称", "手机"]]
    with pytest.raises(ReadError):
        find_header(rows, known)
    assert find_header(rows, known, look=31) == 30


def test_data_rows_pad_cut_and_skip_empty_and_whitespace_rows():
    rows = [["名称", "手机"], ["甲", "1", "extra"], [None, "  "], [], ["乙"]]
    assert list(data_rows(iter(rows), 0, 2)) == [(2, ["甲", "1"]), (5, ["乙", None])]


@pytest.mark.parametrize("totals", [["合计", None, 300], ["  合 计：", None, 300], ["Total", None, 300],
                                    [None, "总计", 300], [None, 300, "小计"], ["SUM", "", "300"]])
def test_data_rows_drop_a_trailing_totals_row(totals):
    rows = [["名称", "手机", "金额"], ["甲", "1", 100], ["乙", "2", 200], [None, None, None], totals, [None]]
    assert [n for n, _ in data_rows(iter(rows), 0, 3)] == [2, 3]


def test_data_rows_keep_totals_like_rows_followed_by_data_and_real_names():
    rows = [["名称", "金额"], ["小计", 100], ["甲", 100], ["合计科技有限公司", 5], [None, 300, "合计", "备注"]]
    assert [n for n, _ in data_rows(iter(rows), 0, 2)] == [2, 3, 4, 5]


def test_cell_text():
    assert [cell_text(v) for v in (None, " 甲\u3000", 3, 3.0, 2.5, 0.1 + 0.2, 6.22202e18, True, False)] == \
        ["", "甲", "3", "3", "2.5", "0.3", "6.22202E+18", "是", "否"]
    assert cell_text(dt.datetime(2026, 3, 2, 14, 30, 5)) == "2026-03-02 14:30:05"
    assert cell_text(dt.date(1985, 3, 2)) == "1985-03-02"


def test_identifier_text():
    assert identifier_text(13812345678.0) == "13812345678"
    assert identifier_text(13812345678) == "13812345678"
    assert identifier_text(110105194912310.0) == "110105194912310"      # a 15-digit ID card: exact
    assert identifier_text(" 0571-88123456 ") == "0571-88123456"
    assert identifier_text("13812345678.0") == "13812345678"
    assert identifier_text("11010519491231002X") == "11010519491231002X"
    assert identifier_text(None) == ""
    with pytest.raises(IdentifierRounded) as caught:
        identifier_text(6.22202e18)
    assert "more than 15 digits" in str(caught.value.message)
    assert isinstance(caught.value, FieldInvalid) and isinstance(caught.value, ValueError)
    with pytest.raises(IdentifierRounded, match="scientific notation"):
        identifier_text("1.38123E+10")


def test_messages_are_lazy_strings_filled_in_when_shown():
    error = ReadError(reader._cell_too_long(5, 2, 40000, 32767))
    assert isinstance(error.message, LazyString)
    assert str(error) == "Row 5, column C: the cell holds 40000 characters; a cell may hold at most 32767."


# --- totals and the lines under a list --------------------------------------------------------

LIST = [["名称", "手机", "金额"], ["甲公司", "13800000001", 100], ["乙公司", "13800000002", 200]]


@pytest.mark.parametrize("tail", [
    [["合计", "", 300], [], ["制表人：张三", "", ""]],                  # a totals row and who made the list
    [["合计：2家", "", 300]],                                              # a count after the word
    [["合计（2家）", None, "300"]],
    [["Total (2 rows)", None, 300]],
    [["合计", None, 300], ["注：以上数据截至2026年3月1日", None, None]],
    [["小计", None, 300], ["总计", None, 300], ["审核：李四", None, "2026-03-01"]],
    [["合计", None, 300], ["2026年3月1日"]],                               # one cell under the totals
    [["制表人：张三", None, None], ["打印日期: 2026-03-01", None, None]],  # footer lines without totals
])
def test_data_rows_drop_a_trailing_totals_row_with_the_footer_lines_after_it(tail):
    rows = LIST + tail
    assert [n for n, _ in data_rows(iter(rows), 0, 3)] == [2, 3]


def test_data_rows_keep_totals_and_footer_like_rows_followed_by_data():
    rows = LIST + [["合计", None, 300], ["制表人：张三"], ["丙公司", "13800000003", 5], ["合计（北京）", None, 1],
                   ["合计科技有限公司", "13800000004", 5], ["Summit Trading", "13800000005", 6],
                   ["Totalenergies", "13800000006", 7], ["总计", None, 318]]
    assert [n for n, _ in data_rows(iter(rows), 0, 3)] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    # A lone cell at the end is a record when no totals row comes before it (a list of names).
    names = [["名称"], ["甲公司"], ["乙公司"]]
    assert [n for n, _ in data_rows(iter(names), 0, 1)] == [2, 3]


# --- formula errors -----------------------------------------------------------------------------

def test_xlsx_formula_errors_are_read_as_their_text_not_as_empty_cells(tmp_path):
    # a lookup filled down past the list: rows of nothing but errors
    path = files.formula_errors_xlsx(tmp_path / "errors.xlsx", ["客户名称", "手机", "金额", "城市"], filled_down=2)
    _, rows = read_all(path)
    assert rows[1] == ["甲公司", "#N/A", "#DIV/0!", "#REF!"]
    assert rows[2] == ["乙公司", "13800000002", 100, "宁波"]
    assert [n for n, _ in data_rows(iter(rows), 0, 4)] == [2, 3]


def test_ods_formula_errors_are_read_as_their_text_not_as_the_zero_libreoffice_stores(tmp_path):
    # LibreOffice keeps a failed formula's value as 0: read as it is, 甲公司's amount would be 0.
    path = files.ods_formula_errors(tmp_path / "errors.ods")
    import python_calamine

    raw = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("名单").to_python()
    assert raw[1][1] == 0.0    # what calamine alone gives
    _, rows = read_all(path)
    assert rows[1] == ["甲公司", "#DIV/0!", "杭州"]
    assert rows[2] == ["乙公司", "Err:502", "宁波"]
    assert rows[3] == ["丙公司", "#VALUE!", "#VALUE!"]
    assert rows[4] == ["丁公司", 0, "温州"]          # a real 0 stays 0
    book = open_workbook(path, path.name)
    assert list(book.rows("其他"))[1] == ["戊公司", "#N/A"]


def test_xls_error_cells_are_read_as_their_text_not_as_the_empty_cell_calamine_gives(tmp_path):
    # An error typed or left by a failed formula: read as calamine gives it, 甲公司's amount
    # would be empty and the import would say nothing of it.
    path = files.xls_formula_errors(tmp_path / "errors.xls")
    import python_calamine

    raw = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("名单").to_python()
    assert raw[1][1] == raw[2][1] == raw[3][1] == ""    # what calamine alone gives
    book, rows = read_all(path)
    assert book.kind == "xls"
    assert rows[1] == ["甲公司", "#DIV/0!", "杭州"]
    assert rows[2] == ["乙公司", "#N/A", "宁波"]        # a formula's cached error
    assert rows[3] == ["丙公司", "#VALUE!", "#REF!"]
    assert rows[4] == ["丁公司", 0, "温州"]             # a real 0 stays 0
    book = open_workbook(path, path.name)
    assert book.head("名单", 2) == [["客户名称", "金额", "城市"], ["甲公司", "#DIV/0!", "杭州"]]
    assert list(book.rows("其他"))[1] == ["戊公司", "#NULL!"]


def test_an_xls_error_cell_lands_on_its_own_cell_when_the_list_starts_at_b3(tmp_path):
    """xlrd counts rows and columns from A1, as the reader's rows do: the error is not put one
    row or column off when the sheet's data does not start at A1."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名单")
    for c, text in enumerate(("客户名称", "信贷限额", "城市"), 1):
        sheet.write(2, c, text)
    sheet.write(3, 1, "甲公司"), sheet.write(3, 2, 100), sheet.write(3, 3, "杭州")
    sheet.write(4, 1, "乙公司"), sheet.row(4).set_cell_error(2, "#DIV/0!"), sheet.write(4, 3, "宁波")
    path = tmp_path / "b3.xls"
    book.save(str(path))
    rows = list(open_workbook(path, path.name).rows("名单"))
    assert rows[3] == [None, "甲公司", 100, "杭州"]
    assert rows[4] == [None, "乙公司", "#DIV/0!", "宁波"]


def test_an_xls_without_error_cells_is_not_parsed_a_second_time(tmp_path, monkeypatch):
    """The byte search finds no error record, so xlrd's slow parse of the sheet is skipped."""
    from portal.excel import xls_errors

    path = files.xls(tmp_path / "plain.xls", [["客户名称", "金额"], ["甲公司", 0], ["乙公司", 12.5]])
    opened = []
    real = xls_errors.xlrd.open_workbook
    monkeypatch.setattr(xls_errors.xlrd, "open_workbook", lambda *a, **k: opened.append(1) or real(*a, **k))
    _, rows = read_all(path)
    assert rows[1:] == [["甲公司", 0], ["乙公司", 12.5]]
    assert opened == []
    assert xls_errors.error_cells(files.xls_formula_errors(tmp_path / "errors.xls"), "名单") and opened == [1]
    # Bytes that look like an error record in a file xlrd cannot parse: calamine's reading stands.
    odd = tmp_path / "odd.xls"
    odd.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 60 + b"\x05\x02\x08\x00" + b"\x00" * 7 + b"\x01" + b"\x00" * 64)
    assert xls_errors.error_cells(odd, "名单") == {} and opened == [1, 1]


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
def test_ods_error_cells_are_found_wherever_the_chunks_cut_the_xml(tmp_path, size):
    import zipfile

    content = zipfile.ZipFile(files.ods_formula_errors(tmp_path / "errors.ods")).read("content.xml")
    census = reader._OdsCensus(Limits(), errors_of="名单")
    for start in range(0, len(content), size):
        census.feed(content[start:start + size])
    assert census.errors == {(1, 1): "#DIV/0!", (2, 1): "Err:502", (3, 1): "#VALUE!", (3, 2): "#VALUE!"}
    assert census.sheet == "其他" and census.last_row == 2 and census.width == 2   # it counts as it did


# --- CSV in an encoding that is not Chinese -------------------------------------------------------

@pytest.mark.parametrize("text, encoding", [
    ("Name,Mobile,City\r\n台灣公司,13800000011,臺北\r\n", "big5"),
    ("客戶名稱,手機,地址\r\n台灣積體電路製造股份有限公司,0912345678,新竹科學園區力行六路8號\r\n", "big5"),
    ("顧客名,携帯\r\n株式会社テスト,13800000001\r\n", "shift_jis"),
])
def test_csv_in_big5_or_shift_jis_is_refused_not_read_as_garbled_gb18030(tmp_path, text, encoding):
    path = tmp_path / "名单.csv"
    path.write_bytes(text.encode(encoding))
    assert "does not read as Chinese" in refused(path)


def test_csv_in_gbk_with_traditional_characters_and_rare_names_is_read(tmp_path):
    text = "客戶名稱,手機,地址\r\n台灣積體電路製造股份有限公司,0912345678,新竹科學園區力行六路8號\r\n張喆,13800000002,堃\r\n"
    path = tmp_path / "名单.csv"
    path.write_bytes(text.encode("gbk"))
    _, rows = read_all(path)
    assert rows[1][0] == "台灣積體電路製造股份有限公司" and rows[2] == ["張喆", "13800000002", "堃"]


def test_cell_text_strips_invisible_characters():
    assert [cell_text(v) for v in ("甲公司\u200b", "\ufeff甲公司", " 火星\u2060\u3000")] == ["甲公司", "甲公司", "火星"]
