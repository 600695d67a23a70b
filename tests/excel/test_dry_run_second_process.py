"""The dry run with its reading and converting in a second process (excel/forked.py): the
dry-run and tag tests again, every sheet converted there (IMPORT_WORKER_ROWS = 1), so both
ways judge and stage alike; the same rich sheet staged both ways, row for row; and what the
clerk is told when that process cannot read the file or stops."""
from __future__ import annotations

import os
import signal
import threading

import pytest
import sqlalchemy as sa

from portal.excel import bulk, forked, importer, steps
from portal.excel.importer import ImportRefused, Who
from portal.extensions import db
from portal.models import Customer, ImportBatch, ImportRow, Industry

from .importing import sheet_file, staged
from .test_import_dry_run import *  # noqa: F401,F403 — each of them again, converted in a second process
from .test_import_tags import *  # noqa: F401,F403


@pytest.fixture
def app(database, template):
    from tests.conftest import _app_on_copy

    for portal in _app_on_copy(database, template):
        portal.config["IMPORT_WORKER_ROWS"] = 1
        yield portal


@pytest.fixture(autouse=True)
def forks(monkeypatch, app):
    """Count the second processes started: these tests are only worth it if every dry run
    forked (checked once the test is over)."""
    started = []
    original = forked.SecondProcess.__init__

    def counting(self, produce):
        started.append(produce)
        original(self, produce)

    monkeypatch.setattr(forked.SecondProcess, "__init__", counting)
    yield started
    db.session.rollback()
    checked = db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)
                                .where(ImportBatch.prepared_at.is_not(None)))
    if checked and app.config["IMPORT_WORKER_ROWS"] == 1:
        assert len(started) >= checked, "a dry run converted in this process"


RICH = [["客户编号", "客户名称", "手机", "省份", "出生日期", "注册资本(元)", "行业", "标签", "联系人", "备注栏"]]
for i in range(60):
    RICH.append([f"RICH{i:03d}", f"丰富{i:03d}贸易有限公司", f"1390000{i:04d}" if i % 7 else "12345",
                 "浙江" if i % 3 else "火星", f"1985年3月{i % 28 + 1}日", f"{i},000", "新材料" if i % 2 else "未知行业",
                 "VIP、待核实" if i % 4 == 0 else "", f"联系人{i}", f"备注{i}"])
RICH.append(RICH[5][:])   # a duplicate of row 6


def _staged_rows(batch):
    return [(r.row_no, r.status, r.values, r.diff, r.errors, r.raw, r.target_id)
            for r in db.session.scalars(sa.select(ImportRow).filter_by(batch_id=batch.id).order_by(ImportRow.row_no))]


def _prepare(tmp_path, name):
    path = sheet_file(tmp_path, RICH, name)
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    steps.run("prepare", batch, Who(), background=False,
              options={"match": ["number"], "mode": "upsert", "choices": {"industry_id": "add", "tags": "add"}})
    return batch


def test_a_sheet_is_staged_alike_in_one_process_and_in_two(app, tmp_path, forks):
    db.session.add(Industry(code="T-NM", name="新材料"))
    db.session.add(Customer(number="RICH001", name="旧名称", mobile="13900000001"))
    db.session.commit()
    two = _prepare(tmp_path, "两个进程.xlsx")
    assert len(forks) == 1
    app.config["IMPORT_WORKER_ROWS"] = 0          # off: converted here
    one = _prepare(tmp_path, "一个进程.xlsx")
    assert len(forks) == 1
    assert one.counts == two.counts
    assert one.counts["update"] == 1 and one.counts["invalid"] > 0 and one.counts["duplicate"] == 1
    assert _staged_rows(one) == _staged_rows(two)


def test_chunks_handed_over_unconverted_are_staged_alike(app, tmp_path, forks, monkeypatch):
    """When this process waits, the second one hands it chunks as read, to convert here
    (forked.parent_idle): a sheet staged that way, every other chunk, is staged as in one process."""
    db.session.add(Industry(code="T-NM", name="新材料"))
    db.session.add(Customer(number="RICH001", name="旧名称", mobile="13900000001"))
    db.session.commit()
    monkeypatch.setattr(importer, "CHUNK", 7)
    turns = iter(range(1000))
    monkeypatch.setattr(forked, "parent_idle", lambda: next(turns) % 2 == 1)   # in the forked copy
    handed = []
    original = importer.Judge.stage
    monkeypatch.setattr(importer.Judge, "stage", lambda self, *args: handed.append(1) or original(self, *args))
    two = _prepare(tmp_path, "两个进程.xlsx")
    assert len(forks) == 1 and len(handed) == 4   # 61 rows: 9 chunks, 4 of them converted here
    app.config["IMPORT_WORKER_ROWS"] = 0
    one = _prepare(tmp_path, "一个进程.xlsx")
    assert one.counts == two.counts and one.counts["duplicate"] == 1
    assert _staged_rows(one) == _staged_rows(two)


