"""What keeps an import safe around its edges: an undo refused with a reason (never a database
error) where records point at what it would remove or a value it would put back is taken; an
update of a customer's contact alone undone on the contact; sensitive columns masked in the
sample and the error report; new customers owned by whoever's file it was; odd requests and an
upload over the limit answered in the user's language; two commits of one batch at once."""
from __future__ import annotations

import datetime as dt
import io
import os
import threading

import openpyxl
import pytest
import sqlalchemy as sa

from portal.context import acting_as
from portal.excel import steps
from portal.excel.importer import ImportRefused, Who
from portal.extensions import db
from portal.models import Contact, Customer, ImportBatch, ImportRow, Visit
from portal.models.key_account import PurchaseProject
from tests.conftest import login, user

from .importing import committed, prepared, upload


def refused_undo(batch: ImportBatch) -> dict:
    """The undo of ``batch`` refused: id → reason of each record kept, the batch as it was."""
    with pytest.raises(ImportRefused) as refused:
        steps.run("undo", batch, Who(), background=False)
    db.session.expire_all()
    assert refused.value.status_code == 409 and batch.status == "committed"
    return {b["id"]: b for b in refused.value.extra["blocked"]}


@pytest.mark.parametrize("attach", ["referral", "purchase project"])
def test_an_undo_keeps_a_created_customer_other_records_point_at_and_says_why(app, tmp_path, attach):
    batch = committed(tmp_path, [["客户编号", "客户名称"], ["KH-G1", "甲公司"], ["KH-G2", "乙公司"]],
                      match=["number"], mode="create")
    first = db.session.scalars(sa.select(Customer).filter_by(number="KH-G1")).one()
    if attach == "referral":
        db.session.add(Customer(number="KH-REF", name="被推荐公司", referred_by_id=first.id))
        what = "客户"
    else:
        db.session.add(PurchaseProject(customer_id=first.id, name="采购项目"))
        what = "大客户采购项目"
    db.session.commit()
    blocked = refused_undo(batch)
    assert list(blocked) == [first.id]
    assert blocked[first.id]["label"] == "KH-G1 甲公司"          # a created record, named as the file gave it
    assert what in blocked[first.id]["reason"]
    steps.run("undo", db.session.get(ImportBatch, batch.id), Who(), background=False, partial=True)
    numbers = set(db.session.scalars(sa.select(Customer.number)))
    assert "KH-G1" in numbers and "KH-G2" not in numbers


def test_an_undo_does_not_put_back_a_unique_value_another_card_has_taken_since(app, tmp_path):
    db.session.add(Customer(number="KH-U1", name="甲公司", credit_code="91330100000000001A"))
    db.session.commit()
    batch = committed(tmp_path, [["客户编号", "客户名称", "统一社会信用代码"], ["KH-U1", "甲公司", "91330100000000002B"]],
                      match=["number"], mode="update")
    assert batch.counts["updated"] == 1
    db.session.add(Customer(number="KH-U2", name="乙公司", credit_code="91330100000000001A"))
    db.session.commit()
    blocked = refused_undo(batch)
    (entry,) = blocked.values()
    assert "统一社会信用代码" in entry["reason"] and "91330100000000001A" in entry["reason"]
    steps.run("undo", db.session.get(ImportBatch, batch.id), Who(), background=False, partial=True)
    assert db.session.scalar(sa.select(Customer.credit_code).filter_by(number="KH-U1")) == "91330100000000002B"


def _credit_code_changed_by_import(tmp_path, before: str, after: str) -> ImportBatch:
    """Card KH-U1 with credit code ``before``, changed to ``after`` by a committed import."""
    db.session.add(Customer(number="KH-U1", name="甲公司", credit_code=before))
    db.session.commit()
    batch = committed(tmp_path, [["客户编号", "客户名称", "统一社会信用代码"], ["KH-U1", "甲公司", after]],
                      match=["number"], mode="update")
    assert batch.counts["updated"] == 1
    assert db.session.scalar(sa.select(Customer.credit_code).filter_by(number="KH-U1")) == after
    return batch


