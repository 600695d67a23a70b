"""Big .xlsx sheets without the whole sheet in memory: the header and the sample come from the
first rows only, and the dry run reads the sheet piece by piece — with the same cells, row
numbers and refusals as a whole read."""
from __future__ import annotations

import datetime as dt
import tempfile

import pytest
import python_calamine
import sqlalchemy as sa
import xlsxwriter

from portal.excel import importer, reader, steps
from portal.excel.importer import ImportRefused, Who
from portal.excel.reader import ReadError, open_workbook
from portal.extensions import db
from portal.models import Customer, ImportRow

from . import files

ROWS = 2600   # three pieces of 1,000 rows (the fewest a piece has) when pieces are forced


def _rows() -> list[list]:
    """A title row, the header on row 3, then records with gaps (empty rows, also where a piece
    ends), sparse cells, dates, numbers, booleans, text needing XML escapes, a totals row."""
    rows: list[list] = [["2026年客户名单"], [], ["客户名称", "手机", "签约日期", "金额", "是否", "备注"]]
    for i in range(ROWS):
        if i % 997 in (5, 6):
            rows.append([])          # empty rows, some of them next to where pieces are cut
            continue
        rows.append([f"公司{i % 300} & <{i}>", 13800000000 + i, dt.date(2026, 1, 1 + i % 28),
                     round(i * 1.25, 2), i % 2 == 0, None if i % 3 else f"备注{i}"])
    rows.append(["合计", None, None, 12345.5, None, None])
    return rows


def _write(path, rows, how: str):
    if how == "openpyxl":
        return files.openpyxl_xlsx(path, [[c for c in row] for row in rows])
    return files.xlsx(path, rows, start="B2", constant_memory=(how == "inline strings"))


