"""Real spreadsheet files for the reader's tests, written the way the tools people use write them.

xlsx by xlsxwriter (as Excel lays them out) and openpyxl, xls by xlwt, ods by odfpy, CSV by the
csv module in the encodings Chinese offices save; the bad ones (cut off, encrypted, zip bombs,
impostors) are made from real files too. Each builder writes to the path it is given and
returns it.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import struct
import zipfile
from pathlib import Path
from typing import Callable, Sequence

import openpyxl
import xlsxwriter
import xlwt
from msoffcrypto.format.ooxml import OOXMLFile
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

HEADER = ["客户名称", "手机", "银行卡号", "签约日期", "金额", "备注"]
CARD = 6222021234567890123   # 19 digits: Excel keeps 6.22202E+18


def xlsx(path: Path, rows: Sequence[Sequence], *, sheet: str = "Sheet1", start: str = "A1",
         constant_memory: bool = False) -> Path:
    """One sheet with ``rows`` from ``start``; dates and datetimes as real Excel dates."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    _write_rows(book, book.add_worksheet(sheet), rows, start)
    book.close()
    return path


def workbook(path: Path, sheets: dict[str, Sequence[Sequence]], *, hidden: Sequence[str] = ()) -> Path:
    """Several sheets in the given order, each with its rows from A1; ``hidden`` ones hidden."""
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        _write_rows(book, book.add_worksheet(name), rows)
    # Excel cannot hide the active sheet (the first by default): the first visible one is.
    next(s for s in book.worksheets() if s.name not in hidden).activate()
    for sheet in book.worksheets():
        if sheet.name in hidden:
            sheet.hide()
    book.close()
    return path


def _write_rows(book, sheet, rows, start: str = "A1") -> None:
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    first_row, first_col = xlsxwriter.utility.xl_cell_to_rowcol(start)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(first_row + r, first_col + c, value, stamp)
            elif isinstance(value, dt.date):
                sheet.write_datetime(first_row + r, first_col + c, value, date)
            elif value is not None:
                sheet.write(first_row + r, first_col + c, value)


