"""The commit and the undo: staged rows written in one transaction with the batch in every
record's history, the error report, and the batch undone as a whole (or refused, with reasons)."""
from __future__ import annotations

import datetime as dt
import os

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.excel import importer, report, steps
from portal.excel.importer import ImportRefused, Who
from portal.extensions import db
from portal.models import (
    ChangeLog, Contact, Customer, ImportBatch, Industry, LifecycleEvent, Transaction, Visit,
)

from .importing import committed, prepared, sheet_file, staged

ROWS = [["客户编号", "客户名称", "手机", "城市", "行业", "联系人", "联系人职务"],
        ["KH-C1", "甲公司", "13800000001", "杭州", "软件测试业", "王伟", "经理"],
        [None, "乙公司", "13800000002", "宁波", "量子计算", None, None],
        ["KH-C3", "丙公司", "123", "温州", None, None, None]]


@pytest.fixture
def industry(app):
    db.session.add(Industry(code="T-SW", name="软件测试业"))
    db.session.commit()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_commit_writes_the_valid_rows_with_numbers_contacts_history_and_stage_events(app, industry, tmp_path):
    batch = prepared(tmp_path, ROWS, match=["number"], mode="upsert", choices={"industry_id": "add"})
    upload = batch.stored_as
    assert os.path.exists(upload)
    steps.run("commit", batch, Who(), background=False)
    assert batch.status == "committed"
    assert batch.stored_as is None and not os.path.exists(upload)  # no copy kept once committed
    assert batch.counts["created"] == 2 and batch.counts["skipped"] == 1
    first = db.session.scalars(sa.select(Customer).filter_by(number="KH-C1")).one()
    second = db.session.scalars(sa.select(Customer).filter_by(name="乙公司")).one()
    assert second.number.startswith(f"KH{dt.date.today().year}")  # numbered from the pattern
    assert second.industry.name == "量子计算"                      # added to the code table
    assert first.name_pinyin == "jiagongsi" and first.stage == "potential" and first.version == 1
    assert [c.name for c in db.session.scalars(sa.select(Contact).filter_by(customer_id=first.id))] == ["王伟"]
    contact = db.session.scalars(sa.select(Contact).filter_by(customer_id=first.id)).one()
    assert contact.is_primary and contact.position == "经理" and contact.name_pinyin == "wangwei"
    assert [e.to_stage for e in db.session.scalars(sa.select(LifecycleEvent).filter_by(customer_id=first.id))] == \
        ["potential"]
    entries = db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch.id}")).all()
    assert {(e.object_type, e.action) for e in entries} == {("Customer", "create"), ("Contact", "create")}
    created = next(e for e in entries if e.object_id == first.id and e.object_type == "Customer")
    assert created.changes["mobile"] == {"old": None, "new": "13800000001"}
    assert created.changes["industry_id"]["new_text"] == "软件测试业"
    assert created.customer_id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer).filter_by(name="丙公司")) == 0


def test_updates_are_written_with_old_and_new_in_the_history_and_the_version_bumped(app, tmp_path):
    customer = Customer(number="KH-U1", name="甲公司", mobile="13800000001", city="杭州")
    db.session.add(customer)
    db.session.commit()
    batch = committed(tmp_path, [["客户编号", "手机", "城市"], ["KH-U1", "13900000001", "杭州"]],
                      match=["number"], mode="update")
    db.session.refresh(customer)
    assert customer.mobile == "13900000001" and customer.city == "杭州" and customer.version == 2
    entry = db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch.id}")).one()
    assert entry.action == "update" and entry.changes == {"mobile": {"old": "13800000001", "new": "13900000001"}}


def test_all_or_nothing_refuses_a_batch_with_invalid_rows(app, industry, tmp_path):
    batch = prepared(tmp_path, ROWS, match=["number"], mode="upsert", all_or_nothing=True)
    with pytest.raises(ImportRefused) as refused:
        steps.run("commit", batch, Who(), background=False)
    assert refused.value.status_code == 409
    assert count(Customer) == 0 and batch.status == "previewed"


