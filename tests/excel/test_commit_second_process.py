"""The commit's new rows built in a second process (excel/commit.py ``_create_beside``,
excel/forked.py) and written here: the same sheet committed both ways gives the same records,
contacts, stage events, history and staged-row links; numbers and ids reserved beforehand are
handed out without gaps or clashes; what cannot be built there (values added to a list, tags)
is built here; a failure of either process leaves nothing of the batch."""
from __future__ import annotations

import os
import signal

import pytest
import sqlalchemy as sa

from portal.excel import commit as committing
from portal.excel import forked, importer, steps
from portal.excel.importer import Who
from portal.extensions import db
from portal.models import ChangeLog, Contact, Customer, ImportRow, Industry, LifecycleEvent

from .importing import refused_commit, sheet_file

ROWS = 2_600   # three chunks of the commit (1,000 rows each)
MAPPING = {"0": "number", "1": "name", "2": "mobile", "3": "industry_id", "4": "contact.name", "5": "birth_date",
           "6": "registered_capital", "7": "custom:展位"}
IGNORED = {"id", "number", "created_on", "changed_on", "customer_id", "object_id", "recorded_at", "at",
           "stage_since"}


def rows(prefix: str):
    found = [["客户编号", "客户名称", "手机", "行业", "联系人", "出生日期", "注册资本(元)", "展位"]]
    for i in range(ROWS):
        found.append([f"{prefix}{i:05d}" if i % 3 else None, f"并行{i:05d}商行", f"137{i:08d}",
                      "新材料" if i % 2 else "没有的行业", f"联系人{i}" if i % 4 else None,
                      f"1980年1月{i % 28 + 1}日" if i % 5 else None, f"{i * 10},000" if i % 7 else None,
                      f"B{i}" if i % 6 else None])
    return found


@pytest.fixture
def forks(monkeypatch):
    started = []
    original = forked.SecondProcess.__init__

    def counting(self, produce):
        started.append(getattr(produce, "func", produce).__name__)
        original(self, produce)

    monkeypatch.setattr(forked.SecondProcess, "__init__", counting)
    return started


def _prepared(tmp_path, prefix: str, who: Who = Who(), choices=None):
    path = sheet_file(tmp_path, rows(prefix), f"{prefix}.xlsx")
    batch = importer.upload(db.session, path, path.name, "customer", who)
    db.session.commit()
    steps.run("prepare", batch, who, background=False, mapping=MAPPING,
              options={"match": ["number"], "mode": "create", "choices": choices or {"industry_id": "empty"}})
    assert batch.counts["new"] == ROWS
    return batch


def _plain(row, *, drop=()):
    return {k: v for k, v in row._asdict().items() if k not in IGNORED and k not in drop}


def _written(batch) -> dict[int, dict]:
    """Row number → what the commit wrote for it, without ids, numbers and times."""
    table = ImportRow.__table__
    staged = db.session.execute(sa.select(table.c.row_no, table.c.written_id, table.c.contact_id,
                                          table.c.contact_created, table.c.written_version)
                                .where(table.c.batch_id == batch.id)).all()
    customers = {r.id: r for r in db.session.execute(sa.select(Customer.__table__))}
    contacts = {r.id: r for r in db.session.execute(sa.select(Contact.__table__))}
    events = {r.customer_id: r for r in db.session.execute(sa.select(LifecycleEvent.__table__))}
    history = {(r.object_type, r.object_id): r for r in db.session.execute(
        sa.select(ChangeLog.__table__).where(ChangeLog.source == f"import:{batch.id}"))}
    found = {}
    for r in staged:
        customer = customers[r.written_id]
        entry = history[("Customer", customer.id)]
        assert entry.customer_id == customer.id and events[customer.id].customer_id == customer.id
        changes = {k: v for k, v in entry.changes.items() if k != "number"}
        item = {"customer": _plain(customer), "event": _plain(events[customer.id]),
                "history": (_plain(entry, drop={"changes", "source"}), changes),
                "staged": (r.contact_created, r.written_version), "number_given": r.row_no % 3 != 2}
        if r.contact_id is not None:
            contact = contacts[r.contact_id]
            assert contact.customer_id == customer.id
            contact_entry = history[("Contact", contact.id)]
            assert contact_entry.customer_id == customer.id
            assert contact_entry.changes["customer_id"]["new"] == customer.id
            item["contact"] = (_plain(contact), {k: v for k, v in contact_entry.changes.items() if k != "customer_id"})
        found[r.row_no] = item
    return found


