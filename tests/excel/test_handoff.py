"""The switch interval lowered while an import's writing thread runs (excel/handoff.py), and
given back when the last such thread is done."""
from __future__ import annotations

import sys
import threading

import sqlalchemy as sa

from portal.excel import bulk, handoff, steps
from portal.excel.importer import Who
from portal.extensions import db
from portal.models import Customer

from .importing import prepared


def test_the_interval_is_lowered_until_the_last_user_leaves():
    before = sys.getswitchinterval()
    assert before > handoff.INTERVAL
    inside, leave = threading.Event(), threading.Event()

    def other():
        with handoff.quick():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    with handoff.quick():
        assert sys.getswitchinterval() == handoff.INTERVAL
        thread.start()
        inside.wait(5)
    assert sys.getswitchinterval() == handoff.INTERVAL   # the other thread still writes
    leave.set()
    thread.join()
    assert sys.getswitchinterval() == before


def test_a_commits_statements_run_with_the_lowered_interval(app, tmp_path, monkeypatch):
    """New rows (staged_insert's writing thread) and updates (WriteBehind): every statement of
    the commit runs while the interval is lowered; afterwards it is the process's again."""
    before = sys.getswitchinterval()
    seen = []
    run = bulk.Insert.run

    def recording(self, dbapi_connection):
        seen.append(sys.getswitchinterval())
        return run(self, dbapi_connection)

    monkeypatch.setattr(bulk.Insert, "run", recording)
    rows = [["客户编号", "客户名称", "手机"]] + [[f"KH-H{i:03d}", f"交接{i:03d}公司", f"137{i:08d}"] for i in range(30)]
    batch = prepared(tmp_path, rows, match=["number"], mode="create")
    seen.clear()   # the commit's statements only
    steps.run("commit", batch, Who(), background=False)
    assert batch.status == "committed" and batch.counts["created"] == 30
    created = list(seen)
    update = [["客户编号", "客户名称"]] + [[f"KH-H{i:03d}", f"交接{i:03d}有限公司"] for i in range(30)]
    batch = prepared(tmp_path, update, match=["number"], mode="update")
    seen.clear()
    steps.run("commit", batch, Who(), background=False)
    assert batch.status == "committed" and batch.counts["updated"] == 30
    assert db.session.scalar(sa.select(sa.func.count()).where(Customer.name.like("交接%有限公司"))) == 30
    assert created and set(created) == {handoff.INTERVAL}   # the history of the new records
    if db.engine.dialect.name == "postgresql":   # SQLite writes updates on the session, no thread
        assert seen and set(seen) == {handoff.INTERVAL}
    assert sys.getswitchinterval() == before