def test_an_undo_does_not_put_back_a_unique_value_another_card_has_taken_since_in_another_case(app, tmp_path):
    batch = _credit_code_changed_by_import(tmp_path, "91330100MA2AAAAAAA", "91330100MA2BBBBBBB")
    db.session.add(Customer(number="KH-U2", name="乙公司", credit_code="91330100ma2aaaaaaa"))
    db.session.commit()
    (entry,) = refused_undo(batch).values()
    assert entry["reason"] == "原来的统一社会信用代码 91330100MA2AAAAAAA 现已被另一条记录使用。"
    assert db.session.scalar(sa.select(Customer.credit_code).filter_by(number="KH-U1")) == "91330100MA2BBBBBBB"


def test_an_undo_puts_back_a_unique_value_whose_case_the_import_changed(app, tmp_path):
    batch = _credit_code_changed_by_import(tmp_path, "91330100ma2aaaaaaa", "91330100MA2AAAAAAA")
    steps.run("undo", db.session.get(ImportBatch, batch.id), Who(), background=False)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Customer.credit_code).filter_by(number="KH-U1")) == "91330100ma2aaaaaaa"


def test_an_update_of_the_contact_alone_is_undone_on_the_contact(app, tmp_path):
    customer = Customer(number="KH-K1", name="甲公司")
    db.session.add(customer)
    db.session.flush()
    db.session.add(Contact(customer_id=customer.id, name="张三", mobile="13900000009", is_primary=True))
    db.session.commit()
    rows = [["客户编号", "客户名称", "联系人", "联系人手机"], ["KH-K1", "甲公司", "张三", "13900000010"]]
    batch = committed(tmp_path, rows, match=["number"], mode="update")
    assert batch.counts["updated"] == 1
    assert db.session.get(Customer, customer.id).version == 1     # the card itself was not written
    steps.run("undo", batch, Who(), background=False)
    assert batch.status == "undone"
    assert db.session.scalar(sa.select(Contact.mobile).filter_by(customer_id=customer.id)) == "13900000009"


def test_an_undo_keeps_a_contact_changed_since_and_names_who_changed_it(app, tmp_path):
    customer = Customer(number="KH-K2", name="甲公司")
    db.session.add(customer)
    db.session.flush()
    contact = Contact(customer_id=customer.id, name="张三", mobile="13900000009", is_primary=True)
    db.session.add(contact)
    db.session.commit()
    rows = [["客户编号", "客户名称", "联系人", "联系人手机"], ["KH-K2", "甲公司", "张三", "13900000010"]]
    batch = committed(tmp_path, rows, match=["number"], mode="update")
    clerk = user(app, "clerk")
    with acting_as(clerk.id):
        db.session.get(Contact, contact.id).position = "经理"
        db.session.commit()
    blocked = refused_undo(batch)
    assert clerk.get_full_name() in blocked[customer.id]["reason"]


def test_an_undo_keeps_a_first_contact_it_created_once_a_visit_names_it(app, tmp_path):
    customer = Customer(number="KH-K3", name="甲公司")
    db.session.add(customer)
    db.session.commit()
    rows = [["客户编号", "客户名称", "联系人", "联系人手机"], ["KH-K3", "甲公司", "李四", "13900000011"]]
    batch = committed(tmp_path, rows, match=["number"], mode="update")
    contact = db.session.scalars(sa.select(Contact).filter_by(customer_id=customer.id)).one()
    db.session.add(Visit(customer_id=customer.id, contact_id=contact.id, visited_on=dt.date.today(), method="visit"))
    db.session.commit()
    blocked = refused_undo(batch)
    assert "访问记录" in blocked[customer.id]["reason"]
    assert db.session.get(Contact, contact.id) is not None


SENSITIVE = [["客户名称", "手机", "身份证号", "收入水平"], ["甲公司", "123", "330102198501011234", "很高"]]