def messy_xlsx(path: Path) -> Path:
    """What a salesperson sends: an empty first sheet, a hidden list sheet, then the data with a
    merged title row, a blank row, the header on row 3, identifiers stored as numbers, a date,
    a formula with its cached value, empty rows between records and a totals row at the end."""
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("说明")
    lists = book.add_worksheet("下拉选项")
    lists.write_column("A1", ["A", "B", "C"])
    sheet = book.add_worksheet("客户名单")
    sheet.activate()
    lists.hide()
    title = book.add_format({"bold": True, "align": "center"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range("A1:F1", "2026 年展会客户名单", title)
    sheet.write_row("A3", HEADER)
    sheet.write_row("A4", ["杭州华信贸易有限公司 ", 13812345678, CARD])
    sheet.write_datetime("D4", dt.datetime(2026, 3, 2), date)
    sheet.write_number("E4", 1200.5)
    sheet.write_row("A6", ["宁波海天机械", 13987654321, "6222021234567890123"])
    sheet.write_datetime("D6", dt.datetime(2025, 12, 31), date)
    sheet.write_formula("E6", "=E4*2", None, 2401)
    sheet.write("F6", "老客户")
    sheet.write_row("A9", ["合计"])
    sheet.write_formula("E9", "=SUM(E4:E8)", None, 3601.5)
    book.close()
    return path


def chinese_dates_xlsx(path: Path) -> Path:
    """Dates in the formats Chinese Excel uses: built-in 31 (2026年3月2日), 14 (2026/3/2),
    custom 'yyyy"年"m"月"d"日"' and '[DBNum1]' (二〇二六年三月二日), plus a chart sheet."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("日期")
    formats = [31, 14, 'yyyy"年"m"月"d"日"', '[DBNum1][$-804]yyyy"年"m"月"d"日"', "m月d日"]
    sheet.write_row(0, 0, ["格式", "日期"])
    for row, number_format in enumerate(formats, 1):
        sheet.write(row, 0, str(number_format))
        sheet.write_datetime(row, 1, dt.datetime(2026, 3, 2), book.add_format({"num_format": number_format}))
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": ["日期", 1, 1, len(formats), 1]})
    book.add_chartsheet("图表").set_chart(chart)
    book.close()
    return path


def formula_errors_xlsx(path: Path, header: Sequence, last: str | None = None, *, filled_down: int = 0) -> Path:
    """A list whose second row holds formula errors as Excel saves them (their cached value):
    #N/A under the mobile, #DIV/0! under the amount, and ``last`` (a text) or #REF! in the last
    column; the third row plain; then ``filled_down`` rows of nothing but a lookup's #N/A."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    sheet.write(1, 0, "甲公司")
    sheet.write_formula(1, 1, "=VLOOKUP(A2,Sheet2!A:B,2,0)", None, "#N/A")
    sheet.write_formula(1, 2, "=1/0", None, "#DIV/0!")
    if last is None:
        sheet.write_formula(1, 3, "=#REF!", None, "#REF!")
    else:
        sheet.write(1, 3, last)
    sheet.write_row(2, 0, ["乙公司", "13800000002", 100, "宁波"])
    for row in range(3, 3 + filled_down):
        sheet.write_formula(row, 1, f"=VLOOKUP(A{row + 1},Sheet2!A:B,2,0)", None, "#N/A")
    book.close()
    return path


def openpyxl_xlsx(path: Path, rows: Sequence[Sequence], *, sheet: str = "Sheet1") -> Path:
    """A workbook as openpyxl writes it (shared strings, no cached values for formulas)."""
    book = openpyxl.Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(list(row))
    book.save(path)
    return path


def xls(path: Path, rows: Sequence[Sequence], *, sheet: str = "Sheet1", title: str | None = None) -> Path:
    """An Excel 97-2003 workbook (BIFF8) by xlwt, optionally with a merged title row above."""
    book = xlwt.Workbook(encoding="utf-8")
    target = book.add_sheet(sheet)
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    offset = 0
    if title:
        target.write_merge(0, 0, 0, max(len(r) for r in rows) - 1, title)
        offset = 1
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                target.write(r + offset, c, value, date)
            elif value is not None:
                target.write(r + offset, c, value)
    book.add_sheet("Sheet2")
    book.save(str(path))
    return path


def xls_formula_errors(path: Path, headers: Sequence[str] = ("客户名称", "金额", "城市")) -> Path:
    """An .xls with error cells as Excel saves them, each read by calamine as empty. Sheet 名单:
    甲公司 with #DIV/0! in 金额 (an error value); 乙公司 whose 金额 is a formula that failed with
    #N/A (its cached result, which xlwt cannot write, patched into the FORMULA record as Excel
    stores it); 丙公司 with #VALUE! and #REF!; 丁公司 with a real 0. Sheet 其他: one #NULL!."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名单")
    for c, header in enumerate(headers):
        sheet.write(0, c, header)
    sheet.write(1, 0, "甲公司"), sheet.row(1).set_cell_error(1, "#DIV/0!"), sheet.write(1, 2, "杭州")
    sheet.write(2, 0, "乙公司"), sheet.write(2, 1, xlwt.Formula("1/0")), sheet.write(2, 2, "宁波")
    sheet.write(3, 0, "丙公司"), sheet.row(3).set_cell_error(1, 0x0F), sheet.row(3).set_cell_error(2, "#REF!")
    sheet.write(4, 0, "丁公司"), sheet.write(4, 1, 0), sheet.write(4, 2, "温州")
    # (#VALUE! by its code: xlwt's table gives the text #NUM!'s code.)
    other = book.add_sheet("其他")
    other.write(0, 0, "客户名称"), other.write(0, 1, "金额")
    other.write(1, 0, "戊公司"), other.row(1).set_cell_error(1, "#NULL!")
    book.save(str(path))
    data = bytearray(path.read_bytes())
    # The FORMULA record (0x0006) of row 2, column 1: its result's 8 bytes follow row, column
    # and format; type 2 (an error), code 0x2A (#N/A), 0xFFFF in the last two bytes.
    found = re.search(rb"\x06\x00..\x02\x00\x01\x00", bytes(data), re.DOTALL)
    start = found.start() + 4 + 6
    data[start:start + 8] = b"\x02\x00\x2a\x00\x00\x00\xff\xff"
    path.write_bytes(bytes(data))
    return path


def ods(path: Path, rows: Sequence[Sequence], *, sheet: str = "Sheet1") -> Path:
    """An OpenDocument spreadsheet by odfpy: text and numbers."""
    document = OpenDocumentSpreadsheet()
    table = Table(name=sheet)
    for row in rows:
        element = TableRow()
        for value in row:
            if value is None:
                cell = TableCell()
            elif isinstance(value, str):
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
            else:
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
            element.addElement(cell)
        table.addElement(element)
    document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def ods_repeat_bomb(path: Path, *, rows: int, columns: int) -> Path:
    """A tiny .ods whose one cell is repeated ``columns`` times on a row repeated ``rows`` times."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="炸弹">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>名称</text:p>'
        '</table:table-cell></table:table-row>'
        f'<table:table-row table:number-rows-repeated="{rows}">'
        f'<table:table-cell table:number-columns-repeated="{columns}" office:value-type="float" '
        'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row>'
        '</table:table></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
    return path


def ods_formula_errors(path: Path, headers: Sequence[str] = ("客户名称", "金额", "城市")) -> Path:
    """An .ods whose failed formulas are written as LibreOffice writes them: the value 0 (or
    "") with calcext:value-type="error" and the text shown. Sheet 名单: 甲公司 with #DIV/0! in 金额
    and 丙公司 whose 金额 and 城市 both fail (one cell repeated); 乙公司 with Err:502 in 金额;
    sheet 其他: one #N/A."""
    def text(value):
        return (f'<table:table-cell office:value-type="string" calcext:value-type="string">'
                f'<text:p>{value}</text:p></table:table-cell>')

    def number(value):
        return (f'<table:table-cell office:value-type="float" office:value="{value}" calcext:value-type="float">'
                f'<text:p>{value}</text:p></table:table-cell>')

    def error(shown, repeat=1):
        repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
        return (f'<table:table-cell{repeated} table:formula="of:=1/0" office:value-type="float" office:value="0" '
                f'calcext:value-type="error"><text:p>{shown}</text:p></table:table-cell>')

    def row(*cells):
        return "<table:table-row>" + "".join(cells) + "</table:table-row>"

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.3">'
        '<office:body><office:spreadsheet><table:table table:name="名单">'
        + row(*(text(h) for h in headers))
        + row(text("甲公司"), error("#DIV/0!"), text("杭州"))
        + row(text("乙公司"), error("Err:502"), text("宁波"))
        + row(text("丙公司"), error("#VALUE!", repeat=2))
        + row(text("丁公司"), number(0), text("温州"))
        + '</table:table><table:table table:name="其他">'
        + row(text("客户名称"), text("金额")) + row(text("戊公司"), error("#N/A"))
        + '</table:table></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
    return path


_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '</manifest:manifest>')


def csv_file(path: Path, rows: Sequence[Sequence], *, encoding: str = "utf-8", delimiter: str = ",",
             newline: str = "\r\n") -> Path:
    """A CSV as Excel saves it ("CSV UTF-8" is encoding="utf-8-sig", plain "CSV" on a Chinese
    Windows is GB18030; "Unicode text" is UTF-16 with tabs)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator=newline)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(_encode(text.getvalue(), encoding))
    return path


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-le-bom":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if encoding == "utf-16-be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(encoding)


def encrypted_xlsx(path: Path, source: Path, password: str = "secret") -> Path:
    """``source`` encrypted with a password the way Excel does it (an OLE file holding an
    EncryptedPackage stream), by msoffcrypto-tool."""
    with open(source, "rb") as plain, open(path, "wb") as out:
        OOXMLFile(plain).encrypt(password, out)
    return path


def truncated(path: Path, source: Path) -> Path:
    """The first half of ``source``: an upload cut off in the middle."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def rewrite_member(path: Path, source: Path, member: str, change: Callable[[bytes], bytes]) -> Path:
    """``source`` with one zip member's bytes changed."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, change(data) if info.filename == member else data)
    return path


def xlsx_with_long_cell(path: Path, tmp: Path, *, chars: int, cell: str = "C5") -> Path:
    """An xlsx whose ``cell`` holds ``chars`` characters — more than Excel (and xlsxwriter or
    openpyxl) would write, so the sheet's XML is edited after writing."""
    row, col = xlsxwriter.utility.xl_cell_to_rowcol(cell)
    rows = [["名称", "手机", "备注"]] + [[None] * 3 for _ in range(row)]
    rows[row][:2] = ["甲", "13812345678"]
    rows[row][col] = "PLACEHOLDER"
    plain = xlsx(tmp / "plain-long.xlsx", rows, constant_memory=True)
    return rewrite_member(path, plain, "xl/worksheets/sheet1.xml",
                          lambda xml: xml.replace(b"PLACEHOLDER", b"x" * chars))


def without_dimension(path: Path, source: Path) -> Path:
    """``source`` with the ``<dimension>`` element removed from its first sheet (some
    generators never write one, so the reader must ask calamine for the size)."""
    return rewrite_member(path, source, "xl/worksheets/sheet1.xml",
                          lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml))


