"""A header of two rows — a group's name (联系人, 基本信息) merged across the columns it heads —
is read as one header whose grouped columns are named ``联系人 / 姓名``; a title, a title beside
a date, or a header cell merged across two columns above a one-row header is not a group."""
from __future__ import annotations

import sqlalchemy as sa
import xlsxwriter
import xlwt

from portal.excel import importer, steps
from portal.excel.headers import grouped_name, header_cells
from portal.excel.importer import Who
from portal.excel.mapping import recognises, suggest
from portal.extensions import db
from portal.models import Contact, Customer

from .importing import staged


def known(text):
    return recognises(Customer)(text)


# Rows as the reader gives them: only a merged range's first cell holds its value.
MERGED_DOWN = [["客户名称", "手机", "联系人", None, None, "城市"],
               [None, None, "姓名", "手机", "职务", None],
               ["甲公司", "13800000001", "王伟", "13900000001", "经理", "宁波"]]
MERGED_DOWN_RANGES = [[0, 0, 1, 0], [0, 1, 1, 1], [0, 2, 0, 4], [0, 5, 1, 5]]
GROUPED = ["客户名称", "手机", "联系人 / 姓名", "联系人 / 手机", "联系人 / 职务", "城市"]


def test_names_merged_down_beside_a_group_make_one_header_found_on_either_row(app):
    with app.test_request_context():
        for found_at in (0, 1):   # the upper row as found, or the lower one as the clerk chose it
            assert header_cells(MERGED_DOWN, found_at, MERGED_DOWN_RANGES, known) == (GROUPED, 1)


def test_two_groups_side_by_side_are_a_header_when_a_group_and_its_name_name_a_field(app):
    rows = [["客户档案", None, None, None, None],
            ["基本信息", None, None, "联系人", None],
            ["客户名称", "手机", "地址", "姓名", "手机"],
            ["甲公司", "13800000001", "宁波市", "王伟", "13900000001"]]
    ranges = [[0, 0, 0, 4], [1, 0, 1, 2], [1, 3, 1, 4]]
    with app.test_request_context():
        assert header_cells(rows, 2, ranges, known) == (
            ["基本信息 / 客户名称", "基本信息 / 手机", "基本信息 / 地址", "联系人 / 姓名", "联系人 / 手机"], 2)
        # The groups' names alone name nothing: nothing says they head the columns below.
        assert header_cells(rows, 2, ranges, lambda text: False) == (rows[2], 2)


def test_a_title_a_title_beside_a_date_or_a_wide_header_cell_is_no_group(app):
    header = ["客户名称", "手机", "城市", "备注"]
    data = ["甲公司", "13800000001", "宁波", "老客户"]
    with app.test_request_context():
        title = [["客户档案表", None, None, None], header, data]
        assert header_cells(title, 1, [[0, 0, 0, 3]], known) == (header, 1)
        dated = [["客户档案表", None, "制表日期：2026-12-05", None], header, data]
        assert header_cells(dated, 1, [[0, 0, 0, 1], [0, 2, 0, 3]], known) == (header, 1)
        # 地址 merged over province and street: the next row is data, not names.
        wide = [["客户名称", "地址", None, "手机"], ["甲公司", "浙江省", "宁波市", "13800000001"]]
        assert header_cells(wide, 0, [[0, 1, 0, 2]], known) == (["客户名称", "地址", "", "手机"], 0)
        assert header_cells(MERGED_DOWN, 0, [], known) == (["客户名称", "手机", "联系人", "", "", "城市"], 0)


def test_grouped_columns_are_mapped_by_the_pair_else_by_the_lower_name_outside_the_contacts_group(app):
    headers = ["基本信息 / 客户名称", "基本信息 / 手机", "联系人 / 姓名", "联系人 / 手机", "联系人 / 职务",
               "联系人 / 城市"]
    with app.test_request_context():
        assert suggest(Customer, headers, sees_sensitive=True) == {
            "0": "name", "1": "mobile", "2": "contact.name", "3": "contact.mobile", "4": "contact.position",
            "5": None}   # a contact has no city: not the customer's city
    assert grouped_name("基本信息 / 客户名称") == ("基本信息", "客户名称")
    assert grouped_name("客户名称") is None and grouped_name(" / 客户名称") is None