def test_the_sample_and_the_error_report_mask_sensitive_columns_for_a_reader_who_may_not_see_them(app, tmp_path):
    custodian, auditor = app.test_client(), app.test_client()
    login(custodian, "custodian")
    batch = upload(custodian, SENSITIVE, tmp_path=tmp_path).get_json()
    assert batch["sample"][0][2] == "330102198501011234"           # the custodian sees everything
    answer = custodian.post(f"/api/v1/import/batches/{batch['id']}/prepare",
                            json={"mapping": batch["mapping"], "options": {"mode": "create", "match": []}})
    assert answer.status_code == 202 and answer.get_json()["counts"]["invalid"] == 1
    login(auditor, "auditor")
    seen = auditor.get(f"/api/v1/import/batches/{batch['id']}").get_json()
    assert seen["sample"][0] == ["甲公司", "123", "****", "****"]
    report = auditor.get(f"/api/v1/import/batches/{batch['id']}/errors.xlsx")
    assert report.status_code == 200
    row = [c.value for c in openpyxl.load_workbook(io.BytesIO(report.data)).active[2]]
    assert row[:4] == ["甲公司", "123", "****", "****"]
    assert "330102198501011234" not in repr(row) and "很高" not in repr(row)
    mine = custodian.get(f"/api/v1/import/batches/{batch['id']}/errors.xlsx")
    assert [c.value for c in openpyxl.load_workbook(io.BytesIO(mine.data)).active[2]][2] == "330102198501011234"


def test_a_salespersons_list_committed_by_the_custodian_stays_the_salespersons(app, tmp_path):
    sales, custodian = user(app, "sales"), user(app, "custodian")
    batch = prepared(tmp_path, [["客户名称", "手机"], ["我的新客户", "13800000071"]],
                     who=Who(user=sales, sees_sensitive=False), mode="create", match=[])
    steps.run("commit", batch, Who(user=custodian, sees_sensitive=True), background=False)
    assert db.session.scalars(sa.select(Customer)).one().owner_id == sales.id


def test_odd_requests_get_a_message_not_an_error(client, tmp_path):
    login(client, "clerk")
    batch = upload(client, [["客户名称", "手机"], ["甲公司", "13800000001"]], tmp_path=tmp_path).get_json()
    base = f"/api/v1/import/batches/{batch['id']}"
    answer = client.post(f"{base}/sheet", json=["a"])
    assert answer.status_code == 400 and "JSON" in answer.get_json()["message"]
    assert client.post(f"{base}/sheet", json={"header_row": 1.5}).status_code == 400
    answer = client.post(f"{base}/prepare", json={"mapping": batch["mapping"], "options": {"mode": "create"},
                                                  "save_mapping_as": {"name": "x"}})
    assert answer.status_code == 400 and answer.get_json()["message"] == "保存列对应时须填写名称。"
    answer = client.post(f"{base}/prepare", json={"mapping": batch["mapping"],
                                                  "options": {"mode": "create", "match": [], "all_or_nothing": "no"}})
    assert answer.status_code == 202 and answer.get_json()["options"]["all_or_nothing"] is False
    assert client.get(f"{base}/rows?page=99999999999999999999").get_json()["rows"] == []
    assert client.get("/api/v1/import/batches?page=99999999999999999999").status_code == 200
    assert client.get("/api/v1/import/batches/99999999999999999999").status_code == 404
    client.post(f"{base}/commit")
    assert client.post(f"{base}/undo", json={"partial": "maybe"}).status_code == 400
    assert client.post(f"{base}/undo", json={"partial": "false"}).status_code == 200


def test_a_file_over_the_upload_limit_is_refused_in_the_users_language(database, template, tmp_path):
    from tests.conftest import _app_on_copy

    gen = _app_on_copy(database, template, MAX_CONTENT_LENGTH=20_000)   # MAX_UPLOAD_MB, for Flask itself
    app = next(gen)
    try:
        client = login(app.test_client(), "clerk")
        rows = [["客户名称", "备注"]] + [[f"客户{i}", os.urandom(100).hex()] for i in range(400)]
        answer = upload(client, rows, tmp_path=tmp_path)
        assert answer.status_code == 413 and answer.is_json
        assert answer.get_json()["message"] == "一次最多只能上传 0.0191 MB，未保存任何内容。"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
        client.get("/lang/en")
        answer = upload(client, rows, tmp_path=tmp_path)
        assert answer.get_json()["message"] == "At most 0.0191 MB can be uploaded at once; nothing was saved."
    finally:
        next(gen, None)