def _calamine_whole(path) -> list[list]:
    """The sheet as calamine reads the whole file (the reference the pieces must match)."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_name(book.sheet_names[0])
    return list(reader._calamine_rows(sheet, sheet.start[1], reader.Limits().max_cell_chars))


def _read_all(path, pieces_of: int | None, monkeypatch) -> tuple[list[list], reader.Parsed]:
    monkeypatch.setattr(reader, "PIECE_CELLS", pieces_of or 10**12)
    if pieces_of is None:   # one piece: the first rows' own piece takes the whole sheet too
        monkeypatch.setattr(reader, "FIRST_PIECE_ROWS", 10**9)
    with open_workbook(path, path.name) as book:
        rows = list(book.rows(book.first_with_data()))
        return rows, book.parsed


@pytest.mark.parametrize("how", ["shared strings", "inline strings", "openpyxl"])
def test_a_sheet_read_in_pieces_gives_every_cell_a_whole_read_gives(tmp_path, monkeypatch, how):
    path = _write(tmp_path / "big.xlsx", _rows(), how)
    whole = _calamine_whole(path)
    one_piece, parsed_whole = _read_all(path, None, monkeypatch)
    pieces, parsed = _read_all(path, 1000, monkeypatch)
    assert pieces == one_piece == whole
    assert parsed_whole.most == parsed_whole.rows >= ROWS
    # never more than a piece held at once: 1,000 rows of cells and the empty rows between them
    assert parsed.most < 1010 and ROWS <= parsed.rows
    header = reader.find_header(pieces[:40], lambda t: t == "手机")
    assert header == (3 if how == "openpyxl" else 4) - 1   # xlsxwriter's sheet starts at B2
    numbers = [n for n, _ in reader.data_rows(iter(pieces), header, 8)]
    first = header + 2                                   # Excel's row numbers, as in the sheet
    assert numbers[:6] == [first + i for i in range(5)] + [first + 7]   # 2 empty rows skipped
    assert numbers[-1] == len(whole) - 1 and len(numbers) == ROWS - 6   # the totals row dropped


@pytest.mark.parametrize("how", ["shared strings", "inline strings", "openpyxl"])
def test_the_first_rows_are_read_without_parsing_the_rest(tmp_path, monkeypatch, how):
    path = _write(tmp_path / "big.xlsx", _rows(), how)
    whole = _calamine_whole(path)
    with open_workbook(path, path.name) as book:
        head = book.head(book.first_with_data(), 40)
        assert book.parsed.rows < 50 < ROWS   # 40 rows of the XML (and the empty rows among them)
    assert head == whole[:40]   # shared strings, dates and positions as in the whole sheet


@pytest.mark.parametrize("how", ["shared strings", "inline strings"])
def test_the_first_rows_come_before_the_rest_of_the_sheet_is_parsed(tmp_path, monkeypatch, how):
    """A dry run's first chunk does not wait for a whole piece: the first rows are a piece of
    their own (reader.FIRST_PIECE_ROWS), and the rows after them are the same as a whole read."""
    path = _write(tmp_path / "big.xlsx", _rows(), how)
    monkeypatch.setattr(reader, "FIRST_PIECE_ROWS", 500)
    with open_workbook(path, path.name) as book:
        rows = book.rows(book.first_with_data())
        first = [next(rows) for _ in range(400)]
        assert book.parsed.rows < 510   # 500 rows of the XML (and the empty rows among them) only
        rest = list(rows)
        assert book.parsed.rows >= ROWS
    assert first + rest == _calamine_whole(path)


def test_temporary_pieces_are_removed(tmp_path, monkeypatch):
    path = _write(tmp_path / "big.xlsx", _rows(), "shared strings")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(reader, "PIECE_CELLS", 1000)
    with open_workbook(path, path.name) as book:
        book.head(book.first_with_data(), 40)
        rows = book.rows(book.first_with_data())
        next(rows)
        next(rows)   # half-read: the workbook's close removes the piece
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_long_cell_in_a_later_piece_names_its_own_row(tmp_path, monkeypatch):
    rows = [["名称", "手机", "备注"]] + [[f"甲{i}", str(13800000000 + i), None] for i in range(2999)]
    rows[2500][2] = "PLACEHOLDER"
    plain = files.xlsx(tmp_path / "plain.xlsx", rows, constant_memory=True)
    path = files.rewrite_member(tmp_path / "long.xlsx", plain, "xl/worksheets/sheet1.xml",
                                lambda xml: xml.replace(b"PLACEHOLDER", b"x" * 40_000))
    monkeypatch.setattr(reader, "PIECE_CELLS", 1000)
    with open_workbook(path, path.name) as book:
        assert len(book.head("Sheet1", 40)) == 40
        with pytest.raises(ReadError, match="^Row 2501, column C: the cell holds 40000 characters"):
            for _ in book.rows("Sheet1"):
                pass


def test_too_many_columns_are_refused_when_only_the_first_rows_are_asked_for(tmp_path):
    path = files.xlsx(tmp_path / "wide.xlsx", [[f"列{i}" for i in range(10_000)]], constant_memory=True)
    with open_workbook(path, path.name) as book:
        with pytest.raises(ReadError, match="10000 columns; at most 500 can be imported"):
            book.head("Sheet1", 40)


def _broken_late(tmp_path):
    """A customer sheet whose XML is broken at row 2,000: only a parser that reads that far
    can tell."""
    rows = [["客户名称", "手机", "城市"]] + [[f"客户{i}", str(13800000000 + i), "杭州"] for i in range(2500)]
    rows[2000][0] = "BROKEN"
    plain = files.xlsx(tmp_path / "plain.xlsx", rows, constant_memory=True)
    return files.rewrite_member(tmp_path / "客户.xlsx", plain, "xl/worksheets/sheet1.xml",
                                lambda xml: xml.replace(b"<t>BROKEN</t>", b"<t>BRO&KEN</t>"))   # a bare &


def test_upload_finds_the_header_and_suggests_the_mapping_from_the_first_rows_only(app, tmp_path):
    path = _broken_late(tmp_path)
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    assert batch.header_row == 1 and batch.headers == ["客户名称", "手机", "城市"]
    assert batch.mapping == {"0": "name", "1": "mobile", "2": "city"}
    assert batch.sample[0] == ["客户0", "13800000000", "杭州"]
    with pytest.raises(ImportRefused) as refused:   # the dry run reads the whole sheet
        steps.run("prepare", batch, Who(), background=False, options={"mode": "create"})
    assert str(refused.value.message) == str(reader.DAMAGED)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportRow)) == 0


def test_the_dry_run_in_pieces_stages_what_a_whole_read_stages(app, tmp_path, monkeypatch):
    rows = [["客户编号", "客户名称", "手机", "出生日期"]]
    for i in range(2300):
        rows.append([f"KH-P{i:05d}", f"客户{i}", str(13800000000 + i), dt.date(1980, 1, 1 + i % 28)])
        if i % 700 == 3:
            rows.append([])
    rows[1500][2] = "12345"   # an invalid mobile on Excel row 1,501, in the second piece
    rows.append(["合计", None, None, None])
    path = files.xlsx(tmp_path / "客户.xlsx", rows)
    staged = {}
    for label, cells in (("whole", 10**12), ("pieces", 1000)):
        monkeypatch.setattr(reader, "PIECE_CELLS", cells)
        batch = importer.upload(db.session, path, path.name, "customer", Who())
        db.session.commit()
        steps.run("prepare", batch, Who(), background=False, options={"mode": "create"})
        table = ImportRow.__table__
        staged[label] = (batch.counts, db.session.execute(
            sa.select(table.c.row_no, table.c.status, table.c["values"], table.c.errors)
            .where(table.c.batch_id == batch.id).order_by(table.c.row_no)).all())
    assert staged["pieces"] == staged["whole"]
    counts, found = staged["pieces"]
    assert counts["total"] == 2300 and counts["invalid"] == 1 and counts["new"] == 2299
    invalid = [r for r in found if r.status == "invalid"]
    assert invalid[0].row_no == 1501 and set(invalid[0].errors) == {"mobile"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def _prefixed(xml: bytes) -> bytes:
    """The sheet as some generators write it: every element with an ``x:`` prefix."""
    xml = xml.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=").replace(b"</worksheet>", b"</x:worksheet>")
    for tag in (b"sheetData", b"row", b"c", b"is", b"t", b"v", b"dimension", b"sheetViews", b"sheetView",
                b"selection", b"pane", b"sheetFormatPr", b"cols", b"col", b"pageMargins"):
        xml = xml.replace(b"<" + tag + b" ", b"<x:" + tag + b" ").replace(b"<" + tag + b">", b"<x:" + tag + b">")
        xml = xml.replace(b"<" + tag + b"/>", b"<x:" + tag + b"/>").replace(b"</" + tag + b">", b"</x:" + tag + b">")
    return xml


@pytest.mark.parametrize("change", [_prefixed, lambda xml: xml.replace(b"</row>", b"</row >")],
                         ids=["namespace prefixes", "odd closing tags"])
def test_sheets_written_with_prefixes_or_odd_closing_tags_read_the_same(tmp_path, monkeypatch, change):
    plain = _write(tmp_path / "plain.xlsx", _rows(), "inline strings")
    path = files.rewrite_member(tmp_path / "odd.xlsx", plain, "xl/worksheets/sheet1.xml", change)
    whole = _calamine_whole(plain)
    rows, _ = _read_all(path, 1000, monkeypatch)
    assert rows == whole
    with open_workbook(path, path.name) as book:
        assert book.head("Sheet1", 40) == whole[:40]


def test_a_workbook_in_the_1904_date_system_keeps_its_dates_in_pieces(tmp_path, monkeypatch):
    path = tmp_path / "mac.xlsx"
    book = xlsxwriter.Workbook(str(path), {"date_1904": True})
    sheet, date = book.add_worksheet("名单"), book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["名称", "签约日期"])
    for i in range(1, 2500):
        sheet.write(i, 0, f"甲{i}")
        sheet.write_datetime(i, 1, dt.date(2026, 1, 1) + dt.timedelta(days=i), date)
    book.close()
    rows, parsed = _read_all(path, 1000, monkeypatch)
    assert parsed.most < 1010
    assert rows[1] == ["甲1", dt.date(2026, 1, 2)] and rows[2499] == ["甲2499", dt.date(2032, 11, 4)]
    assert rows == _calamine_whole(path)
