"""How the dry run judges rows against the archive and the file itself: keys in another case
find their record, the template's example row left in the file is skipped, a row repeated
without a key is a duplicate, every error of a row is said at once; which headers find their
field; and whose saved mapping a name is."""
from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.excel import importer, mapping, steps
from portal.excel.importer import ImportRefused, Who
from portal.excel.template import write_template
from portal.extensions import db
from portal.fields.registry import fields_of, registered_models
from portal.models import Contact, Customer, ImportMapping, Transaction, Visit

from .importing import committed, prepared, sheet_file, staged


def _customers(*rows) -> None:
    for number, name, mobile, email in rows:
        db.session.add(Customer(number=number, name=name, mobile=mobile, email=email))
    db.session.commit()


# -- keys in another case ------------------------------------------------------------------

def test_a_customer_number_in_lower_case_updates_its_customer_and_keeps_the_number(app, tmp_path):
    _customers(("KH202600001", "甲公司", "13800000001", "zhang.san@example.com"))
    batch = committed(tmp_path, [["客户编号", "客户名称", "城市"], ["kh202600001", "甲公司", "上海"]],
                      match=["number"], mode="upsert")
    assert batch.counts["update"] == 1 and batch.counts["new"] == 0
    customers = db.session.scalars(sa.select(Customer)).all()
    assert [(c.number, c.city) for c in customers] == [("KH202600001", "上海")]


def test_an_email_in_another_case_finds_its_customer_in_update_only_mode(app, tmp_path):
    _customers(("KH202600001", "甲公司", "13800000001", "zhang.san@example.com"),
               ("KH202600002", "乙公司", "13800000002", "LI.SI@EXAMPLE.COM"),
               ("KH202600003", "丙公司", "13800000003", "Wang.Wu@Example.com"))
    batch = prepared(tmp_path, [["电子邮箱", "城市"], ["Zhang.San@example.com", "北京"], ["li.si@example.com", "宁波"],
                                ["wang.wu@EXAMPLE.COM", "温州"], ["nobody@example.com", "杭州"]],
                     match=["email"], mode="update")
    rows = staged(batch)
    assert [rows[n].status for n in (2, 3, 4)] == ["update"] * 3
    assert rows[2].target_id and rows[3].target_id and rows[4].target_id
    assert "email" not in rows[2].values   # the archive's writing of the key is kept
    assert rows[5].status == "invalid" and "没有" in rows[5].errors["_row"]


def test_a_key_in_another_case_in_create_only_mode_is_a_duplicate_not_a_second_customer(app, tmp_path):
    _customers(("KH202600001", "甲公司", "13800000001", None))
    batch = prepared(tmp_path, [["客户编号", "客户名称"], ["kh202600001", "甲公司"]], match=["number"], mode="create")
    assert batch.counts["duplicate"] == 1 and batch.counts["new"] == 0
    assert "KH202600001" in staged(batch)[2].errors["_row"]


def test_a_unique_value_held_or_repeated_in_another_case_is_flagged_on_its_cell(app, tmp_path):
    for number, code in (("KH-1", "91330100MA2AAAAAAA"), ("KH-2", "91330100ma2bbbbbbb"), ("KH-3", "91330100Ma2CcCcCcC")):
        db.session.add(Customer(number=number, name=number, credit_code=code))
    db.session.commit()
    batch = prepared(tmp_path, [["客户编号", "客户名称", "统一社会信用代码"], ["KH-91", "甲", "91330100ma2aaaaaaa"],
                                ["KH-92", "乙", "91330100MA2BBBBBBB"], ["KH-93", "丙", "91330100MA2CCCCCCC"],
                                ["KH-94", "丁", "91330100MA2DDDDDDD"], ["KH-95", "戊", "91330100ma2ddddddd"]],
                     match=["number"], mode="create")
    rows = staged(batch)
    # The message gives the value as the archive holds it: what the clerk will find there.
    for number, held in ((2, "91330100MA2AAAAAAA"), (3, "91330100ma2bbbbbbb"), (4, "91330100Ma2CcCcCcC")):
        assert rows[number].status == "invalid"
        assert rows[number].errors == {"credit_code": f"统一社会信用代码“{held}”已被其他记录使用。"}
    assert rows[5].status == "new"
    assert rows[6].status == "invalid" and rows[6].errors == {"credit_code": "与第 5 行的统一社会信用代码相同。"}
    assert batch.counts["new"] == 1 and batch.counts["invalid"] == 4


