"""The pages: ABC/matrix/relationship/RFM analyses count only the user's customers (the run
covers everyone), drill down to a class's customers, download; the custodian's run button
and grade proposals; bad input answered with a message."""
import sqlalchemy as sa
from flask import current_app

from portal.analysis import drill
from portal.extensions import db
from portal.models import ChangeLog, ClassificationRun, Customer, GradeProposal
from portal.services.classification import runs
from tests.conftest import login, user

from .helpers import customer, trade


def archive():
    sales = user(current_app, "sales")
    mine = customer("甲公司", owner_id=sales.id, loyalty_index=80)
    other = customer("乙公司", owner_id=user(current_app, "sales2").id, loyalty_index=20)
    third = customer("丙公司", loyalty_index=50)
    trade(mine, "2024-03-01", 100)     # 100 of 1000: before it 900 → C… (share before 0.9 → B)
    trade(other, "2024-03-01", 700)
    trade(third, "2024-03-01", 200)
    db.session.commit()
    done = runs.run(db.session, "all", start="2024-01-01", end="2024-12-31")
    db.session.commit()
    return mine, other, third, {r.kind: r for r in done}


def test_a_salespersons_abc_page_counts_only_their_customers(client):
    mine, other, third, done = archive()
    login(client, "sales")
    data = client.get("/analysis/abc/data").get_json()
    counts = {row["klass"]: row["customers"] for row in data["rows"]}
    assert counts["A"] == 0 and counts["B"] == 1 and counts["C"] == 0   # only 甲公司 (B: 70% before it)
    client.get("/logout/")
    login(client, "custodian")
    data = client.get("/analysis/abc/data").get_json()
    counts = {row["klass"]: row["customers"] for row in data["rows"]}
    assert (counts["A"], counts["B"], counts["C"]) == (1, 2, 0)


def test_the_drill_of_a_class_gives_the_customers_of_that_class_in_that_run(client):
    mine, other, third, done = archive()
    condition = drill.condition("classification.class", {"run": str(done["abc"].id), "class": "B"})
    assert set(db.session.scalars(sa.select(Customer.id).where(condition))) == {mine.id, third.id}
    # matrix: turnover median 200, no profit known (0 for all, median 0 → high): 700 and 200 are A, 100 is D
    condition = drill.condition("classification.class", {"run": str(done["matrix"].id), "class": "A"})
    assert set(db.session.scalars(sa.select(Customer.id).where(condition))) == {other.id, third.id}
    condition = drill.condition("classification.flag", {"run": str(done["abc"].id), "flag": "gold"})
    assert set(db.session.scalars(sa.select(Customer.id).where(condition))) == {other.id}
    # the grid applies the drill after the user's scope: a salesperson's B drill is their one customer
    login(client, "sales")
    page = client.get(drill.url("classification.class", run=done["abc"].id, **{"class": "B"}))
    assert page.status_code == 200


def test_every_classification_page_renders_and_downloads(client):
    archive()
    login(client, "custodian")
    for key in ("abc", "abc_lists", "matrix", "relationship", "rfm"):
        assert client.get(f"/analysis/{key}/").status_code == 200, key
        assert client.get(f"/analysis/{key}/data").status_code == 200, key
        response = client.get(f"/analysis/{key}/xlsx")
        assert response.status_code == 200 and response.data[:2] == b"PK", key
    for tab in ("top", "complaints", "cross_sell"):
        assert client.get(f"/analysis/abc_lists/data?list={tab}&year=2024").status_code == 200


def test_bad_parameters_on_a_page_are_a_400_with_a_message(client):
    archive()
    login(client, "custodian")
    assert client.get("/analysis/abc/data?run=abc").status_code == 400
    assert client.get("/analysis/abc/data?run=99999").status_code == 400
    assert client.get("/analysis/abc/data?colour=red").status_code == 400


def test_the_custodian_runs_from_the_page_and_decides_proposals(client):
    mine, other, third, done = archive()
    login(client, "custodian")
    page = client.get("/classification/")
    assert page.status_code == 200 and "classification-run" in page.text
    response = client.post("/classification/run", data={"kind": "abc", "from": "2024-01-01", "to": "2024-12-31",
                                                         "mode": "propose"})
    assert response.status_code == 302
    run = db.session.scalars(sa.select(ClassificationRun).order_by(ClassificationRun.id.desc())).first()
    assert run.mode == "propose" and run.ran_by_name == "custodian" and run.counts["proposed"] == 3
    assert client.get("/classification/proposals").status_code == 200
    ids = [str(p.id) for p in db.session.scalars(sa.select(GradeProposal).where(GradeProposal.customer_id == other.id))]
    assert client.post("/classification/proposals/decide", data={"action": "accept", "id": ids}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, other.id).value_grade == "A"
    [entry] = db.session.scalars(sa.select(ChangeLog).where(ChangeLog.source == f"classification:{run.id}")).all()
    assert entry.customer_id == other.id and entry.username == "custodian"
    assert client.post("/classification/proposals/decide", data={"action": "reject", "all": "1"}).status_code == 302
    statuses = sorted(p.status for p in db.session.scalars(sa.select(GradeProposal)))
    assert statuses == ["accepted", "rejected", "rejected"]


def test_a_bad_run_request_is_a_400_with_the_message(client):
    archive()
    login(client, "custodian")
    response = client.post("/classification/run", data={"kind": "abc", "to": "2024-02-30"})
    assert response.status_code == 400 and "2024-02-30" in response.text
    response = client.post("/classification/run", data={"kind": "nonsense"})
    assert response.status_code == 400
    response = client.post("/classification/proposals/decide", data={"action": "burn"})
    assert response.status_code == 400


def test_a_salesperson_cannot_run_or_decide(client):
    archive()
    login(client, "sales")
    assert client.get("/classification/").status_code in (302, 403)
    assert client.post("/classification/run", data={"kind": "abc"}).status_code in (302, 403)
    assert client.post("/classification/proposals/decide", data={"action": "accept", "all": "1"}).status_code \
        in (302, 403)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClassificationRun)) == 4