def zip_bomb_xlsx(path: Path, source: Path, *, unpacked: int = 20 * 1024 * 1024) -> Path:
    """``source`` with ``unpacked`` bytes of white space inside its first sheet: valid XML that
    deflates more than 1000 to 1."""
    padding = b" " * unpacked
    return rewrite_member(path, source, "xl/worksheets/sheet1.xml",
                          lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + padding, 1))


def lying_zip(path: Path, source: Path, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """``source`` whose ``member`` claims (in both zip headers) to unpack to 100 bytes while it
    unpacks to far more: the zip bomb that passes a check of declared sizes alone."""
    data = bytearray(source.read_bytes())
    name = member.encode()
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, 100)   # local file header
    offset = data.find(b"PK\x01\x02")                             # central directory entries
    while offset != -1:
        length = struct.unpack_from("<H", data, offset + 28)[0]
        if bytes(data[offset + 46: offset + 46 + length]) == name:
            struct.pack_into("<I", data, offset + 24, 100)
            break
        offset = data.find(b"PK\x01\x02", offset + 4)
    path.write_bytes(bytes(data))
    return path


def other_zip(path: Path) -> Path:
    """A Word document's skeleton: a zip, but not a workbook."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return path


def xlsb_like(path: Path) -> Path:
    """The parts by which an Excel binary workbook is known."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return path


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML_XLS = ("<html><head><meta charset='utf-8'></head><body><table><tr><td>客户名称</td>"
            "<td>手机</td></tr></table></body></html>").encode()
