"""The dry run: a messy real workbook read, mapped by the registry's labels and aliases, each
row judged and staged — and nothing of the archive written."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.excel import importer, steps
from portal.excel.importer import ImportRefused, Who
from portal.extensions import db
from portal.models import ChangeLog, Contact, Customer, ImportMapping, Industry

from .files import csv_file
from .importing import prepared, sheet_file, staged

MESSY = [
    ["2026年春季展会客户名单"],                      # a merged title row above the header
    ["客户名称", "手机号码", "省", "生日", "注册资本", "邮编", "电话 ", "联系人姓名", "联系人手机", "展位备注"],
    ["杭州青山贸易有限公司 ", "１３８ １２３４ ５６７８", "浙江", "1985年3月2日", "1,200,000", 310000,
     "0571-8812 3456", "王伟", 13900001111, "A12"],
    [None, None, None, None, None, None, None, None, None, None],
    ["上海蓝海科技", 13812345679, "上海市", dt.date(1990, 5, 6), 500000, "200000", None, None, None, None],
    ["坏数据公司", "12345", "火星", "1985-13-45", "很多", "1000", None, None, None, None],
    ["合计", None, None, None, "1,700,000", None, None, None, None, None],
]


def test_a_messy_workbook_is_read_mapped_and_judged_row_by_row_without_writing(app, tmp_path):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    batch = prepared(tmp_path, MESSY, mode="create")
    assert batch.header_row == 2
    assert batch.mapping == {"0": "name", "1": "mobile", "2": "province", "3": "birth_date",
                             "4": "registered_capital", "5": "postcode", "6": "phone", "7": "contact.name",
                             "8": "contact.mobile", "9": None}
    assert batch.counts == {"new": 2, "update": 0, "unchanged": 0, "invalid": 1, "duplicate": 0, "total": 3}
    rows = staged(batch)
    assert sorted(rows) == [3, 5, 6]  # Excel's row numbers: the blank row and the totals row are not data
    first = rows[3].values
    assert first["name"] == "杭州青山贸易有限公司"
    assert first["mobile"] == "13812345678"          # full-width digits and spaces
    assert first["province"] == "浙江省"              # 浙江, as sheets leave it
    assert first["birth_date"] == "1985-03-02"        # 1985年3月2日
    assert first["registered_capital"] == "1200000.00"
    assert first["postcode"] == "310000"              # a number cell kept as the identifier's text
    assert first["phone"] == "0571-88123456"
    assert first["contact.name"] == "王伟" and first["contact.mobile"] == "13900001111"
    assert rows[5].values["birth_date"] == "1990-05-06"  # a real Excel date
    bad = rows[6]
    assert bad.status == "invalid"
    assert set(bad.errors) == {"mobile", "province", "birth_date", "registered_capital", "postcode"}
    assert "手机" in bad.errors["mobile"] and "13812345678" in bad.errors["mobile"]
    assert bad.raw[0] == "坏数据公司"
    # nothing written to the archive
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChangeLog)) == 0


def test_updates_show_old_and_new_per_field_and_unchanged_rows_are_told_apart(app, tmp_path):
    db.session.add_all([Customer(number="KH-A1", name="甲公司", mobile="13800000001", city="杭州"),
                        Customer(number="KH-A2", name="乙公司", mobile="13800000002", city="宁波")])
    db.session.commit()
    batch = prepared(tmp_path, [["客户编号", "客户名称", "手机", "城市"],
                                ["KH-A1", "甲公司", "13800000009", "杭州"],
                                ["KH-A2", "乙公司", "13800000002", None],   # an empty cell leaves the city
                                ["KH-A3", "丙公司", None, "温州"]],
                     match=["number"], mode="upsert")
    assert batch.counts["update"] == 1 and batch.counts["unchanged"] == 1 and batch.counts["new"] == 1
    rows = staged(batch)
    assert rows[2].status == "update"
    # The values only: the preview shows them as the card does (test_import_api.py).
    assert rows[2].diff == {"mobile": {"old": "13800000001", "new": "13800000009"}}
    assert rows[2].values == {"mobile": "13800000009"}
    assert rows[2].target_label == "KH-A1 甲公司"
    assert rows[3].status == "unchanged"


def test_an_update_diff_lists_its_fields_in_the_sheets_order_whoever_keeps_them(app, tmp_path):
    """A sheet mixing the card's own columns, a custom field and the first contact's name: the
    changed ones are found wherever their old value is kept, and listed in the sheet's order."""
    customer = Customer(number="KH-O1", name="甲公司", city="杭州", mobile="13800000071",
                        custom_fields={"展位": "A1", "来源": "展会"})
    db.session.add(customer)
    db.session.flush()
    db.session.add(Contact(customer_id=customer.id, name="张三", is_primary=True))
    db.session.commit()
    batch = prepared(tmp_path, [["展位", "城市", "联系人姓名", "客户编号", "手机", "客户名称"],
                                ["B2", "宁波", "李四", "KH-O1", "13800000071", None]],
                     match=["number"], mode="update",
                     mapping={"0": "custom:展位", "1": "city", "2": "contact.name", "3": "number", "4": "mobile",
                              "5": "name"})
    row = staged(batch)[2]
    assert row.status == "update"
    ordered = list if db.session.get_bind().dialect.name == "sqlite" else sorted   # JSONB keeps no key order
    assert ordered(row.diff) == ordered(["custom:展位", "city", "contact.name"])
    assert row.diff["custom:展位"]["old"] == "A1" and row.diff["custom:展位"]["new"] == "B2"
    assert row.diff["city"]["old"] == "杭州" and row.diff["contact.name"]["old"] == "张三"
    assert ordered(row.values) == ordered(["custom:展位", "city", "contact.name", "_contact_version"])


