"""The commit in chunks (new rows: excel/staged_insert.py, ids taken ahead; updates: one chunk
after another): several chunks, against an archive that already holds records, give every
record its own history entry, stage event, contact and staged row; a failure in a later chunk
leaves nothing of the batch."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from portal.excel import bulk, staged_insert, steps
from portal.excel import commit as committing
from portal.excel.commit import _FastCommit
from portal.excel.importer import Who
from portal.extensions import db
from portal.models import ChangeLog, Contact, Customer, ImportRow, ImportWritten, Industry, LifecycleEvent

from .importing import prepared, refused_commit

ROWS = 2_600   # three chunks of the commit (1,000 rows each)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(staged_insert, "CHUNK", 1000)
    monkeypatch.setattr(committing, "CHUNK", 1000)


def rows():
    found = [["客户编号", "客户名称", "手机", "行业", "联系人"]]
    for i in range(ROWS):
        found.append([f"KH-P{i:05d}", f"流水{i:05d}公司", f"139{i:08d}", "软件测试业" if i % 2 else "新材料",
                      f"联系人{i:05d}"])
    return found


def test_every_chunk_gets_its_own_ids_history_events_contacts_and_staged_rows(app, tmp_path):
    db.session.add(Industry(code="T-SW", name="软件测试业"))
    for i in range(5):   # ids already taken, and one freed at the end of the table
        db.session.add(Customer(number=f"OLD{i}", name=f"旧客户{i}"))
    db.session.commit()
    db.session.delete(db.session.scalars(sa.select(Customer).filter_by(number="OLD4")).one())
    db.session.commit()
    batch = prepared(tmp_path, rows(), match=["number"], mode="create", choices={"industry_id": "add"})
    assert batch.counts["new"] == ROWS
    steps.run("commit", batch, Who(), background=False)
    assert batch.status == "committed" and batch.counts["created"] == ROWS

    customers = {c.number: c for c in db.session.scalars(sa.select(Customer).where(Customer.number.like("KH-P%")))}
    assert len(customers) == ROWS
    assert len({c.id for c in customers.values()}) == ROWS
    entries = {(e.object_type, e.object_id): e
               for e in db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch.id}"))}
    contacts = {c.customer_id: c for c in db.session.scalars(sa.select(Contact))}
    events = {e.customer_id: e for e in db.session.scalars(sa.select(LifecycleEvent))}
    staged = {r.row_no: r for r in db.session.scalars(sa.select(ImportRow).filter_by(batch_id=batch.id))}
    written = {w.row_id: w for w in db.session.scalars(sa.select(ImportWritten).filter_by(batch_id=batch.id))}
    assert len(entries) == 2 * ROWS and len(contacts) == ROWS
    for i in (0, 999, 1000, 1999, 2000, ROWS - 1):   # each side of each chunk's border
        customer = customers[f"KH-P{i:05d}"]
        entry = entries[("Customer", customer.id)]
        assert entry.customer_id == customer.id
        assert entry.changes["name"] == {"old": None, "new": f"流水{i:05d}公司"}
        assert entry.changes["mobile"]["new"] == customer.mobile == f"139{i:08d}"
        assert entry.changes["industry_id"]["new_text"] == ("软件测试业" if i % 2 else "新材料")
        assert customer.name_pinyin.startswith("liushui")
        contact = contacts[customer.id]
        assert contact.name == f"联系人{i:05d}" and contact.is_primary
        assert entries[("Contact", contact.id)].customer_id == customer.id
        assert events[customer.id].to_stage == "potential"
        row = staged[i + 2]   # the sheet's row: its header is row 1
        assert (written[row.id].record_id, written[row.id].contact_id) == (customer.id, contact.id)

    steps.run("undo", batch, Who(), background=False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_a_failure_while_a_chunk_is_written_leaves_nothing_of_the_batch(app, tmp_path):
    """A number taken after the preview (another session's card): the insert of the third chunk
    fails, and the whole batch is rolled back."""
    industries = db.session.scalar(sa.select(sa.func.count()).select_from(Industry))
    batch = prepared(tmp_path, rows(), match=["number"], mode="create", choices={"industry_id": "add"})
    db.session.add(Customer(number=f"KH-P{ROWS - 10:05d}", name="抢先的客户"))
    db.session.commit()
    refused = refused_commit(batch)
    assert refused.status_code == 409 and "必须唯一" in str(refused.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Industry)) == industries  # none added


def test_a_chunk_of_updates_is_written_in_a_second_thread_while_the_next_is_built(app, tmp_path, monkeypatch):
    """Updates in three chunks. On PostgreSQL a chunk's UPDATEs run in the writing thread while
    this one builds the next chunk (the first chunk's UPDATE waits until the second chunk is
    being built: one after the other, it would wait in vain); on SQLite one after the other,
    in this thread (its UPDATE waits in vain, briefly). What the building asks the database
    (an industry the third chunk adds to the list) and what is written through the session
    once a chunk is (the first contact of cards that had none) land either way."""
    overlapping = db.session.get_bind().dialect.name == "postgresql"
    for i in range(ROWS):
        db.session.add(Customer(number=f"KH-P{i:05d}", name=f"流水{i:05d}公司"))
    db.session.commit()
    second_built, waits, threads = threading.Event(), [], set()
    build, run = _FastCommit._build, bulk.Update.run

    def building(self, rows, looked_up):
        if rows[0]["row_no"] > 1000:
            second_built.set()
        return build(self, rows, looked_up)

    def running(self, dbapi_connection):
        if self.table.name != "customer":
            return run(self, dbapi_connection)   # the staged rows' contact ids, written in turn
        threads.add(threading.current_thread().name)
        if not waits:
            waits.append(second_built.wait(timeout=30 if overlapping else 0.5))
        return run(self, dbapi_connection)

    monkeypatch.setattr(_FastCommit, "_build", building)
    monkeypatch.setattr(bulk.Update, "run", running)
    sheet = [["客户编号", "详细地址", "行业", "联系人"]]
    for i in range(ROWS):
        sheet.append([f"KH-P{i:05d}", f"新路{i}号", "新开的行业" if i >= 2000 else None, f"联系人{i:05d}"])
    batch = prepared(tmp_path, sheet, match=["number"], mode="update", choices={"industry_id": "add"})
    assert batch.counts["update"] == ROWS
    steps.run("commit", batch, Who(), background=False)
    assert waits == [overlapping]
    if overlapping:
        assert threads and all(name.startswith("import-writes") for name in threads)
    else:
        assert threads == {threading.main_thread().name}
    assert batch.status == "committed" and batch.counts["updated"] == ROWS
    added = db.session.scalars(sa.select(Industry).filter_by(name="新开的行业")).one()
    contacts = {c.customer_id: c for c in db.session.scalars(sa.select(Contact))}
    entries = {(e.object_type, e.object_id): e
               for e in db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch.id}"))}
    staged = {r.row_no: r for r in db.session.scalars(sa.select(ImportRow).filter_by(batch_id=batch.id))}
    written = {w.row_id: w for w in db.session.scalars(sa.select(ImportWritten).filter_by(batch_id=batch.id))}
    for i in (0, 999, 1000, 1999, 2000, ROWS - 1):
        customer = db.session.scalars(sa.select(Customer).filter_by(number=f"KH-P{i:05d}")).one()
        assert customer.street == f"新路{i}号" and customer.version == 2
        assert customer.industry_id == (added.id if i >= 2000 else None)
        assert entries[("Customer", customer.id)].changes["street"] == {"old": None, "new": f"新路{i}号"}
        contact = contacts[customer.id]
        assert contact.name == f"联系人{i:05d}" and contact.is_primary
        assert entries[("Contact", contact.id)].action == "create"
        assert (written[staged[i + 2].id].record_id, written[staged[i + 2].id].contact_id) == (None, contact.id)


def _update_rows(street: str):
    found = [["客户编号", "详细地址", "展位"]]
    for i in range(ROWS):
        found.append([f"KH-P{i:05d}", f"{street}{i}号", f"Z{i}"])
    return found


def test_updates_in_several_chunks_and_a_record_changed_since_in_the_last_one_stops_them_all(app, tmp_path):
    """Updates of a customer sheet in three chunks (custom fields merged into the card's): a
    card changed after the preview, in the third chunk, stops the commit and nothing of the
    batch is written; checked again, every card is updated with its own history entry."""
    for i in range(ROWS):
        db.session.add(Customer(number=f"KH-P{i:05d}", name=f"流水{i:05d}公司", custom_fields={"来源": "展会"}))
    db.session.commit()
    mapping = {"0": "number", "1": "street", "2": "custom:展位"}
    batch = prepared(tmp_path, _update_rows("新路"), match=["number"], mode="update", mapping=mapping)
    assert batch.counts["update"] == ROWS
    late = db.session.scalars(sa.select(Customer).filter_by(number=f"KH-P{ROWS - 5:05d}")).one()
    late.name = "预览之后有人改过的名称"
    db.session.commit()
    assert refused_commit(batch).status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.street.is_not(None))) == 0

    batch = prepared(tmp_path, _update_rows("新路"), match=["number"], mode="update", mapping=mapping)
    steps.run("commit", batch, Who(), background=False)
    assert batch.status == "committed" and batch.counts["updated"] == ROWS
    entries = {e.object_id: e for e in db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch.id}"))}
    assert len(entries) == ROWS
    for i in (0, 999, 1000, 1999, 2000, ROWS - 1):
        customer = db.session.scalars(sa.select(Customer).filter_by(number=f"KH-P{i:05d}")).one()
        assert customer.street == f"新路{i}号"
        assert customer.custom_fields == {"来源": "展会", "展位": f"Z{i}"}
        assert customer.version == (3 if i == ROWS - 5 else 2)
        assert entries[customer.id].changes["street"] == {"old": None, "new": f"新路{i}号"}
        assert entries[customer.id].action == "update" and entries[customer.id].customer_id == customer.id
