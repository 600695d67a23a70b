"""The analysis pages as roles see them: who may open and download, the .xlsx logged as an
export within the role's limits, and the registry's contract for other analyses."""
from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.analysis import drill, registry
from portal.analysis.registry import Analysis, Chart, Column, FilterError, Filters, Param, Result
from portal.excel import limits
from portal.extensions import db
from portal.models import AccessLog, Customer
from tests.analysis import data
from tests.conftest import login

QUERY = "from=2024-12-01&to=2025-01-31"


@pytest.fixture
def archive(app):
    return data.build(app)


@pytest.mark.parametrize("username,opens,downloads", [
    ("custodian", True, True), ("manager", True, True), ("marketing", True, True), ("sales", True, True),
    ("auditor", True, False), ("clerk", False, False), ("admin", True, True),
])
def test_who_opens_and_downloads_the_analyses(app, archive, username, opens, downloads):
    client = login(app.test_client(), username)
    for url in ("/analysis/", f"/analysis/composition/?{QUERY}", f"/analysis/lifecycle/data?{QUERY}"):
        answer = client.get(url)
        assert (answer.status_code == 200) == opens, (url, answer.status_code)
    answer = client.get(f"/analysis/composition/xlsx?{QUERY}")
    assert (answer.status_code == 200 and answer.mimetype.endswith("sheet")) == downloads
    menu = client.get("/").text
    assert ('href="/analysis/composition/"' in menu) == opens


def test_the_download_is_the_table_and_is_logged_as_an_export(app, archive):
    client = login(app.test_client(), "custodian")
    answer = client.get(f"/analysis/composition/xlsx?{QUERY}&by=product")
    assert "filename*=UTF-8''" in answer.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(answer.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [r[0] for r in rows[1:4]] == ["T-P3", "T-P2", "T-P1"] and [r[-2] for r in rows[1:5]] == [300, 250, 100, 650]
    entry = db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "export")
                               .order_by(AccessLog.id.desc())).first()
    detail = json.loads(entry.detail)
    assert (entry.object_type, entry.row_count, detail["kind"], detail["analysis"]) == ("Analysis", 4, "analysis", "composition")
    assert detail["filters"]["by"] == "product" and detail["filters"]["from"] == "2024-12-01"


def test_a_download_over_the_roles_cap_is_refused_and_logged(app, archive, monkeypatch):
    monkeypatch.setattr(limits, "rules_for", lambda user=None, data=None: limits.ExportRules(max_rows=2))
    client = login(app.test_client(), "sales")
    answer = client.get(f"/analysis/composition/xlsx?{QUERY}&by=product")   # 2 products + totals for sales
    assert answer.status_code == 403 and "2" in answer.text
    entry = db.session.scalars(sa.select(AccessLog).order_by(AccessLog.id.desc())).first()
    assert entry.action == "denied" and json.loads(entry.detail)["export"] == "row_cap"


def test_columns_holding_a_records_field_follow_the_roles_field_rules(app, archive, monkeypatch):
    archive.c2.referred_by = archive.c1
    db.session.commit()
    rules = limits.ExportRules(field_rules=(limits._FieldRule(only={"Customer": ("number",)}, exclude=()),))
    monkeypatch.setattr(limits, "rules_for", lambda user=None, data=None: rules)
    client = login(app.test_client(), "marketing")
    sheet = load_workbook(io.BytesIO(client.get("/analysis/lifecycle/xlsx?view=referrals").data)).active
    header = [c.value for c in next(sheet.iter_rows())]
    assert len(header) == 3   # number, customers brought in, chain length: the names are withheld
    entry = db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "export").order_by(AccessLog.id.desc())).first()
    assert json.loads(entry.detail)["withheld"] == ["name", "brought"]


def test_a_page_read_is_in_the_access_log(app, archive):
    client = login(app.test_client(), "sales")
    client.get(f"/analysis/composition/?{QUERY}")
    entry = db.session.scalars(sa.select(AccessLog).order_by(AccessLog.id.desc())).first()
    assert (entry.action, entry.object_type, entry.object_id, entry.row_count) == ("list", "Analysis", "composition", 2)