def test_duplicates_within_the_file_and_create_only_update_only(app, tmp_path):
    db.session.add(Customer(number="KH-B1", name="旧客户", mobile="13800000011"))
    db.session.commit()
    rows = [["客户名称", "手机"], ["新客户", "13800000012"], ["新客户", "13800000012"], ["旧客户", "13800000011"]]
    both = prepared(tmp_path, rows, match=["name", "mobile"], mode="upsert")
    found = staged(both)
    assert found[3].status == "duplicate"
    assert found[3].errors == {"_row": str(_l("Same %(key)s as row %(row)s.", key=_l("Name and mobile"), row=2))}
    assert found[4].status == "unchanged"
    create_only = prepared(tmp_path, rows, match=["name", "mobile"], mode="create")
    assert staged(create_only)[4].status == "duplicate"
    assert "KH-B1" in staged(create_only)[4].errors["_row"]
    update_only = prepared(tmp_path, rows, match=["name", "mobile"], mode="update")
    assert staged(update_only)[2].status == "invalid"
    assert update_only.counts["new"] == 0


def test_choice_and_code_table_values_not_in_the_list_rejected_emptied_or_added(app, tmp_path):
    db.session.add(Industry(code="T-SW", name="软件测试业"))
    db.session.commit()
    rows = [["客户名称", "行业", "客户等级"], ["甲", "软件测试业", "A"], ["乙", "量子计算", "Z"]]
    rejected = prepared(tmp_path, rows, mode="create")
    errors = staged(rejected)[3].errors
    assert set(errors) == {"industry_id", "value_grade"}
    emptied = prepared(tmp_path, rows, mode="create", choices={"industry_id": "empty", "value_grade": "empty"})
    assert emptied.counts["new"] == 2
    assert "industry_id" not in staged(emptied)[3].values
    added = prepared(tmp_path, rows, mode="create", choices={"industry_id": "add", "value_grade": "empty"})
    assert staged(added)[3].values["industry_id"] == "new:量子计算"
    with pytest.raises(ImportRefused):  # a fixed choice list cannot grow
        prepared(tmp_path, rows, mode="create", choices={"value_grade": "add"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Industry).where(Industry.name == "量子计算")) == 0


