"""Merged cells: only a range's first cell holds the value in the file. The reader finds the
ranges; :func:`reader.data_rows` gives a cell merged down over several rows (a region or a
salesperson beside each of their customers) to each data row of the range, as the clerk sees
it, and passes over a note or a section's title merged across the list."""
from __future__ import annotations

import openpyxl
import pytest
import python_calamine
import xlsxwriter
import xlwt

from portal.excel import reader
from portal.excel.reader import Limits, ReadError, data_rows, open_workbook

from . import files


def many_merges(path):
    """Ranges of every shape, far apart and close together, on two columns."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("名单")
    sheet.merge_range("A1:C1", "标题")
    sheet.write_row("A2", ["区域", "客户名称", "业务员"])
    row = 3
    for block in range(60):
        size = 2 + block % 4
        sheet.merge_range(f"A{row}:A{row + size - 1}", f"区域{block}")
        if block % 3 == 0:
            sheet.merge_range(f"C{row}:C{row + 1}", f"业务员{block}")
        for offset in range(size):
            sheet.write_string(f"B{row + offset}", f"客户{block}-{offset}")
        row += size
    sheet.merge_range(f"A{row}:C{row}", "备注")
    book.close()
    return path


@pytest.mark.parametrize("chunk", [1, 5, 13, 31, 64, 1024 * 1024])
def test_the_ranges_scanned_from_the_xml_are_calamines(tmp_path, monkeypatch, chunk):
    path = many_merges(tmp_path / "合并.xlsx")
    expected = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("名单").merged_cell_ranges
    monkeypatch.setattr(reader, "_CHUNK", chunk)   # tags cut at every place by the chunks' ends
    assert sorted(reader._merged_ranges(path, "xl/worksheets/sheet1.xml", "名单", 1000)) == sorted(expected)
    # Found while the upload unpacks and checks the file, or (the portal's checked copy, not
    # unpacked again) by scanning the sheet's XML when asked.
    for unpacked_before in (False, True):
        with open_workbook(path, path.name, unpacked_before=unpacked_before) as book:
            assert book._source.merges == ({} if unpacked_before else {"名单": book._source.merges["名单"]})
            merged = book.merged("名单")
        assert sorted(merged) == sorted([f[0], f[1], l[0], l[1]] for f, l in expected)
        assert [0, 0, 0, 2] in merged   # the title, merged across


def test_ranges_written_by_openpyxl_and_with_a_namespace_prefix_are_found(tmp_path):
    path = tmp_path / "openpyxl.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet.append(["区域", "客户名称"])
    sheet.append(["华东", "甲"])
    sheet.append([None, "乙"])
    sheet.merge_cells("A2:A3")
    book.save(path)
    with open_workbook(path, path.name) as opened:
        assert opened.merged("名单") == [[1, 0, 2, 0]]
    prefixed = files.rewrite_member(tmp_path / "prefixed.xlsx", path, "xl/worksheets/sheet1.xml",
                                    lambda xml: xml.replace(b"<mergeCell ", b"<x:mergeCell "))
    assert reader._merged_ranges(prefixed, "xl/worksheets/sheet1.xml", "名单", 1000) == [((1, 0), (2, 0))]


def test_an_xls_gives_its_ranges_and_csv_and_ods_none(tmp_path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("名单")
    sheet.write(0, 0, "区域")
    sheet.write(0, 1, "客户名称")
    sheet.write_merge(1, 3, 0, 0, "华北")
    for row in (1, 2, 3):
        sheet.write(row, 1, f"客户{row}")
    book.save(str(tmp_path / "名单.xls"))
    with open_workbook(tmp_path / "名单.xls", "名单.xls") as opened:
        assert opened.merged("名单") == [[1, 0, 3, 0]]
        rows = list(data_rows(opened.rows("名单"), 0, 2, opened.merged("名单")))
    assert rows == [(2, ["华北", "客户1"]), (3, ["华北", "客户2"]), (4, ["华北", "客户3"])]
    csv_path = files.csv_file(tmp_path / "名单.csv", [["区域", "客户名称"], ["华东", "甲"]])
    with open_workbook(csv_path, csv_path.name) as opened:
        assert opened.merged(opened.first_with_data()) == []
    ods_path = files.ods(tmp_path / "名单.ods", [["区域", "客户名称"], ["华东", "甲"]])
    with open_workbook(ods_path, ods_path.name) as opened:
        assert opened.merged(opened.first_with_data()) == []   # calamine reports none for .ods


def test_data_rows_fill_down_within_the_range_below_the_header_only():
    rows = [["名单", None, None],          # 1: title (a range from here down is the header's)
            ["区域", "客户", "备注"],       # 2: header
            ["华东", "甲", "老客户"],       # 3
            [None, "乙", None],            # 4
            [None, None, None],            # 5: empty: skipped, not filled
            [None, "丙", "自己填的"],       # 6
            [None, "丁", None],            # 7: after the region's range
            ["合计", None, None]]           # 8: totals, dropped
    merged = [[0, 2, 3, 2],   # from the title row down column C: not a data range
              [2, 0, 5, 0],   # A3:A6
              [2, 2, 3, 2],   # C3:C4
              [2, 5, 6, 5]]   # beyond the width
    got = list(data_rows(rows, 1, 3, merged))
    assert got == [(3, ["华东", "甲", "老客户"]), (4, ["华东", "乙", "老客户"]), (6, ["华东", "丙", "自己填的"]),
                   (7, [None, "丁", None])]
    assert rows[3] == [None, "乙", None]   # the sheet's own rows are not changed
    assert list(data_rows(rows, 1, 3)) == list(data_rows(rows, 1, 3, []))


def test_a_sheet_chosen_later_has_its_ranges_found_in_the_kept_copy(app, tmp_path):
    from portal.excel import importer, steps
    from portal.excel.importer import Who
    from portal.extensions import db

    from .importing import staged

    path = tmp_path / "两张.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("名单").write_row("A1", ["客户名称", "城市"])
    book.worksheets()[0].write_row("A2", ["甲公司", "宁波"])
    other = book.add_worksheet("补充")
    other.write_row("A1", ["城市", "客户名称"])
    other.merge_range("A2:A3", "温州")
    other.write_column("B2", ["乙公司", "丙公司"])
    book.close()
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    assert batch.sheet == "名单"
    importer.choose_sheet(db.session, batch, "补充")
    db.session.commit()
    assert [s.get("merged") for s in batch.sheets] == [[], [[1, 0, 2, 0]]]
    assert batch.sample == [["温州", "乙公司"], ["温州", "丙公司"]]
    steps.run("prepare", batch, Who(), background=False, options={"match": [], "mode": "create"})
    assert [r.values["city"] for _, r in sorted(staged(batch).items())] == ["温州", "温州"]


def test_a_note_or_a_section_title_merged_across_the_list_is_no_row():
    rows = [["区域", "客户", "手机", "城市"],
            ["华东区", None, None, None],            # 2: a section's title, A2:D2
            [None, "甲", "13900030001", "宁波"],
            [None, "乙", None, None],                # 4: a record of one name merged B4:C4, a narrow range
            ["以上为展会登记", None, None, None],      # 5: a note, A5:C5
            [None, "丙", "13900030002", "杭州"]]     # 6: a wide merge D6:… but other cells are filled
    merged = [[1, 0, 1, 3], [3, 1, 3, 1 + 1], [4, 0, 4, 2], [5, 3, 5, 5]]
    got = list(data_rows(rows, 0, 4, merged))
    assert [number for number, _ in got] == [3, 4, 6]
    assert got[1] == (4, [None, "乙", None, None])


def test_a_sheet_of_more_merged_ranges_than_the_limit_is_refused_with_a_message(tmp_path):
    path = many_merges(tmp_path / "合并.xlsx")   # 82 ranges
    with pytest.raises(ReadError, match="more than 81 merged cell ranges"):
        open_workbook(path, path.name, limits=Limits(max_merged=81))   # found on the upload's check
    with open_workbook(path, path.name, limits=Limits(max_merged=81), unpacked_before=True) as book:
        with pytest.raises(ReadError, match="名单"):
            book.merged("名单")                                          # or when asked
    with open_workbook(path, path.name, limits=Limits(max_merged=82)) as book:
        assert len(book.merged("名单")) == 82
    xls = tmp_path / "合并.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("名单")
    for row in range(0, 6, 2):
        sheet.write_merge(row, row + 1, 0, 0, f"区域{row}")
    book.save(str(xls))
    with open_workbook(xls, xls.name, limits=Limits(max_merged=2)) as opened:
        with pytest.raises(ReadError):
            opened.merged("名单")


def test_an_upload_over_the_merged_limit_is_answered_in_chinese_and_keeps_nothing(client, app, tmp_path):
    import io

    from portal.extensions import db
    from portal.models import ImportBatch
    from tests.conftest import login

    app.config["IMPORT_MAX_MERGED"] = 81
    login(client, "clerk")
    path = many_merges(tmp_path / "合并.xlsx")
    answer = client.post("/api/v1/import/customer/upload", data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                         content_type="multipart/form-data")
    assert answer.status_code == 400
    assert answer.get_json()["message"] == "工作表“名单”的合并单元格超过 81 处。请取消合并单元格后重新上传。"
    assert db.session.query(ImportBatch).count() == 0