def test_of_two_commits_of_one_batch_at_once_the_second_is_told_it_was_imported(app, tmp_path):
    """The first commit holds the batch (here a second connection stands in for it, holding the
    claim until told); the second waits, then is refused with the batch's new status instead of
    clashing with the first one's records."""
    batch = prepared(tmp_path, [["客户编号", "客户名称"], ["KH-R1", "甲公司"]], match=["number"], mode="create")
    table = ImportBatch.__table__
    engine = db.engine
    first = engine.connect()
    holding = first.begin()
    first.execute(sa.update(table).where(table.c.id == batch.id).values(status=table.c.status))
    outcome = {}

    def second_commit():
        with app.app_context():
            again = db.session.get(ImportBatch, batch.id)
            try:
                steps.run("commit", again, Who(), background=False)
                outcome["status"] = again.status
            except ImportRefused as exc:
                outcome["refused"] = str(exc.message)
            finally:
                db.session.remove()

    thread = threading.Thread(target=second_commit)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()                       # waiting for the first
    first.execute(sa.update(table).where(table.c.id == batch.id).values(status="committed"))
    holding.commit()
    first.close()
    thread.join(30)
    assert outcome == {"refused": "此次导入的状态为“已导入”，现在不能执行此操作。"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_a_message_naming_its_field_is_not_prefixed_with_the_field_again(app, tmp_path):
    from portal.excel.report import error_text

    batch = prepared(tmp_path, [["客户名称", "所属地区", "手机"], ["甲公司", "火星", "123"]], mode="create", match=[],
                     choices={"region_id": "reject"})
    (row,) = [r for r in db.session.scalars(sa.select(ImportRow).filter_by(batch_id=batch.id))]
    text = error_text(batch, row.errors)
    assert text.count("所属地区") == 1 and "所属地区：列表中没有“火星”。" in text
    assert text.count("手机") == 2 and "手机：手机号码无效" in text
    # in the file's column order; the first ends with its own full stop, so no ； follows it
    assert text.index("所属地区") < text.index("手机") and "“火星”。手机：" in text and "；" not in text


def test_background_steps_speak_the_clerks_language_and_a_refused_undo_lists_its_records(database, template,
                                                                                         tmp_path):
    import time

    from tests.conftest import _app_on_copy

    gen = _app_on_copy(database, template, IMPORT_BACKGROUND_ROWS=1)   # every step in the background
    app = next(gen)

    def settled(client, batch_id, *states):
        for _ in range(300):
            answer = client.get(f"/api/v1/import/batches/{batch_id}").get_json()
            if answer["status"] in states:
                return answer
            time.sleep(0.1)
        raise AssertionError(answer["status"])

    try:
        client = login(app.test_client(), "clerk")
        client.get("/lang/en")
        rows = [["客户名称", "手机"], ["甲公司", "13800000001"], ["乙公司", "123"]]
        batch = upload(client, rows, tmp_path=tmp_path).get_json()
        base = f"/api/v1/import/batches/{batch['id']}"
        assert client.post(f"{base}/prepare", json={"mapping": batch["mapping"],
                                                    "options": {"mode": "create", "match": []}}).status_code == 202
        settled(client, batch["id"], "previewed")
        (row,) = client.get(f"{base}/rows?status=invalid").get_json()["rows"]
        assert row["errors"]["mobile"].startswith("Not a valid mobile number")   # stored by the background job
        client.post(f"{base}/commit")
        settled(client, batch["id"], "committed")
        card = db.session.scalars(sa.select(Customer).filter_by(name="甲公司")).one()
        card.city = "杭州"
        db.session.commit()
        answer = client.post(f"{base}/undo", json={})
        assert answer.status_code == 409
        assert [b["label"] for b in answer.get_json()["blocked"]] == ["甲公司"]
        assert "Changed since the import" in answer.get_json()["blocked"][0]["reason"]
    finally:
        next(gen, None)
