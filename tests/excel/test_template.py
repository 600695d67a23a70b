"""Import templates from the field registry: headers (required ones marked), a comment with the
format on each header, drop-downs for choices and code tables, an example row, identifier
columns as text — real .xlsx files read back with openpyxl."""
from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from portal.excel.template import (
    OPTIONS_SHEET, TEMPLATE_ROWS, contact_header, example_row, importable_specs, template_columns, write_template,
)
from portal.extensions import db
from portal.fields import FieldType, fields_of
from portal.fields.spec import IDENTIFIER_TYPES
from portal.models import Contact, Customer, Region, Transaction, Visit


def template(app, model, **options):
    stream = io.BytesIO()
    with app.test_request_context():
        columns = write_template(stream, model, **options)
    stream.seek(0)
    book = load_workbook(stream)
    return columns, book, book.worksheets[0]


def headers(sheet) -> list[str]:
    return [cell.value for cell in sheet[1]]


def column_of(sheet, header: str) -> int:
    return headers(sheet).index(header) + 1


def font_colour(cell) -> str:
    rgb = getattr(cell.font.color, "rgb", None)
    return rgb if isinstance(rgb, str) else ""


def validation_for(sheet, header: str):
    letter = get_column_letter(column_of(sheet, header))
    found = [dv for dv in sheet.data_validations.dataValidation if str(dv.sqref).startswith(f"{letter}2:")]
    assert len(found) <= 1
    return found[0] if found else None


def test_headers_are_the_importable_fields_of_the_registry_with_required_ones_marked(app):
    columns, book, sheet = template(app, Customer)
    specs = fields_of(Customer)
    assert book.sheetnames[0] == "客户" and sheet.freeze_panes == "A2"
    assert headers(sheet) == [c.header for c in columns]
    # 客户类型 is required on the card but has a default (企业): the import does not need it.
    assert headers(sheet)[:3] == ["客户编号", "客户名称*", "客户类型"]
    names = [c.key for c in columns]
    assert "stage" not in names and "created_on" not in names and "verified_by_id" not in names  # set by the system
    assert "id_number" in names and "owner_id" in names
    assert "tags" in names  # the import fills tags too (mapping.importable): names separated by 、 , ; …
    from portal.excel.importer import required_fields

    needed = {s.name for s in required_fields(Customer)}
    for column in columns:
        spec = specs[column.key]
        assert column.header == spec.label + ("*" if spec.name in needed else "")
        assert column.header.rstrip("*") in spec.headers   # the import maps it back by its label
    required = sheet.cell(1, column_of(sheet, "客户名称*"))
    plain = sheet.cell(1, column_of(sheet, "城市"))
    assert required.font.b and font_colour(required).endswith("C00000")
    assert plain.font.b and not font_colour(plain).endswith("C00000")


def test_sensitive_fields_are_left_out_for_a_user_who_may_not_see_them(app):
    columns, _, sheet = template(app, Customer, sees_sensitive=False)
    sensitive = {s.name for s in fields_of(Customer).values() if s.sensitive}
    assert sensitive and not sensitive & {c.key for c in columns}
    assert "身份证号" not in headers(sheet) and "信贷限额" not in headers(sheet)
    assert {s.name for s in importable_specs(Customer)} - {c.key for c in columns} == sensitive


def test_every_header_has_a_comment_saying_its_format(app):
    _, _, sheet = template(app, Customer)
    for cell in sheet[1]:
        assert cell.comment is not None and cell.comment.text.startswith(cell.value.rstrip("*")), cell.value
    comment = {cell.value: cell.comment.text for cell in sheet[1]}
    assert "2024-03-02" in comment["出生日期"]
    assert "11" in comment["手机"] and "13812345678" in comment["手机"]
    assert "是/否" in comment["核心客户"] or "Yes/No" in comment["核心客户"]
    assert "200" in comment["客户名称*"]                          # its max length
    assert "0" in comment["忠诚度指数"] and "100" in comment["忠诚度指数"]  # its range
    assert fields_of(Customer)["number"].help in comment["客户编号"]   # the field's help text
    assert "A级" in comment["客户等级"]                            # the choices


def test_choice_and_yes_no_columns_have_a_drop_down_of_their_labels(app):
    _, _, sheet = template(app, Customer)
    grade = validation_for(sheet, "客户等级")
    assert grade.type == "list" and grade.formula1 == '"A级,B级,C级,D级"'
    assert str(grade.sqref) == f"{get_column_letter(column_of(sheet, '客户等级'))}2:" \
                               f"{get_column_letter(column_of(sheet, '客户等级'))}{TEMPLATE_ROWS + 1}"
    assert grade.errorStyle in (None, "stop")   # a choice must be one of the list
    assert validation_for(sheet, "核心客户").formula1 == '"是,否"'
    assert validation_for(sheet, "城市") is None


def test_code_table_relations_drop_down_the_active_names_kept_on_a_hidden_sheet(app):
    region = db.session.scalars(sa.select(Region).order_by(Region.sort_order)).first()
    region.active = False
    db.session.commit()
    _, book, sheet = template(app, Customer)
    options = book[OPTIONS_SHEET]
    assert options.sheet_state == "hidden"
    rule = validation_for(sheet, "所属地区")
    assert rule.type == "list" and rule.formula1.startswith(f"'{OPTIONS_SHEET}'!$")
    column = rule.formula1.split("!")[1].split(":")[0].replace("$", "").rstrip("0123456789")
    listed = [row[0] for row in options.iter_rows(min_col=options[column + "1"].column,
                                                  max_col=options[column + "1"].column, values_only=True) if row[0] is not None]
    active = db.session.scalars(sa.select(Region.name).where(Region.active.is_(True))).all()
    assert listed[0] == "所属地区" and sorted(listed[1:]) == sorted(active)
    assert region.name not in listed
    assert validation_for(sheet, "推荐客户") is None   # customers are typed by name or number, not listed


