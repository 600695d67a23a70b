"""生命周期分析 on the archive of tests/analysis/data.py plus stops, two late cards and referrals.

Stage history (every card created potential on 2024-06-01 unless said):
  C4 current 2024-11-30 (first trade), former 2024-12-20 "价格太高"
  C1 current 2024-12-15, former 2025-01-20 "搬迁"
  C5 current 2025-01-05; C2 current 2025-01-31; C3 stays potential
  C6 created 2024-12-31 (source 展会), C7 created 2025-01-01 (source 客户推荐), both sales2's
Referrals: C1 → C2 → C3, C1 → C5, C6 → C7.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.analysis import registry
from portal.extensions import db
from portal.models import Customer, Source
from portal.security import scope
from portal.services.lifecycle import mark_former
from tests.analysis import data
from tests.conftest import login


@pytest.fixture
def archive(app):
    a = data.build(app)
    a.fair, a.referral = Source(code="T-FAIR", name="展会"), Source(code="T-REF", name="客户推荐")
    a.c6 = Customer(name="六号公司", customer_type="org", owner_id=a.sales2.id, source=a.fair,
                    acquired_on=dt.date(2024, 12, 31))
    a.c7 = Customer(name="七号公司", customer_type="org", owner_id=a.sales2.id, source=a.referral,
                    acquired_on=dt.date(2025, 1, 1), referred_by=a.c6)
    db.session.add_all([a.fair, a.referral, a.c6, a.c7])
    mark_former(db.session, a.c4, "价格太高", on=dt.date(2024, 12, 20))
    mark_former(db.session, a.c1, "搬迁", on=dt.date(2025, 1, 20))
    a.c2.referred_by, a.c3.referred_by, a.c5.referred_by = a.c1, a.c2, a.c1
    db.session.commit()
    return a


def run(view, user=scope.ALL, **args):
    _filters, result = registry.get("lifecycle").run({**data.PERIOD, "view": view, **args}, user)
    return result


def test_stage_counts_at_month_ends_across_a_year_end(archive):
    result = run("stages")
    assert [(r["month"], r["potential"], r["current"], r["former"], r["total"]) for r in result.rows] == [
        ("2024-12", 4, 1, 1, 6), ("2025-01", 3, 2, 2, 7)]
    assert result.rows[-1]["on"] == dt.date(2025, 1, 31)
    # a period ending the day before C2's first transaction
    last = run("stages", to="2025-01-30").rows[-1]
    assert (last["on"], last["potential"], last["current"], last["former"]) == (dt.date(2025, 1, 30), 4, 1, 2)


def test_stage_counts_in_scope(archive):
    rows = run("stages", user=archive.sales).rows   # C1, C2, C3
    assert [(r["potential"], r["current"], r["former"]) for r in rows] == [(2, 1, 0), (1, 1, 1)]


def test_new_customers_per_month_by_source(archive):
    result = run("new")
    labels = {c.key: str(c.label) for c in result.columns}
    assert [(r["month"], r["total"]) for r in result.rows] == [("2024-12", 1), ("2025-01", 1)]
    fair, referral = f"s{archive.fair.id}", f"s{archive.referral.id}"
    assert (result.rows[0][fair], result.rows[0][referral]) == (1, 0)
    assert (result.rows[1][fair], result.rows[1][referral]) == (0, 1)
    assert labels[fair] == "展会" and result.totals["total"] == 2
    june = run("new", **{"from": "2024-06-01", "to": "2024-06-30"})
    assert june.rows[0]["total"] == 5 and june.rows[0]["s_none"] == 5


def test_churn_per_year_with_reasons_and_rate(archive):
    result = run("churn")
    names = {c.key: str(c.label) for c in result.columns}
    assert (names["r0"], names["r1"]) == ("价格太高", "搬迁")
    assert [(r["year"], r["r0"], r["r1"], r["churned"], r["base"], r["rate"]) for r in result.rows] == [
        ("2024", 1, 0, 1, 1, Decimal("100.0")), ("2025", 0, 1, 1, 1, Decimal("100.0"))]
    whole = run("churn", **{"from": "2024-01-01", "to": "2024-12-31"}).rows
    assert [(r["churned"], r["base"]) for r in whole] == [(1, 0)] and whole[0]["rate"] is None
    assert all(r["churned"] == 0 for r in run("churn", **{"from": "2023-01-01", "to": "2023-12-31"}).rows)


def test_referral_chains_with_a_recursive_cte(archive):
    rows = run("referrals").rows
    assert [(r["name"], r["members"], r["length"]) for r in rows] == [("一号公司", 3, 2), ("六号公司", 1, 1)]
    assert rows[0]["brought"].split("、") == ["二号公司", "五号公司", "三号公司"]
    tree = run("referrals").chart.tree
    assert tree[0]["name"] == "一号公司" and tree[0]["value"] == 3
    assert sorted(c["name"] for c in tree[0]["children"]) == ["二号公司", "五号公司"]
    # a salesperson's chains are made of their customers: C5 (sales2's) is not in C1's
    mine = run("referrals", user=archive.sales).rows
    assert [(r["name"], r["members"], r["length"]) for r in mine] == [("一号公司", 2, 2)]
    theirs = run("referrals", user=archive.sales2).rows
    assert [(r["name"], r["members"]) for r in theirs] == [("六号公司", 1)]


def _grid(client, url):
    answer = client.get(url.replace("/grid/customer/", "/api/v1/grid/customer/rows"))
    assert answer.status_code == 200, answer.json
    return answer.json


def test_every_lifecycle_chart_drills_to_its_customers(app, archive):
    client = login(app.test_client(), "custodian")
    stages = client.get("/analysis/lifecycle/data?from=2024-12-01&to=2025-01-31&view=stages").json
    for row, links in zip(stages["rows"], stages["drill"]):
        for stage in ("potential", "current", "former"):
            assert _grid(client, links[stage])["total"] == row[stage], (row["month"], stage)
    new = client.get("/analysis/lifecycle/data?from=2024-12-01&to=2025-01-31&view=new").json
    assert [_grid(client, d["*"])["total"] for d in new["drill"]] == [1, 1]
    assert [r["name"] for r in _grid(client, new["drill"][1][f"s{archive.referral.id}"])["rows"]] == ["七号公司"]
    churn = client.get("/analysis/lifecycle/data?from=2024-12-01&to=2025-01-31&view=churn").json
    assert [r["name"] for r in _grid(client, churn["drill"][0]["r0"])["rows"]] == ["四号公司"]
    assert [r["name"] for r in _grid(client, churn["drill"][1]["*"])["rows"]] == ["一号公司"]
    chains = client.get("/analysis/lifecycle/data?view=referrals").json
    assert _grid(client, chains["drill"][0]["*"])["total"] == 4          # C1 and the 3 it brought in
    tree_url = chains["chart"]["tree"][0]["children"][0]["url"]
    assert _grid(client, tree_url)["total"] in (1, 2)


def test_a_salesperson_opening_a_chain_link_sees_only_their_customers(app, archive):
    client = login(app.test_client(), "sales")
    url = f"/api/v1/grid/customer/rows?drill=lifecycle.referral&d.root={archive.c1.id}"
    assert sorted(r["name"] for r in client.get(url).json["rows"]) == ["一号公司", "三号公司", "二号公司"]
    other = client.get(f"/api/v1/grid/customer/rows?drill=lifecycle.referral&d.root={archive.c6.id}").json
    assert other["total"] == 0 and "六号公司" not in other["drill"]["label"]


def test_the_referral_page_needs_no_period(app, archive):
    client = login(app.test_client(), "custodian")
    assert client.get("/analysis/lifecycle/data?view=referrals&from=2024-01-01").status_code == 200
    assert client.get("/analysis/lifecycle/data?view=sideways").status_code == 400
