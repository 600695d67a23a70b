"""The security gate on the demo archive: row scope, masking, IDOR, access log."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AccessLog, Contact, Customer, SalesTeam, Transaction, team_member
from tests.conftest import login, user

DEMO = "Demo@2026!"


def demo_login(client, username):
    return login(client, username, DEMO)


def owned_by(username, app):
    return db.session.scalars(sa.select(Customer).where(Customer.owner_id == user(app, username).id)
                              .order_by(Customer.id)).all()


def foreign_customer(app, username):
    """A customer some other salesperson owns."""
    return db.session.scalars(sa.select(Customer).where(Customer.owner_id != user(app, username).id,
                                                        Customer.owner_id.is_not(None)).order_by(Customer.id)).first()


def log_entries(action, **where):
    query = sa.select(AccessLog).where(AccessLog.action == action)
    for key, value in where.items():
        query = query.where(getattr(AccessLog, key) == value)
    return db.session.scalars(query.order_by(AccessLog.id)).all()


def api_count(client, resource):
    response = client.get(f"/api/v1/{resource}/?q=" + json.dumps({"page_size": 1}))
    assert response.status_code == 200, response.text
    return response.json["count"]


@pytest.fixture
def sales(demo_app):
    client = demo_app.test_client()
    return demo_login(client, "zhangwei")


# -- row scope ----------------------------------------------------------------------------

def test_a_salesperson_sees_exactly_their_own_customers_and_their_records(demo_app, sales):
    mine = owned_by("zhangwei", demo_app)
    assert 0 < len(mine) < db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    assert api_count(sales, "customer") == len(mine)
    html = sales.get("/customerview/list/").text
    shown = re.search(r"记录数:\s*</strong>\s*(\d+)", html)
    assert shown and int(shown.group(1)) == len(mine)
    my_ids = [c.id for c in mine]
    contacts = db.session.scalar(sa.select(sa.func.count()).select_from(Contact).where(Contact.customer_id.in_(my_ids)))
    assert api_count(sales, "contact") == contacts


def test_a_manager_sees_the_teams_customers(demo_app):
    client = demo_login(demo_app.test_client(), "zhouqiang")
    manager = user(demo_app, "zhouqiang")
    teams = db.session.scalars(sa.select(SalesTeam.id).where(SalesTeam.manager_id == manager.id)).all()
    members = db.session.scalars(sa.select(team_member.c.user_id).where(team_member.c.team_id.in_(teams))).all()
    expected = db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(sa.or_(
        Customer.owner_id.in_([*members, manager.id]), Customer.team_id.in_(teams))))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    assert 0 < expected < total
    assert api_count(client, "customer") == expected


@pytest.mark.parametrize("username", ["custodian", "auditor", "clerk", "marketing"])
def test_roles_with_the_whole_archive_see_every_customer(demo_app, username):
    client = login(demo_app.test_client(), username)
    assert api_count(client, "customer") == db.session.scalar(sa.select(sa.func.count()).select_from(Customer))


def test_another_salespersons_customer_is_not_found_on_every_path_and_each_attempt_is_logged(demo_app, sales):
    other = foreign_customer(demo_app, "zhangwei")
    name_before = other.name
    contact = db.session.scalars(sa.select(Contact).where(Contact.customer_id == other.id)).first()
    txn = db.session.scalars(sa.select(Transaction).where(Transaction.customer_id == other.id)).first()
    attempts = [
        ("get", f"/customerview/show/{other.id}"),
        ("get", f"/customerview/edit/{other.id}"),
        ("post", f"/customerview/edit/{other.id}"),
        ("get", f"/customerview/former/{other.id}"),
        ("get", f"/api/v1/customer/{other.id}"),
    ]
    if contact is not None:
        attempts += [("get", f"/contactview/show/{contact.id}"), ("get", f"/api/v1/contact/{contact.id}")]
    if txn is not None:
        attempts.append(("get", f"/transactionview/show/{txn.id}"))
    for method, url in attempts:
        if method == "post":
            response = sales.post(url, data={"name": "篡改", "customer_type": "org", "version": "1"})
        else:
            response = sales.get(url)
        assert response.status_code == 404, (url, response.status_code)
    put = sales.put(f"/api/v1/customer/{other.id}", json={"name": "篡改", "version": other.version})
    assert put.status_code == 404
    db.session.expire_all()
    assert db.session.get(Customer, other.id).name == name_before
    logged = log_entries("not_found")
    assert len(logged) >= len(attempts)
    assert all(entry.username == "zhangwei" for entry in logged)
    assert {"Customer"} <= {entry.object_type for entry in logged}


def test_search_and_filters_cannot_reach_outside_the_scope(demo_app, sales):
    other = foreign_customer(demo_app, "zhangwei")
    html = sales.get(f"/customerview/list/?_flt_0_name={other.name}").text
    assert other.number not in html
    html = sales.get(f"/contactview/list/?_flt_0_customer={other.id}").text
    for contact in other.contacts:
        assert f"/contactview/show/{contact.id}" not in html


def test_related_dropdowns_offer_only_customers_in_scope(demo_app, sales):
    other = foreign_customer(demo_app, "zhangwei")
    mine = owned_by("zhangwei", demo_app)[0]
    html = sales.get("/contactview/add").text
    assert f'value="{mine.id}"' in html
    assert f'value="{other.id}">{other}' not in html
    response = sales.post("/contactview/add", data={"customer": str(other.id), "name": "偷偷加的"})
    assert response.status_code == 200  # refused: not one of the choices
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact).where(Contact.name == "偷偷加的")) == 0


# -- masking ------------------------------------------------------------------------------

def _customer_with(field, owner_username, app):
    owner = user(app, owner_username)
    return db.session.scalars(sa.select(Customer).where(getattr(Customer, field).is_not(None),
                                                        Customer.owner_id == owner.id)).first()


def test_sensitive_fields_are_masked_for_a_salesperson_everywhere(demo_app, sales):
    customer = _customer_with("bank_account", "zhangwei", demo_app) or _customer_with("id_number", "zhangwei", demo_app)
    assert customer is not None
    secret = customer.bank_account or customer.id_number
    card = sales.get(f"/customerview/show/{customer.id}").text
    assert secret not in card and "****" in card
    api = sales.get(f"/api/v1/customer/{customer.id}").json["result"]
    assert secret not in json.dumps(api, ensure_ascii=False)
    if customer.bank_account:
        assert api["bank_account"] == f"{secret[:4]} **** **** {secret[-4:]}"
    edit = sales.get(f"/customerview/edit/{customer.id}").text
    assert secret not in edit


def test_the_custodian_sees_sensitive_fields_in_full(demo_app):
    customer = _customer_with("bank_account", "zhangwei", demo_app)
    client = login(demo_app.test_client(), "custodian")
    assert customer.bank_account in client.get(f"/customerview/show/{customer.id}").text
    assert client.get(f"/api/v1/customer/{customer.id}").json["result"]["bank_account"] == customer.bank_account


def test_a_salesperson_cannot_change_a_sensitive_field(demo_app, sales):
    customer = owned_by("zhangwei", demo_app)[0]
    before = (customer.credit_limit, customer.id_number)
    response = sales.put(f"/api/v1/customer/{customer.id}", json={"credit_limit": "999999", "version": customer.version})
    assert response.status_code == 403
    from tests.conftest import form_version

    data = {"name": customer.name, "customer_type": customer.customer_type, "number": customer.number,
            "credit_limit": "999999", "version": form_version(sales, f"/customerview/edit/{customer.id}")}
    response = sales.post(f"/customerview/edit/{customer.id}", data=data)
    assert response.status_code == 200 and "无权" in response.text
    db.session.expire_all()
    assert (db.session.get(Customer, customer.id).credit_limit, db.session.get(Customer, customer.id).id_number) == before
    assert log_entries("denied", object_type="Customer")


def test_a_salesperson_edit_without_sensitive_fields_keeps_them(demo_app, sales):
    from tests.conftest import form_version

    customer = _customer_with("id_number", "zhangwei", demo_app) or owned_by("zhangwei", demo_app)[0]
    before = (customer.id_number, customer.credit_limit, customer.bank_account)
    data = {"name": customer.name + "（改）", "customer_type": customer.customer_type, "number": customer.number,
            "version": form_version(sales, f"/customerview/edit/{customer.id}")}
    assert sales.post(f"/customerview/edit/{customer.id}", data=data).status_code == 302
    db.session.expire_all()
    after = db.session.get(Customer, customer.id)
    assert after.name.endswith("（改）")
    assert (after.id_number, after.credit_limit, after.bank_account) == before


# -- access log ---------------------------------------------------------------------------

def test_logins_lists_cards_and_denials_are_logged(demo_app):
    client = demo_app.test_client()
    client.post("/login/", data={"username": "zhangwei", "password": "wrong"})
    assert log_entries("login_failed", username="zhangwei")
    demo_login(client, "zhangwei")
    assert log_entries("login", username="zhangwei")
    client.get("/customerview/list/?_flt_0_city=杭州市")
    [listing] = log_entries("list", username="zhangwei")
    assert "杭州市" in listing.detail and listing.row_count is not None
    mine = owned_by("zhangwei", demo_app)[0]
    client.get(f"/customerview/show/{mine.id}")
    assert [e.object_id for e in log_entries("show", username="zhangwei")] == [str(mine.id)]
    client.get("/regionview/add")
    denied = log_entries("denied", username="zhangwei")
    assert denied and denied[-1].object_type == "RegionView"
    assert all(e.ip for e in log_entries("show"))


def test_the_access_log_is_append_only(demo_app):
    from portal.security import access_log

    access_log.record("list", "Customer", row_count=3, username="someone")
    entry = db.session.scalars(sa.select(AccessLog)).first()
    entry.detail = "rewritten"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE access_log SET action = 'x'"))


def test_retention_keeps_three_years_at_least(demo_app):
    import datetime as dt

    from portal.security import access_log

    demo_app.config["ACCESS_LOG_RETENTION_DAYS"] = 30  # too short: the floor applies
    with db.engine.begin() as conn:
        conn.execute(sa.insert(AccessLog.__table__), [
            {"at": dt.datetime.now() - dt.timedelta(days=365 * 2), "action": "list"},
            {"at": dt.datetime.now() - dt.timedelta(days=365 * 4), "action": "list"}])
    assert access_log.prune() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog)) == 1


def test_the_auditor_reads_and_filters_the_access_log_and_nobody_else_does(demo_app):
    demo_login(demo_app.test_client(), "zhangwei")
    auditor = login(demo_app.test_client(), "auditor")
    html = auditor.get("/accesslogview/list/?_flt_0_username=zhangwei").text
    assert "zhangwei" in html and "登录成功" in html
    assert demo_login(demo_app.test_client(), "lina").get("/accesslogview/list/").status_code != 200


def test_the_start_page_counts_and_lists_only_customers_in_scope(demo_app, sales):
    mine = owned_by("zhangwei", demo_app)
    others = db.session.scalars(sa.select(Customer).where(Customer.owner_id != user(demo_app, "zhangwei").id)
                                .order_by(Customer.changed_on.desc()).limit(8)).all()
    html = sales.get("/").text
    recent = html[html.index('id="recent-cards"'):]
    assert not any(f"/customerview/show/{c.id}\"" in recent for c in others)
    # The glance panel's first figures are the cards per stage (potential, current, former).
    glance = html[html.index('id="stage-counts"'):]
    counts = [int(n.replace(",", "")) for n in __import__("re").findall(
        r'data-figure="(?:potential|current|former)".*?class="dashboard-number"[^>]*>([\d,]+)<', glance, flags=16)]
    assert len(counts) == 3 and sum(counts) == len(mine)
