"""客户构成分析 on the hand-computed archive of tests/analysis/data.py."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.analysis import registry
from portal.security import scope
from tests.analysis import data
from tests.conftest import login


def run(by, user=scope.ALL, **args):
    analysis = registry.get("composition")
    _filters, result = analysis.run({**data.PERIOD, "by": by, **args}, user)
    return result


def table(result, key):
    return {row[key]: row for row in result.rows}


@pytest.fixture
def archive(app):
    return data.build(app)


def test_sales_by_grade_are_net_of_returns_and_count_customers_without_transactions(archive):
    rows = table(run("grade"), "code")
    assert list(rows) == ["A", "B", None]
    a, b, none = rows.values()
    # A: C1 250 - 100 (a return) + C2 200 on the period's last day
    assert (a["customers"], a["buyers"], a["transactions"], a["sales"]) == (2, 2, 3, Decimal("350.00"))
    # B: C3 never traded, C4's 300 on the first day counts, its 100 the day before does not
    assert (b["customers"], b["buyers"], b["transactions"], b["sales"]) == (2, 1, 1, Decimal("300.00"))
    assert (none["customers"], none["buyers"], none["sales"]) == (1, 1, Decimal("80.00"))
    assert [r["share"] for r in rows.values()] == [Decimal("47.9"), Decimal("41.1"), Decimal("11.0")]


def test_sales_by_product_come_from_lines_and_the_return_is_subtracted(archive):
    result = run("product")
    assert [r["code"] for r in result.rows] == ["T-P3", "T-P2", "T-P1"]
    p3, p2, p1 = result.rows
    assert (p1["sales"], p1["quantity"], p1["buyers"]) == (Decimal("100.00"), Decimal("1.000"), 1)
    assert (p2["sales"], p2["quantity"], p2["buyers"]) == (Decimal("250.00"), Decimal("5.000"), 2)
    assert p3["sales"] == Decimal("300.00")
    assert result.totals["sales"] == Decimal("650.00")   # C5's 80 has no lines


def test_sales_by_category_put_products_without_one_apart(archive):
    rows = run("category").rows
    assert [(r["category"], r["sales"]) for r in rows[1:]] == [("纸张", Decimal("250.00")), ("墨水", Decimal("100.00"))]
    assert rows[0]["sales"] == Decimal("300.00") and rows[0]["category"] not in ("纸张", "墨水")   # no category


def test_sales_by_region(archive):
    rows = run("region").rows
    assert [(r["customers"], r["buyers"], r["transactions"], r["sales"]) for r in rows] == [
        (3, 2, 3, Decimal("450.00")), (1, 1, 1, Decimal("200.00")), (1, 1, 1, Decimal("80.00"))]


def test_an_empty_period_has_rows_with_no_sales(archive):
    rows = table(run("grade", **{"from": "2023-01-01", "to": "2023-12-31"}), "code")
    assert all(r["sales"] == 0 and r["buyers"] == 0 for r in rows.values())
    assert sum(r["customers"] for r in rows.values()) == 5
    assert run("product", **{"from": "2023-01-01", "to": "2023-12-31"}).rows == []


def test_filters_region_owner_grade(archive):
    assert [r["sales"] for r in run("grade", region=str(archive.east.id)).rows] == [Decimal("150.00"), Decimal("300.00")]
    assert [r["sales"] for r in run("grade", owner=str(archive.sales2.id)).rows] == [Decimal("300.00"), Decimal("80.00")]
    assert [r["sales"] for r in run("region", grade="A").rows] == [Decimal("200.00"), Decimal("150.00")]   # by sales


def test_a_salesperson_counts_only_their_customers(app, archive):
    rows = table(run("grade", user=archive.sales), "code")
    a, b = rows.values()
    assert (a["customers"], a["sales"]) == (2, Decimal("350.00"))
    assert (b["customers"], b["buyers"], b["sales"]) == (1, 0, 0)   # C3 only: C4 is sales2's
    manager = table(run("grade", user=archive.manager), "code")
    assert sum(r["customers"] for r in manager.values()) == 3       # the team's: sales' customers


def grid_ids(client, url):
    grid = url.replace("/grid/customer/", "/api/v1/grid/customer/rows")
    answer = client.get(grid + "&size=500")
    assert answer.status_code == 200, answer.json
    return answer.json


def test_each_bar_drills_to_exactly_its_customers(app, archive):
    client = login(app.test_client(), "custodian")
    answer = client.get("/analysis/composition/data?from=2024-12-01&to=2025-01-31&by=grade").json
    urls = [d["*"] for d in answer["drill"]]
    counts = [grid_ids(client, url)["total"] for url in urls]
    assert counts == [r["buyers"] for r in answer["rows"]] == [2, 1, 1]
    customers = [grid_ids(client, d["customers"])["total"] for d in answer["drill"]]
    assert customers == [2, 2, 1]
    first = grid_ids(client, urls[0])
    assert {r["name"] for r in first["rows"]} == {"一号公司", "二号公司"}
    assert first["drill"]["label"]
    product = client.get("/analysis/composition/data?from=2024-12-01&to=2025-01-31&by=product").json
    assert [grid_ids(client, d["*"])["total"] for d in product["drill"]] == [1, 2, 1]
    category = client.get("/analysis/composition/data?from=2024-12-01&to=2025-01-31&by=category").json
    assert [grid_ids(client, d["*"])["total"] for d in category["drill"]] == [1, 2, 1]
    region = client.get("/analysis/composition/data?from=2024-12-01&to=2025-01-31&by=region").json
    assert [grid_ids(client, d["*"])["total"] for d in region["drill"]] == [2, 1, 1]


def test_a_salespersons_drill_and_download_stay_in_scope(app, archive):
    client = login(app.test_client(), "sales")
    answer = client.get("/analysis/composition/data?from=2024-12-01&to=2025-01-31&by=grade").json
    # a custodian's link for grade B (C3 and C4): the salesperson sees only C3
    url = answer["drill"][1]["customers"]
    assert grid_ids(client, url)["total"] == 1
    download = client.get("/analysis/composition/xlsx?from=2024-12-01&to=2025-01-31&by=grade")
    assert download.status_code == 200
    from openpyxl import load_workbook
    import io
    sheet = load_workbook(io.BytesIO(download.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][1:5] == [2, 2, 3, 350]
    assert values[-1][4] == 350


@pytest.mark.parametrize("query", [
    "from=2025-13-01", "from=2025-02-01&to=2025-01-01", "by=colour", "region=x", "grade=Z", "colour=red",
    "region=999999", "owner=999999", "from=1900-01-01&to=2025-01-01",
])
def test_bad_parameters_are_a_400_with_a_message(app, archive, query):
    client = login(app.test_client(), "custodian")
    answer = client.get(f"/analysis/composition/data?{query}")
    assert answer.status_code == 400 and answer.json["message"]
    assert client.get(f"/analysis/composition/?{query}").status_code == 400


@pytest.mark.parametrize("query", [
    "drill=nope", "drill=composition.grade", "drill=composition.grade&d.value_grade=Q",
    "drill=composition.product&d.product=abc", "drill=composition.grade&d.value_grade=A&d.from=2025-99-01",
    "d.value_grade=A",
])
def test_a_bad_drill_is_a_400(app, archive, query):
    client = login(app.test_client(), "custodian")
    for endpoint in ("rows", "count", "export"):
        answer = client.get(f"/api/v1/grid/customer/{endpoint}?{query}")
        assert answer.status_code == 400, (endpoint, query, answer.status_code)
        assert answer.json["message"]


def test_a_drill_on_another_grid_is_a_400(app, archive):
    client = login(app.test_client(), "custodian")
    assert client.get("/api/v1/grid/contact/rows?drill=composition.grade&d.value_grade=A").status_code == 400


def test_the_page_shows_chart_table_and_download(app, archive):
    client = login(app.test_client(), "custodian")
    page = client.get("/analysis/composition/?from=2024-12-01&to=2025-01-31&by=product")
    assert page.status_code == 200
    html = page.text
    assert 'id="analysis-chart"' in html and "vendor/echarts/echarts.min.js" in html and "/grid/customer/?drill=" in html
    assert "/analysis/composition/xlsx?" in html
    index = client.get("/analysis/")
    assert "/analysis/composition/" in index.text