def test_a_number_in_the_file_in_lower_case_is_not_handed_out_again_in_upper_case(app, tmp_path):
    year = dt.date.today().year
    committed(tmp_path, [["客户编号", "客户名称"], [f"kh{year}00001", "甲公司"], ["", "乙公司"]], match=["number"],
              mode="create")
    numbers = dict(db.session.execute(sa.select(Customer.name, Customer.number)).all())
    assert numbers == {"甲公司": f"kh{year}00001", "乙公司": f"KH{year}00002"}


# -- the template's example row ------------------------------------------------------------

def test_the_templates_example_row_left_in_the_file_is_skipped_with_its_reason(app, tmp_path):
    stream = io.BytesIO()
    with app.test_request_context():
        write_template(stream, Customer, include_contact=True, session=db.session)
    book = load_workbook(io.BytesIO(stream.getvalue()))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    for number, (name, mobile) in enumerate((("甲公司", "13800000001"), ("乙公司", "13800000002")), start=3):
        sheet.cell(number, headers.index("客户名称*") + 1).value = name
        sheet.cell(number, headers.index("手机") + 1).value = mobile
    path = tmp_path / "模板.xlsx"
    book.save(path)
    batch = importer.upload(db.session, path, path.name, "customer")
    db.session.commit()
    steps.run("prepare", batch, Who(), background=False, options={"match": ["name", "mobile"], "mode": "upsert"})
    rows = staged(batch)
    assert rows[2].status == "duplicate" and rows[2].errors == {"_row": "导入模板的示例行，不导入。"}
    assert rows[2].raw   # shown in the preview and given back by the error report
    assert batch.counts["duplicate"] == 1 and batch.counts["new"] == 2
    steps.run("commit", batch, Who(), background=False)
    assert sorted(db.session.scalars(sa.select(Customer.name))) == ["乙公司", "甲公司"]


def test_a_real_customer_with_some_of_the_examples_values_is_imported(app, tmp_path):
    batch = prepared(tmp_path, [["客户名称", "城市", "区县"], ["杭州华信贸易有限公司", "杭州市", "拱墅区"]], mode="create")
    assert batch.counts["new"] == 1


# -- rows repeated in the file -------------------------------------------------------------

def test_a_row_repeated_with_an_incomplete_key_is_a_duplicate_of_the_first(app, tmp_path):
    batch = prepared(tmp_path, [["客户名称", "手机"], ["丁公司", "13900000001"], ["丁公司", "13900000001"],
                                ["戊公司", ""], ["戊公司", ""], ["己公司", ""]], match=["name", "mobile"], mode="upsert")
    rows = staged(batch)
    assert [rows[n].status for n in range(2, 7)] == ["new", "duplicate", "new", "duplicate", "new"]
    assert rows[3].errors["_row"].startswith("与第 2 行的")   # the key's own message
    assert rows[5].errors == {"_row": "与第 4 行的内容完全相同。"}