def test_a_chunk_split_when_this_process_waits_is_staged_alike(app, tmp_path, forks, monkeypatch):
    """The second process looks whether this one waits after each part of a chunk (PART rows):
    if so, what it converted comes at once and the rest as read, to convert here. A sheet
    staged with chunks split that way is staged as in one process."""
    db.session.add(Industry(code="T-NM", name="新材料"))
    db.session.add(Customer(number="RICH001", name="旧名称", mobile="13900000001"))
    db.session.commit()
    monkeypatch.setattr(importer, "CHUNK", 8)
    monkeypatch.setattr(importer, "PART", 3)
    looks = iter(range(1000))   # chunk starts and parts asked in turn: every third look, it waits
    monkeypatch.setattr(forked, "parent_idle", lambda: next(looks) % 3 == 2)
    sizes = {True: [], False: []}
    for name in ("stage", "stage_converted"):
        original = getattr(importer.Judge, name)
        monkeypatch.setattr(importer.Judge, name, lambda self, batch_id, chunk, _o=original, _n=name:
                            sizes[_n == "stage"].append(len(chunk)) or _o(self, batch_id, chunk))
    two = _prepare(tmp_path, "两个进程.xlsx")
    assert len(forks) == 1 and sum(sizes[True]) + sum(sizes[False]) == 61
    assert any(n % 3 and n < 8 for n in sizes[True])   # the rest of a split chunk, converted here
    assert any(n % 3 == 0 and n < 8 for n in sizes[False])   # its parts converted there
    app.config["IMPORT_WORKER_ROWS"] = 0
    one = _prepare(tmp_path, "一个进程.xlsx")
    assert one.counts == two.counts and one.counts["duplicate"] == 1
    assert _staged_rows(one) == _staged_rows(two)


def test_the_second_process_hands_over_work_only_while_this_one_waits(app, tmp_path):
    """In the second process: the parent's waits are counted through shared memory, and a chunk
    is handed over once per wait, when nothing is on its way already."""
    import queue

    waits = forked.multiprocessing.get_context("fork").RawValue("Q", 0)
    outbox = queue.Queue()
    monkeypatch = pytest.MonkeyPatch()
    with monkeypatch.context() as patched:
        patched.setattr(forked, "_parent_waits", waits)
        patched.setattr(forked, "_outbox", outbox)
        patched.setattr(forked, "_waits_seen", 0)
        assert not forked.parent_idle()          # it has not waited
        waits.value += 1
        assert forked.parent_idle()              # it waited: hand the next chunk over …
        assert not forked.parent_idle()          # … once
        waits.value += 1
        outbox.put(b"a chunk on its way")
        assert not forked.parent_idle()          # it has something to do already
    assert not forked.parent_idle()              # in the portal's own process: never


def test_a_file_the_second_process_cannot_read_is_refused_with_its_message(app, tmp_path, forks):
    path = sheet_file(tmp_path, RICH)
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    with open(batch.stored_as, "r+b") as stored:   # damaged after the upload
        stored.truncate(2000)
    with pytest.raises(ImportRefused) as refused:
        steps.run("prepare", batch, Who(), background=False, options={"match": ["number"], "mode": "upsert"})
    assert len(forks) == 1
    assert refused.value.status_code == 400 and "损坏" in str(refused.value.message)
    db.session.expire_all()
    assert batch.status == "uploaded" and staged(batch) == {}


def test_a_second_process_that_is_killed_stops_the_check_and_nothing_is_staged(app, tmp_path, monkeypatch):
    def killed(session):
        os.kill(os.getpid(), signal.SIGKILL)
        yield []

    monkeypatch.setattr(importer, "_converted", lambda *args: killed(args[-1]))
    path = sheet_file(tmp_path, RICH)
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:
        steps.run("prepare", batch, Who(), background=False, options={"match": ["number"], "mode": "upsert"})
    assert refused.value.status_code == 500 and "没有保存" in str(refused.value.message)
    db.session.expire_all()
    assert batch.status == "uploaded" and staged(batch) == {}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportRow)) == 0


