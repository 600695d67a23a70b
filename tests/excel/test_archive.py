"""The whole-archive workbook (the custodian's second copy): a sheet per registered model with
every described field, unmasked for who may see it, refused to everyone else, logged."""
from __future__ import annotations

import io
import json

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.excel.archive import archive_command, archived_models, model_labels, write_archive
from portal.excel.limits import ExportRules
from portal.extensions import db
from portal.fields import fields_of
from portal.models import AccessLog, Contact, Customer, Tag, TransactionLine
from tests.conftest import login


def export_entries() -> list[AccessLog]:
    return db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "export")).all()


def test_the_archive_is_refused_to_a_clerk_and_to_the_auditor(demo_app):
    for username in ("clerk", "auditor", "sales2"):
        client = login(demo_app.test_client(), username)
        assert client.get("/archive-export/").status_code == 403, username
        assert client.get("/archive-export/download").status_code == 403, username
        assert "/archive-export/" not in client.get("/customerview/list/").text   # no menu entry
    assert export_entries() == []


def test_the_custodian_takes_every_model_as_a_sheet_with_every_field_unmasked_and_it_is_logged(demo_app):
    custodian = login(demo_app.test_client(), "custodian")
    page = custodian.get("/archive-export/")
    assert page.status_code == 200 and 'id="archive-download"' in page.text
    assert "/archive-export/" in custodian.get("/customerview/list/").text   # in the menu

    response = custodian.get("/archive-export/download")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    labels = model_labels()
    assert book.sheetnames == [labels.get(m, m.__name__) for m in archived_models()]
    assert book.sheetnames[:4] == ["客户", "联系人", "交易", "交易明细"]
    assert {m.__name__ for m in archived_models()}.isdisjoint({"AccessLog", "ChangeLog"})   # audit: kept by backups

    customers = book["客户"]
    header, *rows = [list(r) for r in customers.iter_rows(values_only=True)]
    assert header == ["ID", *[s.label for s in fields_of(Customer).values()]]
    assert len(rows) == db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    by_id = {c.id: c for c in db.session.scalars(sa.select(Customer))}
    ids, id_numbers = header.index("ID"), header.index("身份证号")
    accounts = header.index("银行账号")
    unmasked = [(r[id_numbers], by_id[r[ids]].id_number) for r in rows if r[id_numbers]]
    assert unmasked and all(shown == stored for shown, stored in unmasked)
    assert all(r[accounts] == by_id[r[ids]].bank_account for r in rows if r[accounts])

    lines = [list(r) for r in book["交易明细"].iter_rows(values_only=True)]
    assert len(lines) - 1 == db.session.scalar(sa.select(sa.func.count()).select_from(TransactionLine))
    contacts = [list(r) for r in book["联系人"].iter_rows(values_only=True)]
    contact = db.session.get(Contact, contacts[1][0])
    assert contacts[1][contacts[0].index("客户")] == str(contact.customer)   # the customer by number and name

    [entry] = export_entries()
    detail = json.loads(entry.detail)
    assert (entry.username, entry.object_type) == ("custodian", "Archive")
    assert detail["kind"] == "archive" and detail["sheets"]["客户"] == len(rows)
    assert entry.row_count == sum(detail["sheets"].values())
    assert set(detail["sheets"]) == set(book.sheetnames)


def test_without_the_right_to_see_sensitive_fields_they_stay_masked(demo_app):
    with demo_app.app_context():
        stream = io.BytesIO()
        write_archive(stream, db.session, rules=ExportRules(), sees_sensitive=False)
    sheet = load_workbook(io.BytesIO(stream.getvalue()), read_only=True)["客户"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    column = header.index("身份证号")
    shown = [r[column] for r in rows if r[column]]
    assert shown and all("*" in value for value in shown)


def test_many_to_many_fields_are_their_labels_and_a_role_cap_refuses_the_archive(app):
    tags = db.session.scalars(sa.select(Tag).order_by(Tag.sort_order).limit(2)).all()
    customer = Customer(name="标签测试公司", customer_type="org", tags=tags)
    db.session.add(customer)
    db.session.commit()
    stream = io.BytesIO()
    sheets = write_archive(stream, db.session, rules=ExportRules(), sees_sensitive=True)
    sheet = load_workbook(io.BytesIO(stream.getvalue()), read_only=True)["客户"]
    header, row = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert row[header.index("标签")] == "、".join(t.name for t in tags)
    assert sheets["客户"] == 1

    import pytest

    from portal.excel.limits import ExportRefused

    with pytest.raises(ExportRefused):
        write_archive(io.BytesIO(), db.session, rules=ExportRules(max_rows=0), sees_sensitive=True)


def test_the_archive_command_writes_a_complete_file_and_logs_it(demo_app, tmp_path):
    target = tmp_path / "副本.xlsx"
    result = demo_app.test_cli_runner().invoke(archive_command, [str(target)])
    assert result.exit_code == 0, result.output
    assert "客户:" in result.output and target.exists() and not (tmp_path / "副本.xlsx.part").exists()
    book = load_workbook(target, read_only=True)
    rows = sum(1 for _ in book["客户"].iter_rows()) - 1
    assert rows == db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    [entry] = export_entries()
    assert entry.username.startswith("cli:") and json.loads(entry.detail)["kind"] == "archive"


def test_a_model_no_view_lists_is_named_by_its_one_section_in_either_language(app):
    from flask_babel import force_locale

    from portal.models import ReminderDone

    assert model_labels()[ReminderDone] == "已办提醒"
    sheets = write_archive(io.BytesIO(), db.session, rules=ExportRules(), sees_sensitive=True)
    assert "已办提醒" in sheets and "ReminderDone" not in sheets
    with app.test_request_context(), force_locale("en"):
        labels = model_labels()
        assert labels[ReminderDone] == "Reminder done"
        assert all(labels[m] != m.__name__ for m in archived_models())   # every sheet has a name in words
    assert all(model_labels()[m] != m.__name__ for m in archived_models())
