"""The contact, transaction and visit grids: the same schema, rows, search, lookups and
writes as the customer grid, scoped through their customer."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Contact, Customer, Transaction, Visit
from tests.conftest import login, user

from .helpers import DEMO, customers_of, edit, fresh, post_batch

MODELS = {"contact": Contact, "transaction": Transaction, "visit": Visit}


def test_the_schema_says_what_the_grid_is_and_what_the_user_may_do(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    schema = clerk.get("/api/v1/grid/customer/schema").json
    assert schema["resource"] == "customer" and schema["title"] == "客户"
    assert schema["can_write"] is True and schema["can_create"] is True and schema["can_export"] is True
    assert schema["card_url"] == "/customerview/show/{id}" and schema["edit_url"] == "/customerview/edit/{id}"
    columns = {c["field"]: c for c in schema["columns"]}
    assert {f for f, c in columns.items() if c["frozen"]} == {"number", "name"}
    assert columns["owner"]["lookup"] == "/api/v1/grid/customer/lookup/owner" and columns["city"]["lookup"] is None
    assert columns["birth_date"]["width"] < columns["name"]["width"] and all(c["width"] > 0 for c in columns.values())
    expected = {"contact": ("联系人", "contactview", {"name"}), "transaction": ("交易", "transactionview", {"number"}),
                "visit": ("访问记录", "visitview", {"customer"})}
    for resource, (title, view, frozen) in expected.items():
        schema = clerk.get(f"/api/v1/grid/{resource}/schema").json
        assert schema["title"] == title and schema["card_url"] == f"/{view}/show/{{id}}"
        assert {c["field"] for c in schema["columns"] if c["frozen"]} == frozen
    auditor = login(demo_app.test_client(), "auditor").get("/api/v1/grid/visit/schema").json
    assert auditor["can_write"] is False and auditor["can_create"] is False and auditor["can_export"] is False
    assert clerk.get("/api/v1/grid/nothing/schema").status_code == 404


@pytest.mark.parametrize("resource", ["contact", "transaction", "visit"])
def test_contact_transaction_and_visit_grids_are_scoped_for_a_salesperson(demo_app, resource):
    model = MODELS[resource]
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = sa.select(Customer.id).where(Customer.owner_id == user(demo_app, "zhangwei").id)
    expected = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.customer_id.in_(mine)))
    page = sales.get(f"/api/v1/grid/{resource}/rows", query_string={"size": 500}).json
    assert expected and page["total"] == expected
    customer_ids = set(db.session.scalars(mine))
    assert all(row["customer"]["id"] in customer_ids for row in page["rows"])
    theirs = db.session.scalars(sa.select(model).where(model.customer_id.not_in(mine))).first()
    answer = post_batch(sales, [edit(theirs, "x", **{"customer": next(iter(customer_ids))})], resource=resource).json
    assert answer["results"][0]["status"] == "not_found"
    assert fresh(model, theirs.id).customer_id == theirs.customer_id
    choices = sales.get(f"/api/v1/grid/{resource}/lookup/customer").json["result"]
    assert choices and {c["id"] for c in choices} <= customer_ids


def test_quick_search_finds_contacts_by_their_own_details_and_their_customer(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    contact = db.session.scalars(sa.select(Contact).where(Contact.mobile.is_not(None))).first()
    for query in (contact.name, contact.name_pinyin, contact.name_initials, contact.mobile[-6:],
                  contact.customer.name):
        found = clerk.get("/api/v1/grid/contact/rows", query_string={"q": query, "size": 500}).json["rows"]
        assert contact.id in [r["id"] for r in found], query
    txn = db.session.scalars(sa.select(Transaction)).first()
    for query in (txn.number, txn.customer.name):
        found = clerk.get("/api/v1/grid/transaction/rows", query_string={"q": query, "size": 500}).json["rows"]
        assert txn.id in [r["id"] for r in found], query
    visit = db.session.scalars(sa.select(Visit)).first()
    found = clerk.get("/api/v1/grid/visit/rows", query_string={"q": visit.customer.name, "size": 500}).json["rows"]
    assert visit.id in [r["id"] for r in found]


def test_a_visit_is_logged_from_the_grid_with_labels_and_choices(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    customer = customers_of(demo_app, "zhangwei", 1)[0]
    answer = post_batch(sales, [{"key": "v", "id": None, "values": {
        "customer": str(customer), "visited_on": "2026/3/2", "method": "电话", "visitor": "张伟",
        "purpose": "回访"}}], resource="visit").json
    result = answer["results"][0]
    assert result["status"] == "ok", result
    visit = fresh(Visit, result["id"])
    assert (visit.customer_id, visit.method, str(visit.visited_on)) == (customer.id, "phone", "2026-03-02")
    assert visit.visitor_id == user(demo_app, "zhangwei").id
    missing = post_batch(sales, [{"key": "v", "id": None, "values": {"customer": customer.id}}], resource="visit").json
    assert set(missing["results"][0]["errors"]) == {"visited_on", "method"}