def test_an_unusable_mapping_is_refused_with_a_message_and_nothing_staged(app, tmp_path):
    rows = [["手机", "城市"], ["13800000001", "杭州"]]
    path = sheet_file(tmp_path, rows)
    batch = importer.upload(db.session, path, path.name, "customer")
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:  # new customers need a name
        steps.run("prepare", batch, Who(), background=False, options={"mode": "create", "match": []})
    assert "客户名称" in str(refused.value.message)
    with pytest.raises(ImportRefused):  # one field, two columns
        steps.run("prepare", batch, Who(), background=False, mapping={"0": "mobile", "1": "mobile"})
    with pytest.raises(ImportRefused):  # updating needs a match key
        steps.run("prepare", batch, Who(), background=False, options={"mode": "update", "match": []})
    assert batch.status == "uploaded"


def test_a_salesperson_cannot_map_a_masked_field(app, tmp_path):
    from portal.security.permissions import current_user  # noqa: F401
    from tests.conftest import user

    sales = user(app, "sales")
    rows = [["客户名称", "身份证号"], ["张三", "11010519491231002X"]]
    path = sheet_file(tmp_path, rows)
    who = Who(user=sales, sees_sensitive=False)
    batch = importer.upload(db.session, path, path.name, "customer", who)
    assert batch.mapping["1"] is None  # not even suggested
    with pytest.raises(ImportRefused):
        steps.run("prepare", batch, who, background=False, mapping={"0": "name", "1": "id_number"},
                  options={"mode": "create", "match": []})


def test_matching_stays_within_the_row_scope(app, tmp_path):
    from tests.conftest import user

    sales, other = user(app, "sales"), user(app, "sales2")
    db.session.add(Customer(number="KH-S1", name="别人的客户", mobile="13800000021", owner_id=other.id))
    db.session.commit()
    who = Who(user=sales, sees_sensitive=False)
    batch = prepared(tmp_path, [["客户编号", "客户名称"], ["KH-S1", "改名"]], who=who, match=["number"],
                     mode="upsert")
    row = staged(batch)[2]
    # Not matched (out of reach), and the number is taken: refused without showing the record.
    assert row.status == "invalid" and row.target_id is None
    assert "别人的客户" not in str(row.errors)


def test_csv_in_gb18030_with_semicolons_is_read(app, tmp_path):
    path = csv_file(tmp_path / "名单.csv", [["客户名称", "手机"], ["深圳某某电子", "13800000031"]],
                    encoding="gb18030", delimiter=";")
    batch = importer.upload(db.session, path, path.name, "customer")
    steps.run("prepare", batch, Who(), background=False, options={"mode": "create", "match": []})
    assert batch.counts["new"] == 1
    assert next(iter(staged(batch).values())).values == {"name": "深圳某某电子", "mobile": "13800000031"}


def test_a_saved_mapping_is_reused_by_name_on_the_next_upload(app, tmp_path):
    rows = [["公司", "Cell", "展位"], ["甲公司", "13800000041", "A1"]]
    path = sheet_file(tmp_path, rows)
    batch = importer.upload(db.session, path, path.name, "customer")
    steps.run("prepare", batch, Who(), background=False, mapping={"0": "name", "1": "mobile", "2": "custom:展位"},
              options={"mode": "create", "match": []}, save_as="展会名单")
    saved = db.session.scalars(sa.select(ImportMapping).filter_by(name="展会名单")).one()
    assert saved.by_header == {"公司": "name", "Cell": "mobile", "展位": "custom:展位"}
    again = importer.upload(db.session, path, path.name, "customer", mapping_id=saved.id)
    assert again.mapping == {"0": "name", "1": "mobile", "2": "custom:展位"}
    assert again.options["mode"] == "create"