def test_a_record_changed_after_the_preview_stops_the_commit_and_nothing_is_written(app, tmp_path):
    db.session.add_all([Customer(number="KH-S1", name="甲", mobile="13800000001"),
                        Customer(number="KH-S2", name="乙", mobile="13800000002")])
    db.session.commit()
    batch = prepared(tmp_path, [["客户编号", "手机"], ["KH-S1", "13900000001"], ["KH-S2", "13900000002"]],
                     match=["number"], mode="update")
    # someone else edits the second record meanwhile
    other = db.session.scalars(sa.select(Customer).filter_by(number="KH-S2")).one()
    other.city = "宁波"
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:
        steps.run("commit", batch, Who(), background=False)
    assert refused.value.status_code == 409
    assert str(refused.value.message) == str(_l("Records were changed by someone else since this import was checked. "
                                               "Nothing was imported; check the file again."))
    assert db.session.scalars(sa.select(Customer.mobile).filter_by(number="KH-S1")).one() == "13800000001"
    assert count(Customer) == 2
    assert db.session.get(ImportBatch, batch.id).status == "previewed"


def test_the_error_report_holds_the_original_rows_and_what_is_wrong_and_imports_again(app, industry, tmp_path):
    batch = committed(tmp_path, ROWS, match=["number"], mode="upsert")
    path = tmp_path / "errors.xlsx"
    with open(path, "wb") as stream:
        assert report.write_errors(stream, db.session, batch) == 2
    sheet = openpyxl.load_workbook(path).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == [*ROWS[0], str(_l("Row in the file")), str(_l("What is wrong"))]
    by_number = {r[0]: r for r in rows[1:]}
    assert by_number["KH-C3"][2] == "123" and by_number["KH-C3"][7] == 4
    assert "手机" in by_number["KH-C3"][8]
    assert "量子计算" in by_number[None][8]
    # fixed and imported again: the two extra columns are left unmapped
    sheet.cell(row=[r[0] for r in rows].index("KH-C3") + 1, column=3).value = "13800000003"
    sheet.cell(row=[r[0] for r in rows].index(None, 1) + 1, column=5).value = "软件测试业"
    openpyxl.load_workbook(path)  # still a workbook
    fixed = tmp_path / "fixed.xlsx"
    book = sheet.parent
    book.save(fixed)
    again = importer.upload(db.session, fixed, fixed.name, "customer")
    assert list(again.mapping.values())[7:] == [None, None]
    steps.run("prepare", again, Who(), background=False, options={"match": ["number"], "mode": "upsert"})
    assert again.counts["new"] == 2 and again.counts["invalid"] == 0


def test_undo_removes_created_records_and_restores_updated_fields(app, industry, tmp_path):
    old = Customer(number="KH-C3", name="丙公司", mobile="13800000033", city="台州")
    db.session.add(old)
    db.session.commit()
    rows = [*ROWS[:3], ["KH-C3", "丙公司", "13800000003", "温州", None, None, None]]
    batch = committed(tmp_path, rows, match=["number"], mode="upsert", choices={"industry_id": "add"})
    assert batch.counts["created"] == 2 and batch.counts["updated"] == 1
    steps.run("undo", batch, Who(), background=False)
    assert batch.status == "undone"
    assert [c.number for c in db.session.scalars(sa.select(Customer))] == ["KH-C3"]
    db.session.refresh(old)
    assert (old.mobile, old.city) == ("13800000033", "台州")
    assert count(Contact) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Industry).filter_by(name="量子计算")) == 0
    undone = db.session.scalars(sa.select(ChangeLog).filter_by(source=f"undo:import:{batch.id}")).all()
    assert {(e.object_type, e.action) for e in undone} >= {("Customer", "delete"), ("Customer", "update")}
    restored = next(e for e in undone if e.action == "update")
    assert restored.changes["city"] == {"old": "温州", "new": "台州"}


def test_undo_is_refused_with_reasons_for_records_changed_since_and_can_undo_the_rest(app, industry, tmp_path):
    from tests.conftest import user

    rows = [*ROWS, ["KH-C4", "丁公司", "13800000004", "湖州", None, None, None]]
    batch = committed(tmp_path, rows, match=["number"], mode="upsert", choices={"industry_id": "add"})
    assert batch.counts["created"] == 3
    first = db.session.scalars(sa.select(Customer).filter_by(number="KH-C1")).one()
    second = db.session.scalars(sa.select(Customer).filter_by(name="乙公司")).one()
    clerk = user(app, "clerk")
    from portal.context import acting_as

    with acting_as(clerk.id):
        first.city = "绍兴"
        db.session.commit()
    db.session.add(Visit(customer_id=second.id, visited_on=dt.date.today(), method="visit"))
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:
        steps.run("undo", batch, Who(), background=False)
    blocked = {b["id"]: b["reason"] for b in refused.value.extra["blocked"]}
    assert set(blocked) == {first.id, second.id}
    assert clerk.get_full_name() in blocked[first.id]
    assert count(Customer) == 3 and batch.status == "committed"
    # the third, untouched customer of the same batch goes with a partial undo; the two stay
    steps.run("undo", db.session.get(ImportBatch, batch.id), Who(), background=False, partial=True)
    assert sorted(c.name for c in db.session.scalars(sa.select(Customer))) == ["乙公司", "甲公司"]
    assert batch.counts["kept"] == 2 and batch.counts["removed"] == 1