def test_new_rows_built_in_a_second_process_are_written_as_if_built_here(app, tmp_path, forks):
    db.session.add(Industry(code="T-NM", name="新材料"))
    for i in range(3):
        db.session.add(Customer(number=f"OLD{i}", name=f"旧客户{i}"))
    db.session.commit()
    app.config["IMPORT_WORKER_ROWS"] = 0
    here = _prepared(tmp_path, "HERE")
    steps.run("commit", here, Who(), background=False)
    assert forks == []
    app.config["IMPORT_WORKER_ROWS"] = 1
    beside = _prepared(tmp_path, "BESIDE")
    steps.run("commit", beside, Who(), background=False)
    assert forks == ["_converted", "_built"]     # the dry run and the commit each forked
    assert beside.status == "committed" and beside.counts["created"] == ROWS

    one, two = _written(here), _written(beside)
    assert one == two
    assert sum("contact" in r for r in two.values()) == ROWS * 3 // 4
    customers = db.session.scalars(sa.select(Customer).where(Customer.name.like("并行%"))).all()
    assert len(customers) == 2 * ROWS
    assert len({c.number for c in customers}) == 2 * ROWS        # numbers given out once each
    ids = sorted(c.id for c in customers)
    assert ids == list(range(ids[0], ids[0] + 2 * ROWS))         # no id left out, none twice
    sample = db.session.scalars(sa.select(Customer).filter_by(number="BESIDE00004")).one()
    assert sample.custom_fields == {"展位": "B4"} and sample.name_pinyin.startswith("bingxing")
    assert str(sample.birth_date) == "1980-01-05" and sample.industry_id is None

    steps.run("undo", beside, Who(), background=False)
    assert beside.status == "undone"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)
                             .where(Customer.number.like("BESIDE%"))) == 0


def test_a_salespersons_rows_built_there_are_their_own(app, tmp_path, forks):
    from tests.conftest import user

    app.config["IMPORT_WORKER_ROWS"] = 1
    sales = user(app, "sales")
    batch = _prepared(tmp_path, "OWN", Who(user=sales, sees_sensitive=False))
    steps.run("commit", batch, Who(user=sales, sees_sensitive=False), background=False)
    assert "_built" in forks
    owners = set(db.session.scalars(sa.select(Customer.owner_id).where(Customer.number.like("OWN%"))))
    assert owners == {sales.id}
    entry = db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch.id}")).first()
    assert entry.username == "sales"


def test_values_added_to_a_list_are_built_here(app, tmp_path, forks):
    app.config["IMPORT_WORKER_ROWS"] = 1
    batch = _prepared(tmp_path, "ADD", choices={"industry_id": "add"})
    steps.run("commit", batch, Who(), background=False)
    assert forks == ["_converted"]            # the commit built its rows here
    added = db.session.scalars(sa.select(Industry).filter_by(name="没有的行业")).one()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)
                             .where(Customer.industry_id == added.id)) == ROWS // 2


def test_a_number_taken_since_the_preview_fails_the_commit_built_there_and_leaves_nothing(app, tmp_path):
    app.config["IMPORT_WORKER_ROWS"] = 1
    batch = _prepared(tmp_path, "LATE")
    db.session.add(Customer(number=f"LATE{ROWS - 10:05d}", name="抢先的客户"))
    db.session.commit()
    refused = refused_commit(batch)
    assert refused.status_code == 409 and "必须唯一" in str(refused.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1


def test_a_second_process_killed_while_building_leaves_nothing_of_the_batch(app, tmp_path, monkeypatch):
    app.config["IMPORT_WORKER_ROWS"] = 1
    batch = _prepared(tmp_path, "KILL")
    real = committing._built

    def dies_after_a_chunk(*args):
        for number, item in enumerate(real(*args)):
            if number == 1:
                os.kill(os.getpid(), signal.SIGKILL)
            yield item

    monkeypatch.setattr(committing, "_built", dies_after_a_chunk)
    refused = refused_commit(batch)
    assert refused.status_code == 500 and "没有保存" in str(refused.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportRow)
                             .where(ImportRow.written_id.is_not(None))) == 0

