"""Undo and redo of a grid batch (POST …/batches/<id>/undo and …/redo): one step each, by
its author only, never over someone else's later change."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import ChangeLog, Contact, Customer, GridBatch
from tests.conftest import login, user

from .helpers import by_key, customers_of, edit, fresh, history_of, new_id, post_batch


def undo(client, batch_id, resource="customer"):
    return client.post(f"/api/v1/grid/{resource}/batches/{batch_id}/undo")


def redo(client, batch_id, resource="customer"):
    return client.post(f"/api/v1/grid/{resource}/batches/{batch_id}/redo")


def test_undo_restores_old_values_and_refuses_where_changed_since(demo_app):
    clerk, custodian = login(demo_app.test_client(), "clerk"), login(demo_app.test_client(), "custodian")
    first, second = customers_of(demo_app, "zhangwei", 2)
    old_first, old_second = (first.city, first.mobile), second.city
    batch_id = new_id()
    assert post_batch(clerk, [edit(first, "a", city="宁波市", mobile="13800012345"),
                              edit(second, "b", city="温州市")], batch_id=batch_id).json["saved"] == 2
    # Someone else changes the second record after the batch.
    assert post_batch(custodian, [edit(fresh(Customer, second.id), city="台州市")]).json["saved"] == 1
    response = undo(clerk, batch_id)
    assert response.status_code == 200, response.json
    results = by_key(response.json)
    assert response.json["state"] == "undone" and [r["key"] for r in response.json["results"]] == ["a", "b"]
    assert results["a"]["status"] == "ok" and results["a"]["row"]["city"] == old_first[0]
    assert (fresh(Customer, first.id).city, fresh(Customer, first.id).mobile) == old_first
    conflict = results["b"]
    assert conflict["status"] == "conflict" and conflict["conflict"]["their_values"]["city"] == "台州市"
    assert conflict["conflict"]["changed_by"] == user(demo_app, "custodian").get_full_name()
    assert fresh(Customer, second.id).city == "台州市" != old_second  # left as it is
    undone = [e for e in history_of(f"grid:batch:{batch_id}") if e.object_id == first.id]
    assert undone[-1].changes["city"] == {"old": "宁波市", "new": old_first[0]}
    again = undo(clerk, batch_id)
    assert again.status_code == 409 and again.json["message"]
    assert db.session.get(GridBatch, batch_id).undone_at is not None


def test_only_the_author_may_undo_a_batch(demo_app):
    clerk, custodian = login(demo_app.test_client(), "clerk"), login(demo_app.test_client(), "custodian")
    customer = customers_of(demo_app, "zhangwei", 1)[0]
    batch_id = new_id()
    post_batch(clerk, [edit(customer, city="宁波市")], batch_id=batch_id)
    assert undo(custodian, batch_id).status_code == 404
    assert undo(clerk, batch_id, resource="contact").status_code == 404
    assert fresh(Customer, customer.id).city == "宁波市"
    assert redo(clerk, batch_id).status_code == 409  # not undone: nothing to redo


def test_undo_of_created_rows_removes_them(demo_app):
    clerk, custodian = login(demo_app.test_client(), "clerk"), login(demo_app.test_client(), "custodian")
    batch_id = new_id()
    answer = post_batch(clerk, [
        {"key": "plain", "id": None, "values": {"name": "撤销测试一公司"}},
        {"key": "changed", "id": None, "values": {"name": "撤销测试二公司"}},
        {"key": "used", "id": None, "values": {"name": "撤销测试三公司"}},
    ], batch_id=batch_id).json
    created = {key: r["id"] for key, r in by_key(answer).items()}
    changed = fresh(Customer, created["changed"])
    assert post_batch(custodian, [edit(changed, city="杭州市")]).json["saved"] == 1
    used = fresh(Customer, created["used"])
    db.session.add(Contact(customer_id=used.id, name="新联系人"))
    db.session.commit()
    results = by_key(undo(clerk, batch_id).json)
    assert results["plain"]["status"] == "ok" and results["plain"]["deleted"] is True
    assert fresh(Customer, created["plain"]) is None
    assert results["changed"]["status"] == "conflict" and fresh(Customer, created["changed"]) is not None
    assert results["used"]["status"] == "conflict" and fresh(Customer, created["used"]) is not None
    deletion = db.session.scalars(sa.select(ChangeLog).where(
        ChangeLog.object_type == "Customer", ChangeLog.object_id == created["plain"],
        ChangeLog.action == "delete")).one()
    assert deletion.source == f"grid:batch:{batch_id}" and deletion.changes["name"]["old"] == "撤销测试一公司"


def test_redo_reapplies(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    customer = customers_of(demo_app, "zhangwei", 1)[0]
    old_city = customer.city
    batch_id = new_id()
    answer = post_batch(clerk, [edit(customer, "edit", city="宁波市"),
                                {"key": "new", "id": None, "values": {"name": "重做测试公司", "value_grade": "A"}}],
                        batch_id=batch_id).json
    first_id = by_key(answer)["new"]["id"]
    assert undo(clerk, batch_id).json["saved"] == 2
    assert fresh(Customer, customer.id).city == old_city and fresh(Customer, first_id) is None
    response = redo(clerk, batch_id)
    assert response.status_code == 200 and response.json["state"] == "applied"
    results = by_key(response.json)
    assert results["edit"]["row"]["city"] == "宁波市" and fresh(Customer, customer.id).city == "宁波市"
    recreated = results["new"]
    assert recreated["status"] == "ok" and recreated["row"]["id"] == recreated["id"]  # (SQLite may reuse the id)
    again = fresh(Customer, recreated["id"])
    assert (again.name, again.value_grade) == ("重做测试公司", "A")
    assert redo(clerk, batch_id).status_code == 409
    # And once more: the redone batch can be undone again, the recreated record with it.
    assert undo(clerk, batch_id).json["saved"] == 2
    assert fresh(Customer, recreated["id"]) is None and fresh(Customer, customer.id).city == old_city