def test_a_visit_typed_twice_is_created_once(app, tmp_path):
    _customers(("KH202600001", "甲公司", "13800000001", None))
    visit = ["甲公司", "2026/2/1", "走访", "谈续约"]
    batch = committed(tmp_path, [["客户", "日期", "方式", "拜访内容"], visit, ["甲公司", "2026/2/1", "电话", "谈续约"], visit],
                      "visit", mode="create")
    rows = staged(batch)
    assert [rows[n].status for n in (2, 3, 4)] == ["new", "new", "duplicate"]
    assert rows[4].errors == {"_row": "与第 2 行的内容完全相同。"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 2


# -- all of a row's errors ---------------------------------------------------------------

def test_an_empty_required_field_is_said_with_the_rows_other_errors(app, tmp_path):
    batch = prepared(tmp_path, [["客户名称", "手机", "电子邮箱"], ["", "123", "bad@"], ["", "13800000001", ""]],
                     match=["name", "mobile"], mode="upsert")
    rows = staged(batch)
    assert set(rows[2].errors) == {"name", "mobile", "email"} and rows[2].errors["name"] == "此项为必填项。"
    assert rows[3].errors == {"name": "此项为必填项。"}


def test_an_invalid_row_that_would_update_is_not_told_to_fill_what_an_update_does_not_need(app, tmp_path):
    _customers(("KH202600001", "甲公司", "13800000001", None))
    batch = prepared(tmp_path, [["客户编号", "客户名称", "电子邮箱"], ["KH202600001", "", "bad@"]], match=["number"],
                     mode="upsert")
    row = staged(batch)[2]
    assert row.status == "invalid" and set(row.errors) == {"email"} and row.target_id is not None


# -- headers --------------------------------------------------------------------------------

@pytest.mark.parametrize("model, header, key", [
    (Customer, "客户名称（必填）", "name"), (Customer, "手机号码(必填)", "mobile"), (Customer, "城市(选填)", "city"),
    (Customer, "Name (required)", "name"), (Customer, "E-mail (optional)", "email"), (Customer, "【必填】客户名称", "name"),
    (Customer, "Customer name", "name"), (Customer, "客户编码", "number"), (Customer, "电话号码", "phone"),
    (Customer, "邮箱地址", "email"), (Customer, "E-mail地址", "email"), (Customer, "联系地址", "street"),
    (Customer, "所在城市", "city"), (Customer, "所在省份", "province"), (Customer, "公司网址", "website"),
    (Customer, "Cellphone", "mobile"), (Contact, "Mobile phone", "mobile"), (Contact, "Cellphone", "mobile"),
    (Contact, "邮箱地址", "email"), (Visit, "客户名称", "customer_id"), (Visit, "拜访方式", "method"),
    (Visit, "拜访内容", "content"), (Transaction, "下单日期", "trade_date"),
])
def test_common_headers_find_their_field(app, model, header, key):
    assert mapping.suggest(model, [header], sees_sensitive=True) == {"0": key}


def test_a_unit_in_brackets_is_still_read_as_a_unit(app):
    assert mapping.suggest(Customer, ["注册资本(万元)"], sees_sensitive=True) == {"0": "registered_capital"}


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m.__name__)
def test_no_header_names_two_fields_of_one_model(app, model):
    named: dict[str, str] = {}
    for spec in fields_of(model).values():
        for header in spec.headers:
            text = mapping.normalise(header)
            assert named.setdefault(text, spec.name) == spec.name, (header, named[text], spec.name)


# -- saved mappings ---------------------------------------------------------------------------

def test_a_mapping_name_another_user_saved_is_refused_and_theirs_kept(app, tmp_path):
    from tests.conftest import user

    clerk, sales = user(app, "clerk"), user(app, "sales")
    rows = [["公司名称", "Cell"], ["甲公司", "13800000041"]]
    first = prepared(tmp_path, rows, who=Who(user=clerk), mode="create", match=[])
    importer.save_mapping(db.session, first, "展会名单", Who(user=clerk))
    db.session.commit()
    path = sheet_file(tmp_path, [["名称", "手机号"], ["乙公司", "13800000042"]], "业务员.xlsx")
    batch = importer.upload(db.session, path, path.name, "customer", Who(user=sales, sees_sensitive=False))
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:
        steps.run("prepare", batch, Who(user=sales, sees_sensitive=False), background=False,
                  options={"mode": "create", "match": []}, save_as="展会名单")
    assert refused.value.status_code == 409 and "展会名单" in str(refused.value.message)
    db.session.rollback()
    saved = db.session.scalars(sa.select(ImportMapping).filter_by(name="展会名单")).one()
    assert saved.owner_id == clerk.id and saved.by_header == {"公司名称": "name", "Cell": "mobile"}
    # The clerk's own mapping is theirs to overwrite.
    importer.save_mapping(db.session, first, "展会名单", Who(user=clerk))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportMapping)) == 1


@pytest.mark.parametrize("name", [{"x": 1}, ["展会"], 5])
def test_a_mapping_name_that_is_not_text_is_refused_before_the_dry_run(app, tmp_path, name):
    path = sheet_file(tmp_path, [["客户名称"], ["甲公司"]])
    batch = importer.upload(db.session, path, path.name, "customer")
    with pytest.raises(ImportRefused) as refused:
        importer.prepare(db.session, batch, options={"mode": "create", "match": []}, save_as=name)
    assert refused.value.status_code == 422 and str(refused.value.message) == "保存列对应时须填写名称。"
    assert batch.status == "uploaded"
