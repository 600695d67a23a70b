"""Stored runs: parameters, counts and results kept; grades applied (bulk, with the run in each
card's history) or proposed and then accepted or rejected; the command."""
import datetime as dt

import pytest
import sqlalchemy as sa
from flask import current_app

from portal.cli import portal_cli
from portal.extensions import db
from portal.models import ChangeLog, ClassificationResult, ClassificationRun, Customer, GradeProposal
from portal.services.classification import ClassificationError, reports, runs
from tests.conftest import user

from .helpers import customer, trade


@pytest.fixture
def archive(app):
    """A 70 / B 20 / B 10 over 2024, and a prospect who never traded."""
    big, mid, small = customer("甲公司", value_grade="C"), customer("乙公司"), customer("丙公司", value_grade="B")
    prospect = customer("丁公司", value_grade="A")
    trade(big, "2024-03-01", 700)
    trade(mid, "2024-06-01", 200)
    trade(small, "2024-09-01", 100)
    db.session.commit()
    return big, mid, small, prospect


def grades(*customers):
    db.session.expire_all()
    return [db.session.get(Customer, c.id).value_grade for c in customers]


def test_a_run_is_stored_with_parameters_period_counts_and_one_result_per_customer(archive):
    big, mid, small, prospect = archive
    [run] = runs.run(db.session, "abc", start="2024-01-01", end="2024-12-31", parameters={"a_share": "70%"},
                     user_id=user(current_app, "custodian").id, username="custodian")
    db.session.commit()
    assert (run.kind, run.mode, run.period_from, run.period_to) == ("abc", "none", dt.date(2024, 1, 1),
                                                                     dt.date(2024, 12, 31))
    assert run.parameters["a_share"] == "0.7" and run.parameters["b_share"] == "0.95"
    assert run.counts["A"] == 1 and run.counts["B"] == 2 and run.customer_count == 3
    assert run.ran_by_name == "custodian" and run.ran_at is not None
    results = {r.customer_id: r.klass for r in db.session.scalars(sa.select(ClassificationResult))}
    assert results == {big.id: "A", mid.id: "B", small.id: "B"}
    assert grades(big, mid, small, prospect) == ["C", None, "B", "A"]   # stored only: the cards are untouched


def test_apply_writes_the_grades_in_bulk_with_the_run_in_each_cards_history(archive):
    big, mid, small, prospect = archive
    version = db.session.get(Customer, big.id).version
    [run] = runs.run(db.session, "abc", start="2024-01-01", end="2024-12-31", mode="apply",
                     user_id=user(current_app, "custodian").id, username="custodian")
    db.session.commit()
    assert grades(big, mid, small, prospect) == ["A", "B", "B", "A"]   # the prospect keeps its grade
    assert run.counts["changed"] == 2
    assert db.session.get(Customer, big.id).version == version + 1    # an edit opened before is stale
    entries = db.session.scalars(sa.select(ChangeLog).where(ChangeLog.source == f"classification:{run.id}")
                                 .order_by(ChangeLog.customer_id)).all()
    assert [(e.customer_id, e.object_type, e.action, e.changes) for e in entries] == [
        (big.id, "Customer", "update", {"value_grade": {"old": "C", "new": "A"}}),
        (mid.id, "Customer", "update", {"value_grade": {"old": None, "new": "B"}}),
    ]
    assert entries[0].username == "custodian"
    # running it again changes nothing and writes no history
    [again] = runs.run(db.session, "abc", start="2024-01-01", end="2024-12-31", mode="apply")
    assert again.counts["changed"] == 0


def test_propose_keeps_the_cards_and_the_custodian_accepts_or_rejects(archive):
    big, mid, small, prospect = archive
    [run] = runs.run(db.session, "abc", start="2024-01-01", end="2024-12-31", mode="propose")
    db.session.commit()
    assert run.counts["proposed"] == 2 and grades(big, mid) == ["C", None]
    pending = {p["customer_id"]: (p["old_grade"], p["new_grade"]) for p in reports.proposals(db.session)}
    assert pending == {big.id: ("C", "A"), mid.id: (None, "B")}
    ids = {p["customer_id"]: p["id"] for p in reports.proposals(db.session)}
    custodian = user(current_app, "custodian")
    assert runs.accept(db.session, ids=[ids[big.id]], user_id=custodian.id, username="custodian") == 1
    assert runs.reject(db.session, ids=[ids[mid.id]], user_id=custodian.id) == 1
    db.session.commit()
    assert grades(big, mid) == ["A", None]
    [entry] = db.session.scalars(sa.select(ChangeLog).where(ChangeLog.source == f"classification:{run.id}")).all()
    assert entry.customer_id == big.id and entry.changes == {"value_grade": {"old": "C", "new": "A"}}
    statuses = {p.customer_id: (p.status, p.decided_by_id) for p in db.session.scalars(sa.select(GradeProposal))}
    assert statuses == {big.id: ("accepted", custodian.id), mid.id: ("rejected", custodian.id)}
    assert runs.accept(db.session, ids=[ids[big.id]]) == 0               # decided already


def test_a_newer_proposing_run_supersedes_pending_proposals(archive):
    [first] = runs.run(db.session, "abc", start="2024-01-01", end="2024-12-31", mode="propose")
    [second] = runs.run(db.session, "abc", start="2024-01-01", end="2024-12-31", mode="propose")
    db.session.commit()
    statuses = sorted((p.run_id, p.status) for p in db.session.scalars(sa.select(GradeProposal)))
    assert statuses == [(first.id, "superseded")] * 2 + [(second.id, "pending")] * 2
    assert runs.accept(db.session, run_id=second.id) == 2


def test_bad_parameters_are_refused_with_a_message(archive):
    for kind, params in (("abc", {"a_share": "abc"}), ("abc", {"a_share": "0.9", "b_share": "0.8"}),
                         ("abc", {"colour": "red"}), ("rfm", {"bins": "1"}), ("matrix", {"profit_threshold": "x"})):
        with pytest.raises(ClassificationError):
            runs.run(db.session, kind, parameters=params)
    with pytest.raises(ClassificationError):
        runs.run(db.session, "xyz")
    with pytest.raises(ClassificationError):
        runs.run(db.session, "abc", end="2024-13-01")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClassificationRun)) == 0


def test_the_command_runs_every_kind_and_applies_grades(archive):
    big, mid, small, prospect = archive
    runner = current_app.test_cli_runner()
    result = runner.invoke(portal_cli, ["classify", "--to", "2024-12-31", "--apply", "--user", "custodian"])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[1].split()[0] for line in result.output.splitlines()] == \
        ["abc", "rfm", "matrix", "relationship"]
    kinds = db.session.scalars(sa.select(ClassificationRun.kind).order_by(ClassificationRun.id)).all()
    assert kinds == ["abc", "rfm", "matrix", "relationship"]
    assert grades(big, mid) == ["A", "B"]
    rfm_run = reports.latest_run(db.session, "rfm")
    assert rfm_run.as_of == dt.date(2024, 12, 31) and rfm_run.customer_count == 3


def test_the_command_refuses_bad_input_with_a_message(archive):
    runner = current_app.test_cli_runner()
    result = runner.invoke(portal_cli, ["classify", "--kind", "abc", "--to", "31/12/2024"])
    assert result.exit_code != 0 and "31/12/2024" in result.output
    result = runner.invoke(portal_cli, ["classify", "--kind", "abc", "--param", "nonsense"])
    assert result.exit_code != 0 and "NAME=VALUE" in result.output
    result = runner.invoke(portal_cli, ["classify", "--kind", "rfm", "--param", "bins=99"])
    assert result.exit_code != 0