def test_the_example_row_has_plausible_typed_values(app):
    columns, _, sheet = template(app, Customer)
    row = {sheet.cell(1, i).value: sheet.cell(2, i) for i in range(1, len(columns) + 1)}
    assert row["手机"].value == "13812345678" and row["手机"].data_type == "s"
    assert row["身份证号"].value == "11010519491231002X"
    assert row["出生日期"].is_date and row["出生日期"].value == dt.datetime(2024, 3, 2)
    assert row["信贷限额"].value == 12800 and row["信贷限额"].data_type == "n"
    assert row["客户等级"].value == "A级" and row["客户名称*"].value
    assert row["客户编号"].value is None          # generated when left empty
    assert row["客户名称*"].font.i and sheet["A2"].comment is not None
    with app.test_request_context():
        example = example_row(Customer)
    assert example["mobile"] == "13812345678" and example["grade" if "grade" in example else "value_grade"] == "A级"


def test_identifier_columns_are_text_and_date_columns_dates(app):
    columns, _, sheet = template(app, Customer)
    for index, column in enumerate(columns, 1):
        number_format = sheet.column_dimensions[get_column_letter(index)].number_format
        if column.spec.type in IDENTIFIER_TYPES:
            assert number_format == "@", column.header
        elif column.spec.type == FieldType.DATE:
            assert number_format == "yyyy-mm-dd", column.header
    assert any(c.spec.type in IDENTIFIER_TYPES for c in columns)


def test_the_customer_template_can_hold_its_first_contact(app):
    columns, _, sheet = template(app, Customer, include_contact=True)
    contact = [c for c in columns if c.key.startswith("contact.")]
    assert contact and all(c.header.startswith("联系人") for c in contact)
    assert {"联系人姓名", "联系人手机", "联系人职务"} <= set(headers(sheet))
    by_header = {c.header: c.key for c in columns}
    assert by_header["联系人姓名"] == "contact.name" and by_header["联系人手机"] == "contact.mobile"
    assert "contact.customer_id" not in by_header.values()   # the row's customer is the contact's
    with app.test_request_context():
        assert contact_header(fields_of(Contact)["mobile"]) == "联系人手机"
    mobile = sheet.cell(2, column_of(sheet, "联系人手机"))
    assert mobile.value == "13812345678" and mobile.data_type == "s"
    assert "联系人姓名" in sheet.cell(1, column_of(sheet, "联系人姓名")).comment.text
    with pytest.raises(ValueError):
        template_columns(Contact, include_contact=True)


@pytest.mark.parametrize("model, sheet_name, first", [
    (Contact, "联系人", "客户*"), (Transaction, "交易", "交易单号"), (Visit, None, "客户*"),
])
def test_each_importable_model_has_a_template(app, model, sheet_name, first):
    columns, book, sheet = template(app, model)
    if sheet_name:
        assert book.sheetnames[0] == sheet_name
    assert headers(sheet)[0] == first
    assert [c.key for c in columns] == [s.name for s in importable_specs(model)]
    people = [c for c in columns if c.spec.type == FieldType.RELATION and c.key.endswith(("salesperson_id", "visitor_id"))]
    for column in people:   # users: a drop-down of their names
        assert validation_for(sheet, column.header).formula1.startswith(f"'{OPTIONS_SHEET}'!")


def test_the_template_in_english_has_english_headers(app):
    from flask import session
    from flask_babel import refresh

    stream = io.BytesIO()
    with app.test_request_context():
        session["locale"] = "en"   # what /lang/en leaves in the session
        refresh()
        write_template(stream, Customer, include_contact=True)
    values = headers(load_workbook(io.BytesIO(stream.getvalue())).worksheets[0])
    assert values[1] == "Name*" and "Contact Mobile" in values and "Contact Name" in values


@pytest.mark.parametrize("model", [Customer, Contact, Transaction, Visit])
def test_the_imports_mapper_reads_every_template_header_back_to_its_field(app, model):
    from portal.excel.mapping import suggest

    columns, _, sheet = template(app, model, include_contact=model is Customer)
    with app.test_request_context():
        mapping = suggest(model, headers(sheet), sees_sensitive=True)
    assert [mapping[str(i)] for i in range(len(columns))] == [c.key for c in columns]


def test_only_what_a_new_record_needs_is_marked_required(app):
    from portal.excel.importer import required_fields

    with app.test_request_context():
        columns = template_columns(Customer)
    marked = {c.key for c in columns if c.required}
    assert marked == {s.name for s in required_fields(Customer)} == {"name"}
    header = {c.key: c.header for c in columns}
    assert header["customer_type"] == "客户类型" and header["name"] == "客户名称*"


def test_the_lists_sheet_of_the_english_template_has_an_english_name(app):
    from flask import session
    from flask_babel import refresh

    stream = io.BytesIO()
    with app.test_request_context():
        session["locale"] = "en"
        refresh()
        write_template(stream, Customer)
    book = load_workbook(io.BytesIO(stream.getvalue()))
    assert book.sheetnames[1:] == ["Options"] and book["Options"].sheet_state == "hidden"
    assert "选项" not in str(book.worksheets[0].data_validations.dataValidation)
