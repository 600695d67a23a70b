"""The grid's read path on the demo archive: schema, paging, sort, filters, quick search,
scope and masking (/api/v1/grid/customer/…)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Contact, Customer
from tests.conftest import login, user

DEMO = "Demo@2026!"


def rows(client, **args):
    response = client.get("/api/v1/grid/customer/rows", query_string=args)
    assert response.status_code == 200, response.json
    return response.json


def test_the_schema_comes_from_the_registry_and_the_users_rights(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    columns = {c["field"]: c for c in clerk.get("/api/v1/grid/customer/schema").json["columns"]}
    assert columns["name"]["label"] == "客户名称" and columns["name"]["required"] and columns["name"]["frozen"]
    assert columns["mobile"]["editor"] == "input" and columns["value_grade"]["choices"][0]["label"] == "A级"
    assert columns["owner"]["editor"] == "autocomplete" and columns["stage"]["editable"] is False
    assert columns["id_number"]["masked"] is False and columns["id_number"]["editable"] is True
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    masked = {c["field"]: c for c in sales.get("/api/v1/grid/customer/schema").json["columns"]}
    assert masked["id_number"]["masked"] is True and masked["id_number"]["editable"] is False
    auditor = login(demo_app.test_client(), "auditor")
    assert not any(c["editable"] for c in auditor.get("/api/v1/grid/customer/schema").json["columns"])


def test_pages_are_capped_and_stable_under_ties(demo_app):
    client = login(demo_app.test_client(), "clerk")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    first = rows(client, size=100000, sort="value_grade")
    assert first["size"] == 500 and first["total"] == total
    seen = []
    for page in range(1, 5):
        seen += [r["id"] for r in rows(client, size=40, page=page, sort="value_grade")["rows"]]
    assert len(seen) == len(set(seen)) == 160  # grade ties broken by id: no row twice


def test_multi_column_sort_runs_on_the_server(demo_app):
    client = login(demo_app.test_client(), "clerk")
    got = rows(client, size=500, sort="province,-credit_limit")["rows"]
    # Ties are broken by id in the last sort key's direction, so (column, id) indexes serve either way.
    expected = db.session.scalars(sa.select(Customer.id).order_by(Customer.province.asc(), Customer.credit_limit.desc(),
                                                                  Customer.id.desc()).limit(500)).all()
    assert [r["id"] for r in got] == expected


def test_column_filters_contains_range_and_value_list(demo_app):
    client = login(demo_app.test_client(), "clerk")
    hz = rows(client, **{"f.city": "杭州"})
    assert hz["total"] == db.session.scalar(sa.select(sa.func.count()).select_from(Customer)
                                            .where(Customer.city.like("%杭州%")))
    grades = rows(client, size=500, **{"f.value_grade": "A|B"})
    assert {r["value_grade"] for r in grades["rows"]} <= {"A", "B"} and grades["total"] > 0
    limits = rows(client, size=500, **{"f.credit_limit": "10000..50000"})
    assert all(10000 <= float(r["credit_limit"]) <= 50000 for r in limits["rows"])
    bad = client.get("/api/v1/grid/customer/rows", query_string={"f.birth_date": "2024-02-31.."})
    assert bad.status_code == 400 and "日期" in bad.json["message"]
    assert client.get("/api/v1/grid/customer/rows?sort=nonsense").status_code == 400


def test_quick_search_by_name_phone_contact_and_pinyin(demo_app):
    client = login(demo_app.test_client(), "clerk")
    person = db.session.scalars(sa.select(Customer).where(Customer.customer_type == "person",
                                                          Customer.mobile.is_not(None))).first()
    for query in (person.name, person.name_pinyin, person.name_initials, person.mobile[-6:], person.number):
        found = [r["id"] for r in rows(client, q=query, size=500)["rows"]]
        assert person.id in found, query
    contact = db.session.scalars(sa.select(Contact)).first()
    assert contact.customer_id in [r["id"] for r in rows(client, q=contact.name, size=500)["rows"]]


def test_a_salesperson_gets_only_their_rows_counted_and_masked(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = db.session.scalar(sa.select(sa.func.count()).select_from(Customer)
                             .where(Customer.owner_id == user(demo_app, "zhangwei").id))
    result = rows(sales, size=500)
    assert result["total"] == len(result["rows"]) == mine
    accounts = [r["bank_account"] for r in result["rows"] if r["bank_account"]]
    assert accounts and all("****" in a for a in accounts)
    other = db.session.scalars(sa.select(Customer).where(Customer.owner_id != user(demo_app, "zhangwei").id)).first()
    assert rows(sales, q=other.number)["total"] == 0


def test_related_labels_come_in_the_same_few_queries(demo_app):
    client = login(demo_app.test_client(), "clerk")
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = rows(client, size=200)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert result["rows"][0]["region"] is None or "label" in result["rows"][0]["region"]
    customer_queries = [s for s in statements if "FROM customer" in s or "FROM region" in s or "FROM ab_user" in s]
    assert len(customer_queries) < 25, len(customer_queries)  # not one query per row


def test_each_page_read_is_in_the_access_log(demo_app):
    from portal.models import AccessLog

    client = login(demo_app.test_client(), "clerk")
    rows(client, q="杭州")
    entry = db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "list")).all()[-1]
    assert entry.object_type == "Customer" and "grid" in entry.detail and "杭州" in entry.detail


def test_one_row_is_read_again_within_the_scope(demo_app):
    from portal.models import AccessLog

    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = db.session.scalars(sa.select(Customer).where(Customer.owner_id == user(demo_app, "zhangwei").id)).first()
    answer = sales.get(f"/api/v1/grid/customer/rows/{mine.id}")
    assert answer.status_code == 200 and answer.json["row"]["id"] == mine.id
    assert answer.json["row"]["version"] == mine.version
    other = db.session.scalars(sa.select(Customer).where(Customer.owner_id != user(demo_app, "zhangwei").id)).first()
    assert sales.get(f"/api/v1/grid/customer/rows/{other.id}").status_code == 404
    actions = db.session.scalars(sa.select(AccessLog.action).where(AccessLog.username == "zhangwei",
                                                                   AccessLog.object_id == str(other.id))).all()
    assert actions == ["not_found"]


def test_quick_search_by_what_is_typed_whole_mobile_contacts_mobile_and_part_of_a_name(demo_app):
    client = login(demo_app.test_client(), "clerk")
    contact = db.session.scalars(sa.select(Contact).where(Contact.mobile.is_not(None))).first()
    assert contact.customer_id in [r["id"] for r in rows(client, q=contact.mobile, size=500)["rows"]]
    company = db.session.scalars(sa.select(Customer).where(Customer.customer_type == "org")).first()
    middle = company.name[2:4]  # part of the name, as a clerk types a company's key word
    found = rows(client, q=middle, size=500)
    assert company.id in [r["id"] for r in found["rows"]]
    assert all(middle in r["name"] or r["id"] in _customers_with_contact_named(middle) for r in found["rows"])
    assert rows(client, q=company.number.lower(), size=500)["rows"][0]["id"] == company.id


def _customers_with_contact_named(text):
    return set(db.session.scalars(sa.select(Contact.customer_id).where(Contact.name.like(f"%{text}%"))))


def test_a_relation_column_is_filtered_by_the_text_of_its_label(demo_app):
    from portal.models import Region

    client = login(demo_app.test_client(), "clerk")
    east = db.session.scalars(sa.select(Region).where(Region.name.like("%华东%"))).first()
    found = rows(client, size=500, **{"f.region": "华东"})
    assert found["total"] == db.session.scalar(sa.select(sa.func.count()).select_from(Customer)
                                               .where(Customer.region_id == east.id))
    assert {r["region"]["id"] for r in found["rows"]} == {east.id}
    zhangwei = user(demo_app, "zhangwei")
    mine = rows(client, size=500, **{"f.owner": "张伟"})  # family name first, as it is shown
    assert mine["total"] > 0 and {r["owner"]["id"] for r in mine["rows"]} == {zhangwei.id}