def test_a_customer_sheet_with_its_first_contact_needs_the_contacts_name(app, tmp_path):
    batch = prepared(tmp_path, [["客户名称", "联系人手机"], ["甲公司", "13800000051"]], mode="create")
    row = next(iter(staged(batch).values()))
    assert row.status == "invalid" and set(row.errors) == {"contact.name"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


@pytest.mark.parametrize("resource", ["customer", "contact", "transaction", "visit"])
def test_every_column_of_the_import_template_maps_back_to_its_field(app, tmp_path, resource):
    from portal.excel.template import write_template
    from portal.grid.resources import resource_named

    path = tmp_path / f"{resource}.xlsx"
    with open(path, "wb") as stream:
        columns = write_template(stream, resource_named(resource).model, include_contact=resource == "customer",
                                 session=db.session)
    batch = importer.upload(db.session, path, path.name, resource)
    assert batch.header_row == 1
    assert None not in batch.mapping.values(), {batch.headers[int(i)]: k for i, k in batch.mapping.items()}
    assert len(batch.mapping) == len(columns)


def merged_workbook(path):
    """A list as offices lay it out: the title merged across, the city merged down beside its
    customers, the type merged down over two rows, and a note merged across one row."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("名单")
    sheet.merge_range("A1:D1", "2026 秋季展会名单")
    sheet.write_row("A2", ["客户名称", "城市", "手机", "客户类型"])
    for row, (name, mobile) in enumerate([("甲公司", "13900020001"), ("乙公司", "13900020002"),
                                          ("丙公司", "13900020003"), ("丁公司", "13900020004"),
                                          ("戊公司", "13900020005")], 3):
        sheet.write_string(f"A{row}", name)
        sheet.write_string(f"C{row}", mobile)
    sheet.merge_range("B3:B5", "宁波")
    sheet.merge_range("B6:B7", "温州")
    sheet.merge_range("D3:D4", "企业")
    sheet.write_string("D5", "个人")
    sheet.merge_range("A9:D9", "以上为展会当天登记")   # a note merged across: one filled cell, not a list row
    book.close()
    return path


def test_a_cell_merged_down_over_rows_is_given_to_each_of_them_and_a_note_across_is_no_row(app, tmp_path):
    path = merged_workbook(tmp_path / "合并单元格.xlsx")
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    assert batch.header_row == 2 and batch.mapping == {"0": "name", "1": "city", "2": "mobile", "3": "customer_type"}
    assert [r[1] for r in batch.sample[:3]] == ["宁波", "宁波", "宁波"]
    steps.run("prepare", batch, Who(), background=False, options={"match": [], "mode": "create"})
    rows = staged(batch)
    # Row 9, the note merged across the list, is not a customer.
    assert sorted(rows) == [3, 4, 5, 6, 7] and batch.counts["new"] == 5 and batch.counts["total"] == 5
    assert [rows[n].values["city"] for n in (3, 4, 5, 6, 7)] == ["宁波", "宁波", "宁波", "温州", "温州"]
    assert [rows[n].values.get("customer_type") for n in (3, 4, 5, 6, 7)] == ["org", "org", "person", None, None]


def test_dates_with_a_time_of_day_as_excel_saves_them_to_csv_are_dates(app, tmp_path):
    """A date column formatted with a time (or exported so by another system) reaches a CSV as
    1985/3/2 0:00; the date is taken, and a wrong time is still an error on its cell."""
    path = csv_file(tmp_path / "导出.csv", [["客户名称", "出生日期", "获取日期"],
                                            ["甲公司", "1985/3/2 0:00", "2024-03-02 14:30:05"],
                                            ["乙公司", "1990年5月6日 0:00", "2024/3/2 25:00"]],
                    encoding="gb18030")
    batch = importer.upload(db.session, path, path.name, "customer")
    steps.run("prepare", batch, Who(), background=False, options={"mode": "create", "match": []})
    rows = staged(batch)
    assert rows[2].status == "new"
    assert rows[2].values == {"name": "甲公司", "birth_date": "1985-03-02", "acquired_on": "2024-03-02"}
    assert rows[3].status == "invalid" and set(rows[3].errors) == {"acquired_on"}