def test_an_unknown_analysis_is_a_404(app, archive):
    client = login(app.test_client(), "custodian")
    assert client.get("/analysis/nothing/").status_code == 404
    assert client.get("/analysis/nothing/data").status_code == 404


def test_the_json_carries_columns_rows_drills_and_chart(app, archive):
    client = login(app.test_client(), "custodian")
    answer = client.get(f"/analysis/composition/data?{QUERY}").json
    assert answer["key"] == "composition" and answer["chart"]["kind"] == "bar"
    assert [c["key"] for c in answer["columns"]][:3] == ["grade", "customers", "buyers"]
    assert answer["rows"][0]["sales"] == 350.0 and answer["drill"][0]["*"].startswith("/grid/customer/?drill=")
    assert answer["filters"] == {"from": "2024-12-01", "to": "2025-01-31", "by": "grade"}


# --- the registry's contract ------------------------------------------------------------------

def test_filters_default_to_the_twelve_months_up_to_today():
    filters = Filters.parse({}, today=dt.date(2025, 3, 15))
    assert (filters.date_from, filters.date_to) == (dt.date(2024, 4, 1), dt.date(2025, 3, 15))
    assert len(filters.months()) == 12
    only_to = Filters.parse({"to": "2025-01-31"})
    assert only_to.date_from == dt.date(2024, 2, 1)


def test_params_are_parsed_and_checked():
    analysis = Analysis("t", "T", lambda f, u: Result([], []), params=(
        Param("share", "Share", kind="decimal", default="0.05", min=0, max=1),
        Param("n", "N", kind="int", default="5", min=1), Param("on", "On", kind="date")))
    filters = Filters.parse({"share": "0.2"}, analysis)
    assert filters.params == {"share": Decimal("0.2"), "n": 5, "on": None}
    for bad in ({"share": "2"}, {"share": "NaN"}, {"n": "x"}, {"on": "2025-02-30"}, {"region": "1; drop"}, {"q": "x"}):
        with pytest.raises(FilterError):
            Filters.parse(bad, analysis)


def test_a_registered_analysis_gets_a_page_json_and_download(app, archive):
    def compute(filters, user):
        count = db.session.scalar(sa.select(sa.func.count(Customer.id)).where(*filters.customer_conditions(user)))
        return Result(columns=[Column("what", "What"), Column("n", "Count", "int")], rows=[{"what": "all", "n": count}],
                      drill=[drill.link("composition.grade", value_grade="A")],
                      chart=Chart("pie", category="what", series=["n"]))

    registry.register(Analysis("test.count", "Counted", compute, uses=("grade",)))
    try:
        client = login(app.test_client(), "sales")
        assert client.get("/analysis/test.count/data").json["rows"] == [{"what": "all", "n": 3}]
        assert client.get("/analysis/test.count/data?grade=B").json["rows"] == [{"what": "all", "n": 1}]
        assert client.get("/analysis/test.count/data?from=2025-01-01").status_code == 400   # no period here
        assert "Counted" in client.get("/analysis/").text
        assert client.get("/analysis/test.count/xlsx").status_code == 200
    finally:
        registry._ANALYSES.pop("test.count")


def test_drill_urls_and_their_parsing():
    url = drill.url("composition.grade", value_grade="A", owner=None, **{"from": "2025-01-01"})
    assert url == "/grid/customer/?drill=composition.grade&d.from=2025-01-01&d.value_grade=A"
    assert drill.from_args({"drill": "x", "d.a": "1", "f.name": "y"}) == ("x", {"a": "1"})
    assert drill.from_args({"page": "1"}) is None
    with pytest.raises(drill.DrillError):
        drill.from_args({"d.a": "1"})
    with pytest.raises(drill.DrillError):
        drill.condition("no.such", {})
