"""信用分析 on the hand-computed archive of tests/analysis/data.py: open amount = purchases on
credit (赊账) in the period, returns subtracted."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.analysis import registry
from portal.security import scope
from tests.analysis import data
from tests.conftest import login


@pytest.fixture
def archive(app):
    return data.build(app)


def run(user=scope.ALL, **args):
    _filters, result = registry.get("credit").run({**data.PERIOD, **args}, user)
    return result


def test_per_credit_class_customers_limits_and_open_amounts(archive):
    rows = {r["code"]: r for r in run().rows}
    assert list(rows) == ["AA", "B", None]
    aa, b, unrated = rows.values()
    # C1: 250 on credit, then a return of 100 on credit; C4: 300 on the first day (its 100 the day before is out)
    assert (aa["customers"], aa["with_limit"], aa["limit"], aa["on_credit"], aa["open"], aa["sales"]) == (
        2, 2, Decimal("10200.00"), 2, Decimal("450.00"), Decimal("450.00"))
    assert aa["usage"] == Decimal("4.4") and aa["over_limit"] == 1          # C4: 300 > 200
    assert (b["customers"], b["limit"], b["open"], b["sales"], b["usage"], b["over_limit"]) == (
        1, Decimal("5000.00"), 0, Decimal("200.00"), Decimal("0.0"), 0)   # C2 paid cash
    assert (unrated["customers"], unrated["with_limit"], unrated["limit"], unrated["usage"]) == (2, 0, 0, None)
    assert unrated["sales"] == Decimal("80.00")


def test_the_period_decides_what_is_open(archive):
    december = {r["code"]: r for r in run(to="2024-12-31").rows}
    assert december["AA"]["open"] == Decimal("550.00")     # C1 250 + C4 300, before the return
    january = {r["code"]: r for r in run(**{"from": "2025-01-01"}).rows}
    assert january["AA"]["open"] == Decimal("-100.00") and january["AA"]["over_limit"] == 0


def test_limits_vs_actual_by_customer(archive):
    result = run(view="customers")
    assert [(r["name"], r["limit"], r["open"], r["over"] != "") for r in result.rows] == [
        ("四号公司", Decimal("200.00"), Decimal("300.00"), True),
        ("一号公司", Decimal("10000.00"), Decimal("150.00"), False),
        ("二号公司", Decimal("5000.00"), 0, False)]
    assert result.rows[0]["usage"] == Decimal("150.0")


def test_a_manager_sees_their_teams_customers_only(app, archive):
    rows = {r["code"]: r for r in run(user=archive.manager).rows}
    assert (rows["AA"]["customers"], rows["AA"]["open"], rows["AA"]["over_limit"]) == (1, Decimal("150.00"), 0)


def test_credit_needs_the_right_to_see_sensitive_fields(app, archive):
    for username in ("sales", "marketing", "auditor"):
        client = login(app.test_client(), username)
        assert client.get("/analysis/credit/").status_code == 403
        assert client.get("/analysis/credit/data").status_code == 403
        assert "/analysis/credit/" not in client.get("/analysis/").text
    client = login(app.test_client(), "manager")
    assert client.get("/analysis/credit/").status_code == 200


def test_drills_to_the_class_the_over_limit_and_the_credit_buyers(app, archive):
    client = login(app.test_client(), "custodian")
    answer = client.get("/analysis/credit/data?from=2024-12-01&to=2025-01-31").json

    def names(url):
        rows = client.get(url.replace("/grid/customer/", "/api/v1/grid/customer/rows")).json["rows"]
        return sorted(r["name"] for r in rows)

    aa = answer["drill"][0]
    assert names(aa["*"]) == ["一号公司", "四号公司"]
    assert names(aa["over_limit"]) == ["四号公司"]
    assert names(aa["open"]) == ["一号公司", "四号公司"]
    assert names(answer["drill"][2]["*"]) == ["三号公司", "五号公司"]
    manager = login(app.test_client(), "manager")
    over = manager.get(aa["over_limit"].replace("/grid/customer/", "/api/v1/grid/customer/rows")).json
    assert over["total"] == 0   # C4 is outside the manager's team