def test_a_customer_list_with_a_two_row_header_is_imported_with_its_first_contacts(app, tmp_path):
    path = tmp_path / "展会名单.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("名单")
    sheet.merge_range("A1:G1", "2026 秋季展会客户名单")
    for column, name in enumerate(["客户名称", "手机", "区域"]):
        sheet.merge_range(1, column, 2, column, name)
    sheet.merge_range("D2:F2", "联系人")
    sheet.write_row("D3", ["姓名", "手机", "职务"])
    sheet.merge_range("G2:G3", "备注")
    sheet.write_row("A4", ["甲公司", "13800000001", "华东", "王伟", "13900000001", "经理", "老客户"])
    sheet.write_row("A5", ["乙公司", "13800000002", None, "李娜", "13900000002", "采购", None])
    sheet.merge_range("C4:C5", "华东")
    book.close()

    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    assert batch.header_row == 3   # the data begin after the header's second row
    assert batch.headers == ["客户名称", "手机", "区域", "联系人 / 姓名", "联系人 / 手机", "联系人 / 职务", "备注"]
    assert batch.mapping == {"0": "name", "1": "mobile", "2": "region_id", "3": "contact.name",
                             "4": "contact.mobile", "5": "contact.position", "6": None}
    assert batch.sample[1] == ["乙公司", "13800000002", "华东", "李娜", "13900000002", "采购", ""]

    # The clerk names the upper row: the same header.
    importer.choose_sheet(db.session, batch, "名单", header_row=2)
    assert batch.header_row == 3 and batch.headers[3] == "联系人 / 姓名"

    mapping = {**batch.mapping, "2": None}   # no regions in this archive
    steps.run("prepare", batch, Who(), background=False, mapping=mapping, options={"match": [], "mode": "create"})
    rows = staged(batch)
    assert sorted(rows) == [4, 5] and {r.status for r in rows.values()} == {"new"}
    steps.run("commit", batch, Who(), background=False)
    assert batch.counts["created"] == 2
    second = db.session.scalars(sa.select(Customer).filter_by(name="乙公司")).one()
    assert second.mobile == "13800000002"
    contact = db.session.scalars(sa.select(Contact).filter_by(customer_id=second.id)).one()
    assert (contact.name, contact.mobile, contact.position) == ("李娜", "13900000002", "采购")


def test_an_xls_list_with_a_two_row_header_is_read_the_same(app, tmp_path):
    """An .xls gives its merged ranges from calamine, not from the .xlsx scan: the same header."""
    path = tmp_path / "展会名单.xls"
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名单")
    sheet.write_merge(0, 0, 0, 5, "2026 秋季展会客户名单")
    sheet.write_merge(1, 2, 0, 0, "客户名称")
    sheet.write_merge(1, 2, 1, 1, "手机")
    sheet.write_merge(1, 1, 2, 4, "联系人")
    for column, name in enumerate(["姓名", "手机", "职务"], start=2):
        sheet.write(2, column, name)
    sheet.write_merge(1, 2, 5, 5, "城市")
    for column, value in enumerate(["甲公司", "13800000001", "王伟", "13900000001", "经理", "宁波"]):
        sheet.write(3, column, value)
    book.save(str(path))

    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    assert batch.header_row == 3
    assert batch.headers == GROUPED
    assert batch.mapping == {"0": "name", "1": "mobile", "2": "contact.name", "3": "contact.mobile",
                             "4": "contact.position", "5": "city"}
    assert batch.sample[0] == ["甲公司", "13800000001", "王伟", "13900000001", "经理", "宁波"]