def test_the_parents_connection_survives_its_second_process(app, tmp_path):
    """The forked process neither uses nor closes the parent's connection: the parent's
    transaction goes on (its uncommitted row is still there) after the dry run."""
    db.session.add(Industry(code="T-KEEP", name="保留行业"))
    db.session.flush()
    path = sheet_file(tmp_path, RICH)
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    importer.prepare(db.session, batch, options={"match": ["number"], "mode": "upsert"})
    assert db.session.scalar(sa.select(Industry.id).filter_by(code="T-KEEP")) is not None
    db.session.commit()
    assert batch.counts["total"] == len(RICH) - 1


def test_small_sheets_and_sqlite_in_memory_convert_here(app):
    app.config["IMPORT_WORKER_ROWS"] = 20_000
    assert not forked.in_second_process(db.session, 19_999)
    assert forked.in_second_process(db.session, 20_000) == (forked._cores() > 1)
    engine = sa.create_engine("sqlite://")
    with sa.orm.Session(engine) as memory:
        assert not forked.in_second_process(memory, 1_000_000)


def test_a_chunks_staged_rows_are_written_while_the_next_chunk_is_judged(app, tmp_path, monkeypatch, forks):
    """Chunks of 20 rows, all converted in the second process. On PostgreSQL the first chunk's
    staged rows are written in the writing thread while this process judges the second chunk
    (their write waits until the second chunk is being judged: written before its lookups, it
    would wait in vain); on SQLite before the second chunk's lookups (the write waits in vain,
    briefly). Every row is staged either way."""
    overlapping = db.session.get_bind().dialect.name == "postgresql"
    monkeypatch.setattr(importer, "CHUNK", 20)
    monkeypatch.setattr(forked, "parent_idle", lambda: False)
    db.session.add(Customer(number="RICH001", name="旧名称", mobile="13900000001"))
    db.session.commit()
    judging, waits = threading.Event(), []
    stage, run = importer.Judge._stage, bulk.Insert.run

    def staging(self, batch_id, judged, looked_up):
        if judged[0]["row"] > 21:
            judging.set()
        return stage(self, batch_id, judged, looked_up)

    def running(self, dbapi_connection):
        if self.table.name == "import_row" and not waits:
            waits.append(judging.wait(timeout=30 if overlapping else 0.5))
        return run(self, dbapi_connection)

    monkeypatch.setattr(importer.Judge, "_stage", staging)
    monkeypatch.setattr(bulk.Insert, "run", running)
    batch = _prepare(tmp_path, "分块.xlsx")
    assert len(forks) == 1 and waits == [overlapping]
    rows = _staged_rows(batch)
    assert [r[0] for r in rows] == list(range(2, len(RICH) + 1))
    assert batch.counts["update"] == 1 and rows[1][1] == "update" and rows[1][6] is not None
    assert batch.counts["duplicate"] == 1 and batch.counts["total"] == len(RICH) - 1


def test_a_forked_dry_run_still_analyses_what_an_earlier_import_left_stale(app, tmp_path, forks):
    """The dry run analyses tables whose committed changes outgrew their statistics (autovacuum
    off or not yet run) after its second process is forked; the rows are judged against them."""
    rows = [{"number": f"ST{i:05d}", "name": f"统计{i:05d}公司", "customer_type": "org", "stage": "potential"}
            for i in range(800)]
    bulk.insert(db.session, Customer, rows)
    db.session.commit()
    postgres = db.engine.dialect.name == "postgresql"
    stale = "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'customer'"
    if postgres:
        db.session.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        db.session.commit()
        assert db.session.scalar(sa.text(stale)) >= 800
    sheet = [["客户编号", "客户名称"]] + [[f"ST{i:05d}", f"统计{i:05d}有限公司"] for i in range(0, 800, 100)]
    batch = importer.upload(db.session, sheet_file(tmp_path, sheet), "统计.xlsx", "customer", Who())
    db.session.commit()
    steps.run("prepare", batch, Who(), background=False, options={"match": ["number"], "mode": "update"})
    assert len(forks) == 1 and batch.counts["update"] == 8
    if postgres:
        db.session.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        db.session.commit()
        assert db.session.scalar(sa.text(stale)) < 800   # analysed by the dry run
