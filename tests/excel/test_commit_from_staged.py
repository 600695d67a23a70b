"""The commit's new rows written by the database from the staged rows (excel/staged_insert.py,
staged_sql.py): what the SQL wrote for each row is what the per-record rules give for its staged
values — the columns as the ORM stores the converted values, numbers handed out without gaps or
clashes, pinyin keys, the first stage event, the first contact, and history entries equal to
``bulk.creation_changes`` of the record (relations with their texts) — chunk after chunk; a
salesperson's rows are theirs; values added to a list are added once; a number taken since the
preview leaves nothing of the batch."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.excel import bulk, importer, staged_insert, steps
from portal.excel.commit import Labels, Writer
from portal.excel.importer import Who
from portal.extensions import db
from portal.fields import fields_of
from portal.models import ChangeLog, Contact, Customer, ImportBatch, ImportRow, ImportWritten, Industry, LifecycleEvent
from portal.services import pinyin

from .importing import refused_commit, sheet_file

ROWS = 2_600   # three chunks of 1,000 rows (CHUNK is lowered to that below)
MAPPING = {"0": "number", "1": "name", "2": "mobile", "3": "industry_id", "4": "contact.name", "5": "birth_date",
           "6": "registered_capital", "7": "custom:展位", "8": "is_core", "9": "acquired_on"}
STAMPS = ("created_on", "changed_on", "created_by_id", "changed_by_id")


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(staged_insert, "CHUNK", 1000)


def rows(prefix: str):
    found = [["客户编号", "客户名称", "手机", "行业", "联系人", "出生日期", "注册资本(元)", "展位", "核心客户", "获得日期"]]
    for i in range(ROWS):
        found.append([f"{prefix}{i:05d}" if i % 3 else None, f"并行{i:05d}商行", f"137{i:08d}",
                      "新材料" if i % 2 else "没有的行业", f"联系人{i}" if i % 4 else None,
                      f"1980年1月{i % 28 + 1}日" if i % 5 else None, f"{i * 10},000" if i % 7 else None,
                      f"B{i}" if i % 6 else None, "是" if i % 8 == 0 else ("否" if i % 8 == 1 else None),
                      f"2020-02-{i % 28 + 1:02d}" if i % 9 == 0 else None])
    return found


def _prepared(tmp_path, prefix: str, who: Who = Who(), choices=None, mode="create"):
    path = sheet_file(tmp_path, rows(prefix), f"{prefix}.xlsx")
    batch = importer.upload(db.session, path, path.name, "customer", who)
    db.session.commit()
    steps.run("prepare", batch, who, background=False, mapping=MAPPING,
              options={"match": ["number"], "mode": mode, "choices": choices or {"industry_id": "empty"}})
    assert batch.counts["new"] == ROWS
    return batch


def _expected(batch: ImportBatch, staged: ImportRow, customer: Customer, contact: Contact | None):
    """(customer columns, contact columns, customer history, contact history, stage event) that
    the per-record rules give for the staged row, with the number and ids the commit gave."""
    writer = Writer(db.session, batch, Customer, Who())
    own, contact_values, custom = writer.split(staged.values)
    own = {**own, "number": own.get("number") or customer.number,
           "stage_since": own.get("acquired_on") or dt.date.today(), "custom_fields": custom or None}
    bulk.with_keys(Customer, own)
    labels = Labels(db.session, Customer)
    history = bulk.creation_changes(Customer, own, labels)
    # services/lifecycle.py open_new_customers: a new card's first stage event
    event = {"to_stage": own.get("stage") or "potential", "occurred_on": own.get("acquired_on") or dt.date.today(),
             "reason": str(_l("Card created"))}
    if contact is None:
        return own, None, history, None, event
    contact_values = {**contact_values, "customer_id": customer.id, "is_primary": True}
    bulk.with_keys(Contact, contact_values)
    contact_history = bulk.creation_changes(Contact, contact_values, Labels(db.session, Contact))
    return own, contact_values, history, contact_history, event


def _columns(record, model, expected: dict) -> None:
    table = model.__table__
    for column in table.c:
        if column.name in ("id", *STAMPS):
            continue
        value = getattr(record, column.key)
        if column.name in expected:
            assert value == expected[column.name], (column.name, value, expected[column.name])
        else:   # not in the sheet: the column's default
            default = column.default.arg if column.default is not None and column.default.is_scalar else None
            assert value == default, (column.name, value)


def test_new_rows_written_by_the_database_are_those_the_per_record_rules_give(app, tmp_path):
    db.session.add(Industry(code="T-NM", name="新材料"))
    for i in range(3):
        db.session.add(Customer(number=f"OLD{i}", name=f"旧客户{i}"))
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.max(Customer.id)))
    batch = _prepared(tmp_path, "SQL")
    steps.run("commit", batch, Who(), background=False)
    assert batch.status == "committed" and batch.counts["created"] == ROWS

    customers = {c.id: c for c in db.session.scalars(sa.select(Customer).where(Customer.name.like("并行%")))}
    contacts = {c.id: c for c in db.session.scalars(sa.select(Contact))}
    events = {e.customer_id: e for e in db.session.scalars(sa.select(LifecycleEvent))}
    entries = {(e.object_type, e.object_id): e
               for e in db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch.id}"))}
    staged = db.session.scalars(sa.select(ImportRow).filter_by(batch_id=batch.id).order_by(ImportRow.row_no)).all()
    written = {w.row_id: w for w in db.session.scalars(sa.select(ImportWritten).filter_by(batch_id=batch.id))}
    assert len(customers) == ROWS and len(staged) == ROWS == len(written)
    assert sorted(customers) == list(range(before + 1, before + ROWS + 1))   # no id left out, none twice
    assert [written[r.id].record_id for r in staged] == sorted(customers)     # in the file's order
    assert len({c.number for c in customers.values()}) == ROWS                # numbers given out once each
    assert len(entries) == ROWS + sum(1 for w in written.values() if w.contact_id)
    for row in staged:
        customer = customers[written[row.id].record_id]
        contact = contacts.get(written[row.id].contact_id)
        has_contact = bool(row.values.get("contact.name"))
        assert written[row.id].version == 1 and (written[row.id].contact_id is not None) is has_contact
        assert (contact is not None) is has_contact   # the contact noted is the one created
        own, contact_values, history, contact_history, event = _expected(batch, row, customer, contact)
        _columns(customer, Customer, own)
        assert (customer.created_by_id, customer.version) == (None, 1)
        entry = entries[("Customer", customer.id)]
        assert (entry.customer_id, entry.action, entry.username) == (customer.id, "create", None)
        assert entry.changes == history
        got = events[customer.id]
        assert (got.to_stage, got.occurred_on, got.reason, got.from_stage) == (
            event["to_stage"], event["occurred_on"], event["reason"], None)
        if row.row_no % 4 == 2:   # the rows without a contact name
            assert contact is None
            continue
        _columns(contact, Contact, contact_values)
        contact_entry = entries[("Contact", contact.id)]
        assert contact_entry.customer_id == customer.id
        assert {k: v for k, v in contact_entry.changes.items() if k != "customer_id"} == \
            {k: v for k, v in contact_history.items() if k != "customer_id"}
        # The new customer's text, where the rule reads it before the customer is written.
        assert contact_entry.changes["customer_id"] == {"old": None, "new": customer.id, "old_text": None,
                                                        "new_text": str(customer)}

    sample = db.session.scalars(sa.select(Customer).filter_by(number="SQL00004")).one()
    assert sample.custom_fields == {"展位": "B4"} and sample.name_pinyin.startswith("bingxing")
    assert (sample.name_pinyin, sample.name_initials) == pinyin.keys(sample.name)
    assert str(sample.birth_date) == "1980-01-05" and sample.industry_id is None
    assert str(sample.registered_capital) in ("40000", "40000.00")
    numbered = db.session.scalars(sa.select(Customer).where(Customer.name == "并行00003商行")).one()
    assert not numbered.number.startswith("SQL") and entries[("Customer", numbered.id)].changes["number"] == \
        {"old": None, "new": numbered.number}
    assert db.session.scalars(sa.select(Customer).filter_by(name="并行00009商行")).one().stage_since == \
        dt.date(2020, 2, 10)
    assert "stage_since" not in fields_of(Customer) or entries[("Customer", sample.id)].changes["stage_since"] == \
        {"old": None, "new": dt.date.today().isoformat()}

    steps.run("undo", batch, Who(), background=False)
    assert batch.status == "undone"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)
                             .where(Customer.name.like("并行%"))) == 0


def test_a_salespersons_new_customers_are_theirs_with_their_name_in_the_history(app, tmp_path):
    from tests.conftest import user

    sales = user(app, "sales")
    who = Who(user=sales, sees_sensitive=False)
    batch = _prepared(tmp_path, "OWN", who)
    steps.run("commit", batch, who, background=False)
    owners = set(db.session.scalars(sa.select(Customer.owner_id).where(Customer.name.like("并行%"))))
    assert owners == {sales.id}
    stamps = set(db.session.execute(sa.select(Customer.created_by_id, Customer.changed_by_id)
                                    .where(Customer.name.like("并行%"))))
    assert stamps == {(sales.id, sales.id)}
    entry = db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch.id}", object_type="Customer")
                               ).first()
    assert entry.username == "sales" and entry.user_id == sales.id
    assert entry.changes["owner_id"] == {"old": None, "new": sales.id, "old_text": None,
                                         "new_text": sales.get_full_name()}


def test_values_added_to_a_list_are_added_once_and_named_in_the_history(app, tmp_path):
    batch = _prepared(tmp_path, "ADD", choices={"industry_id": "add"})
    steps.run("commit", batch, Who(), background=False)
    added = db.session.scalars(sa.select(Industry).filter_by(name="没有的行业")).one()
    other = db.session.scalars(sa.select(Industry).filter_by(name="新材料")).one()   # not in the list either
    assert sorted(batch.added_codes["industry"]) == sorted([added.id, other.id])
    with_it = db.session.scalars(sa.select(Customer).where(Customer.industry_id == added.id)).all()
    assert len(with_it) == ROWS // 2
    entry = db.session.scalars(sa.select(ChangeLog).filter_by(object_type="Customer", object_id=with_it[0].id)).one()
    assert entry.changes["industry_id"] == {"old": None, "new": added.id, "old_text": None, "new_text": "没有的行业"}
    steps.run("undo", batch, Who(), background=False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Industry)
                             .where(Industry.name.in_(["没有的行业", "新材料"]))) == 0


def test_a_number_taken_since_the_preview_fails_the_commit_and_leaves_nothing(app, tmp_path):
    batch = _prepared(tmp_path, "LATE")
    db.session.add(Customer(number=f"LATE{ROWS - 10:05d}", name="抢先的客户"))
    db.session.commit()
    refused = refused_commit(batch)
    assert refused.status_code == 409 and "必须唯一" in str(refused.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportWritten)) == 0


def _staged_rows_read() -> int:
    """The staged rows read so far: by full scans of import_row and off its primary key."""
    db.session.execute(sa.text("SELECT pg_stat_force_next_flush()"))
    db.session.commit()   # the backend reports its counters at the end of a transaction
    found = db.session.execute(sa.text(
        "SELECT s.seq_tup_read + i.idx_tup_read FROM pg_stat_user_tables s JOIN pg_stat_user_indexes i "
        "ON i.relid = s.relid AND i.indexrelname = 'pk_import_row' WHERE s.relname = 'import_row'")).scalar_one()
    db.session.commit()
    return found


def test_each_chunk_reads_its_own_staged_rows_not_an_earlier_batchs(app, tmp_path, monkeypatch):
    """A chunk's INSERT … SELECT joins its staged rows within their range of ids: the staged
    rows read do not grow with the number of chunks, as they did when PostgreSQL's merge join
    read the primary key from its first entry (an earlier batch's rows included) or its hash
    join the whole table, for every chunk."""
    _prepared(tmp_path, "EARLY")   # its staged rows stay (its undo reads them), below the next batch's
    batch = _prepared(tmp_path, "LATER")
    monkeypatch.setattr(staged_insert, "CHUNK", 100)   # 26 chunks
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(sa.text("ANALYZE import_row"))
        before = _staged_rows_read()
    steps.run("commit", batch, Who(), background=False)
    assert batch.counts["created"] == ROWS
    if postgres:
        # The whole batch read a few times (its numbers, its list values), then each staged
        # row once for its card and once for its contact: not a table's worth per chunk.
        assert _staged_rows_read() - before <= 4 * 2 * ROWS
