"""Saved grid layouts and views (…/views, …/layout): one's own current layout, named views,
shared ones, checked against the schema."""
from __future__ import annotations

from tests.conftest import login

from .helpers import DEMO

LAYOUT = {"columns": [{"field": "name", "width": 240}, {"field": "nonsense"}, {"field": "city", "visible": False}],
          "sort": [{"field": "city", "dir": "desc"}, {"field": "gone", "dir": "asc"}],
          "filters": {"value_grade": "A|B", "nope": "x"}, "q": "杭州", "size": 100, "rowHeight": 28}


def test_saved_views_personal_and_shared(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    assert clerk.get("/api/v1/grid/customer/views").json == {"current": None, "views": []}

    saved = clerk.put("/api/v1/grid/customer/layout", json={"layout": LAYOUT})
    assert saved.status_code == 200
    current = clerk.get("/api/v1/grid/customer/views").json["current"]
    assert current["columns"] == [{"field": "name", "width": 240}, {"field": "city", "visible": False}]
    assert current["sort"] == [{"field": "city", "dir": "desc"}] and current["filters"] == {"value_grade": "A|B"}
    assert current["rowHeight"] == 28  # the rest of the layout is the client's
    clerk.put("/api/v1/grid/customer/layout", json={"layout": {"size": 200}})
    assert clerk.get("/api/v1/grid/customer/views").json["current"] == {"size": 200}  # one current layout
    assert clerk.get("/api/v1/grid/contact/views").json["current"] is None  # per grid

    mine = clerk.post("/api/v1/grid/customer/views", json={"name": "杭州A类", "shared": False, "layout": LAYOUT})
    assert mine.status_code == 201 and mine.json["mine"] is True and mine.json["name"] == "杭州A类"
    shared = clerk.post("/api/v1/grid/customer/views", json={"name": "全部客户", "shared": True, "layout": {}})
    assert shared.status_code == 201
    duplicate = clerk.post("/api/v1/grid/customer/views", json={"name": "杭州A类", "layout": {}})
    assert duplicate.status_code == 422 and "杭州A类" in duplicate.json["message"]
    assert clerk.post("/api/v1/grid/customer/views", json={"name": " ", "layout": {}}).status_code == 422
    assert clerk.post("/api/v1/grid/customer/views", json={"name": "x" * 101, "layout": {}}).status_code == 422

    theirs = sales.get("/api/v1/grid/customer/views").json
    assert [(v["name"], v["mine"], v["owner"]) for v in theirs["views"]] == [("全部客户", False, "Clerk Test")]
    assert theirs["current"] is None
    names = [v["name"] for v in clerk.get("/api/v1/grid/customer/views").json["views"]]
    assert names == sorted(names) and set(names) == {"杭州A类", "全部客户"}

    view_id = shared.json["id"]
    assert sales.put(f"/api/v1/grid/customer/views/{view_id}", json={"name": "抢来的"}).status_code == 404
    assert sales.delete(f"/api/v1/grid/customer/views/{view_id}").status_code == 404
    renamed = clerk.put(f"/api/v1/grid/customer/views/{view_id}", json={"name": "所有客户", "shared": False})
    assert renamed.status_code == 200 and renamed.json["name"] == "所有客户" and renamed.json["shared"] is False
    assert sales.get("/api/v1/grid/customer/views").json["views"] == []
    assert clerk.delete(f"/api/v1/grid/customer/views/{mine.json['id']}").status_code == 200
    assert [v["name"] for v in clerk.get("/api/v1/grid/customer/views").json["views"]] == ["所有客户"]


def test_a_custodian_may_delete_a_shared_view_but_not_a_private_one(demo_app):
    clerk, custodian = login(demo_app.test_client(), "clerk"), login(demo_app.test_client(), "custodian")
    shared = clerk.post("/api/v1/grid/customer/views", json={"name": "共享", "shared": True, "layout": {}}).json
    private = clerk.post("/api/v1/grid/customer/views", json={"name": "私有", "layout": {}}).json
    assert custodian.delete(f"/api/v1/grid/customer/views/{private['id']}").status_code == 404
    assert custodian.delete(f"/api/v1/grid/customer/views/{shared['id']}").status_code == 200
    assert [v["name"] for v in clerk.get("/api/v1/grid/customer/views").json["views"]] == ["私有"]


def test_layouts_that_are_not_the_grids_are_refused(demo_app):
    auditor = login(demo_app.test_client(), "auditor")  # reading grids is enough to keep a layout
    for layout in ([1, 2], {"columns": "name"}, {"sort": [{"field": "name", "dir": "up"}]}, {"size": 0},
                   {"q": 3}, {"filters": []}):
        response = auditor.put("/api/v1/grid/customer/layout", json={"layout": layout})
        assert response.status_code == 422, layout
        assert response.json["message"]
    huge = {"note": "x" * (65 * 1024)}
    assert auditor.put("/api/v1/grid/customer/layout", json={"layout": huge}).status_code == 413
    assert auditor.put("/api/v1/grid/customer/layout", json={"layout": {"q": "张"}}).status_code == 200