def test_contacts_are_imported_into_customers_named_by_number(app, tmp_path):
    db.session.add(Customer(number="KH-P1", name="甲公司"))
    db.session.commit()
    batch = committed(tmp_path, [["客户", "姓名", "手机"], ["KH-P1", "李娜", "13800000061"],
                                 ["KH-NONE", "赵六", "13800000062"]], "contact", mode="create")
    assert batch.counts["created"] == 1 and batch.counts["invalid"] == 1
    contact = db.session.scalars(sa.select(Contact)).one()
    assert contact.customer.number == "KH-P1" and contact.name_pinyin == "lina"
    assert "KH-NONE" in staged(batch)[3].errors["customer_id"]


def test_transactions_are_imported_through_the_lifecycle_rules(app, tmp_path):
    customer = Customer(number="KH-T1", name="甲公司")
    db.session.add(customer)
    db.session.commit()
    assert customer.stage == "potential"
    batch = committed(tmp_path, [["客户编号", "交易日期", "金额"], ["KH-T1", "2026/3/2", "1,280.50"]],
                      "transaction", mode="create")
    assert batch.counts["created"] == 1
    txn = db.session.scalars(sa.select(Transaction)).one()
    assert txn.amount == pytest.approx(1280.50) and txn.trade_date == dt.date(2026, 3, 2)
    db.session.refresh(customer)
    assert customer.stage == "current"  # the first transaction makes a potential customer current
    assert db.session.scalars(sa.select(ChangeLog.source).filter_by(object_type="Transaction")).all() == \
        [f"import:{batch.id}"]


def test_custom_fields_keep_unmapped_columns(app, tmp_path):
    rows = [["客户名称", "展位"], ["甲公司", "A12"]]
    path = sheet_file(tmp_path, rows)
    batch = importer.upload(db.session, path, path.name, "customer")
    steps.run("prepare", batch, Who(), background=False, mapping={"0": "name", "1": "custom:展位"},
              options={"mode": "create", "match": []})
    steps.run("commit", batch, Who(), background=False)
    assert db.session.scalars(sa.select(Customer)).one().custom_fields == {"展位": "A12"}


def test_a_salespersons_new_customers_are_their_own(app, tmp_path):
    from tests.conftest import user

    sales = user(app, "sales")
    committed(tmp_path, [["客户名称"], ["我的新客户"]], who=Who(user=sales, sees_sensitive=False), mode="create")
    assert db.session.scalars(sa.select(Customer)).one().owner_id == sales.id


@pytest.mark.slow
def test_killing_the_process_in_the_middle_of_a_commit_leaves_all_or_none(app, tmp_path):
    """A real `flask portal import` is killed (SIGKILL) while it writes: nothing of the batch
    is in the database, and the batch is put back to be committed again."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from portal.excel import jobs

    rows = [["客户名称", "手机", "城市"]] + [[f"客户{i:05d}", f"139{i:08d}", "杭州"] for i in range(40_000)]
    path = sheet_file(tmp_path, rows)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    imports = Path(app.instance_path) / "imports"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "portal", "import", str(path),
                                "--model", "customer", "--mode", "create"],
                               cwd=Path(__file__).resolve().parents[2], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    writing = None
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None and writing is None:
        for beat in imports.glob("*/progress.json"):
            try:
                progress = json.loads(beat.read_text())
            except (OSError, ValueError):
                continue
            folder = beat.parent
            if progress["pid"] == process.pid and progress["phase"] == "writing" and progress["done"] > 0:
                writing = int(folder.name), progress
        time.sleep(0.05)
    assert writing is not None, process.communicate()[0].decode()[-2000:]
    process.send_signal(signal.SIGKILL)
    process.wait()
    batch_id, progress = writing
    assert 0 < progress["done"] < 40_000
    assert count(Customer) == 0  # not one row of the batch
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChangeLog)) == 0
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == "previewed"  # the commit's own status change never committed either
    jobs.progress_path(batch_id).write_text(json.dumps({**progress, "at": 0}))  # its last beat, long ago
    from portal.excel import steps

    steps.run("commit", batch, Who(), background=False)  # and it can be committed again
    assert count(Customer) == 40_000
