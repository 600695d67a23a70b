"""The import through its JSON API, as the wizard uses it: upload → map → preview → commit →
undo, in the background for a large file, and every kind of bad input answered with a clear
message that changes nothing."""
from __future__ import annotations

import io
import time

import openpyxl
import pytest
import sqlalchemy as sa

from portal.excel import jobs
from portal.extensions import db
from portal.models import AccessLog, ChangeLog, Customer, ImportBatch, ImportRow

from . import files
from .importing import upload
from tests.conftest import login

ROWS = [["客户资料导入"], ["客户名称", "手机", "城市"], ["甲公司", "13800000001", "杭州"],
        ["乙公司", "123", "宁波"], ["丙公司", "13800000003", "温州"]]


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def wait_until(client, batch_id: int, *states, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        answer = client.get(f"/api/v1/import/batches/{batch_id}").get_json()
        if answer["status"] in states:
            return answer
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} stayed {answer['status']}")


def test_upload_map_preview_commit_and_undo_through_the_api(client, tmp_path):
    login(client, "clerk")
    answer = upload(client, ROWS, tmp_path=tmp_path)
    assert answer.status_code == 201, answer.get_json()
    batch = answer.get_json()
    assert batch["header_row"] == 2 and batch["headers"] == ["客户名称", "手机", "城市"]
    assert batch["mapping"] == {"0": "name", "1": "mobile", "2": "city"}
    assert batch["sample"][0] == ["甲公司", "13800000001", "杭州"]
    fields = client.get("/api/v1/import/customer/fields").get_json()
    assert {"name": "name", "label": "客户名称"}.items() <= next(f for f in fields["fields"]
                                                              if f["name"] == "name").items()
    assert any(k["key"] == "name+mobile" for k in fields["match_keys"])
    answer = client.post(f"/api/v1/import/batches/{batch['id']}/prepare",
                         json={"mapping": batch["mapping"], "options": {"match": ["name", "mobile"], "mode": "upsert"},
                               "save_mapping_as": "客户名单"})
    assert answer.status_code == 202, answer.get_json()
    batch = answer.get_json()
    assert batch["status"] == "previewed" and batch["counts"]["new"] == 2 and batch["counts"]["invalid"] == 1
    page = client.get(f"/api/v1/import/batches/{batch['id']}/rows?size=2").get_json()
    assert page["total"] == 3 and [r["status"] for r in page["rows"]] == ["invalid", "new"]  # errors first
    assert page["rows"][0]["row"] == 4 and "mobile" in page["rows"][0]["errors"]
    assert page["rows"][1]["values"]["name"] == "甲公司"
    assert client.get(f"/api/v1/import/batches/{batch['id']}/rows?status=invalid").get_json()["total"] == 1
    assert count(Customer) == 0
    answer = client.post(f"/api/v1/import/batches/{batch['id']}/commit")
    assert answer.status_code == 202 and answer.get_json()["status"] == "committed"
    assert count(Customer) == 2
    report = client.get(f"/api/v1/import/batches/{batch['id']}/errors.xlsx")
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    assert [c.value for c in sheet[2]][:3] == ["乙公司", "123", "宁波"]
    history = client.get("/api/v1/import/batches").get_json()
    assert history["batches"][0]["id"] == batch["id"] and history["batches"][0]["can_undo"]
    answer = client.post(f"/api/v1/import/batches/{batch['id']}/undo", json={})
    assert answer.status_code == 200 and answer.get_json()["status"] == "undone"
    assert count(Customer) == 0
    steps = [e.detail for e in db.session.scalars(sa.select(AccessLog).filter_by(action="import"))]
    assert any('"step": "commit"' in d for d in steps) and any('"step": "undo"' in d for d in steps)


def test_a_large_file_is_checked_and_committed_in_the_background_with_progress(database, template, tmp_path):
    from tests.conftest import _app_on_copy

    gen = _app_on_copy(database, template, IMPORT_BACKGROUND_ROWS=50)
    app = next(gen)
    try:
        client = login(app.test_client(), "clerk")
        rows = [["客户名称", "手机"]] + [[f"客户{i:04d}", f"138{i:08d}"] for i in range(400)]
        batch = upload(client, rows, tmp_path=tmp_path).get_json()
        answer = client.post(f"/api/v1/import/batches/{batch['id']}/prepare",
                             json={"mapping": batch["mapping"], "options": {"mode": "create", "match": []}})
        assert answer.status_code == 202 and answer.get_json()["status"] in ("preparing", "previewed")
        done = wait_until(client, batch["id"], "previewed", "uploaded")
        assert done["status"] == "previewed" and done["counts"]["new"] == 400, done
        stale = client.post(f"/api/v1/import/batches/{batch['id']}/commit", json={"prepared_at": "2000-01-01T00:00:00"})
        assert stale.status_code == 409 and "另一个窗口" in stale.get_json()["message"]
        assert wait_until(client, batch["id"], "previewed")["status"] == "previewed"
        answer = client.post(f"/api/v1/import/batches/{batch['id']}/commit", json={"prepared_at": done["prepared_at"]})
        assert answer.get_json()["status"] in ("committing", "committed")
        done = wait_until(client, batch["id"], "committed", "previewed")
        assert done["status"] == "committed" and done["counts"]["created"] == 400, done
        db.session.expire_all()
        assert count(Customer) == 400
        assert not jobs.progress_path(batch["id"]).exists()
    finally:
        next(gen, None)


def test_a_commit_is_for_the_dry_run_the_clerk_saw_not_one_made_since_in_another_tab(client, tmp_path):
    login(client, "clerk")
    batch = upload(client, ROWS, tmp_path=tmp_path).get_json()
    prepare = f"/api/v1/import/batches/{batch['id']}/prepare"
    seen = client.post(prepare, json={"mapping": batch["mapping"],
                                      "options": {"match": ["name", "mobile"], "mode": "upsert"}}).get_json()
    assert seen["counts"]["new"] == 2 and seen["prepared_at"]
    # Another tab checks the same file again, keeping only the names this time.
    since = client.post(prepare, json={"mapping": {"0": "name"}, "options": {"match": [], "mode": "create"}}).get_json()
    assert since["counts"]["new"] == 3 and since["prepared_at"] != seen["prepared_at"]
    commit = f"/api/v1/import/batches/{batch['id']}/commit"
    stale = client.post(commit, json={"prepared_at": seen["prepared_at"]})
    assert stale.status_code == 409
    assert stale.get_json()["message"] == "此文件已在另一个窗口中重新检查，与所显示的预览不同。请查看新的预览后再导入。"
    assert client.post(commit, json={"prepared_at": "yesterday"}).status_code == 400
    assert count(Customer) == 0
    assert client.get(f"/api/v1/import/batches/{batch['id']}").get_json()["status"] == "previewed"
    answer = client.post(commit, json={"prepared_at": since["prepared_at"]})
    assert answer.status_code == 202 and answer.get_json()["counts"]["created"] == 3
    assert count(Customer) == 3


def test_a_step_whose_process_died_is_put_back_with_a_message(client, tmp_path):
    login(client, "clerk")
    batch = upload(client, ROWS, tmp_path=tmp_path).get_json()
    record = db.session.get(ImportBatch, batch["id"])
    record.status = "preparing"  # as a killed worker leaves it: running, with no progress beating
    db.session.commit()
    answer = client.get(f"/api/v1/import/batches/{batch['id']}").get_json()
    assert answer["status"] == "uploaded" and answer["error"]


@pytest.mark.parametrize("build, status_code", [
    (lambda tmp: _write(tmp / "empty.xlsx", b""), 400),
    (lambda tmp: _write(tmp / "picture.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64), 400),
    (lambda tmp: files.truncated(tmp / "cut.xlsx", files.xlsx(tmp / "whole.xlsx", ROWS * 200)), 400),
    (lambda tmp: files.encrypted_xlsx(tmp / "secret.xlsx", files.xlsx(tmp / "plain.xlsx", ROWS)), 400),
    (lambda tmp: files.zip_bomb_xlsx(tmp / "bomb.xlsx", files.xlsx(tmp / "small.xlsx", ROWS),
                                     unpacked=2_000_000_000), 400),
    (lambda tmp: files.xlsx(tmp / "wide.xlsx", [[f"列{i}" for i in range(10_000)], ["x"] * 10_000],
                            constant_memory=True), 400),
    (lambda tmp: files.xlsx(tmp / "blank.xlsx", [[None], [None]]), 400),
])
def test_bad_files_get_a_clear_message_and_change_nothing(client, tmp_path, build, status_code):
    login(client, "clerk")
    path = build(tmp_path)
    answer = client.post("/api/v1/import/customer/upload",
                         data={"file": (io.BytesIO(path.read_bytes()), path.name)}, content_type="multipart/form-data")
    assert answer.status_code == status_code, answer.get_json()
    message = answer.get_json()["message"]
    assert message and any("\u4e00" <= ch <= "\u9fff" for ch in message)  # in the user's language
    assert count(ImportBatch) == 0 and count(ImportRow) == 0 and count(Customer) == 0


def test_a_file_over_the_upload_limit_is_refused(database, template, tmp_path):
    from tests.conftest import _app_on_copy

    gen = _app_on_copy(database, template, IMPORT_MAX_BYTES=2000)
    app = next(gen)
    try:
        client = login(app.test_client(), "clerk")
        answer = upload(client, [["客户名称"]] + [[f"客户{i}" * 5] for i in range(2000)], tmp_path=tmp_path)
        assert answer.status_code == 413 and answer.get_json()["message"]
        assert count(ImportBatch) == 0
    finally:
        next(gen, None)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_who_may_import_what(client, tmp_path):
    login(client, "auditor")
    assert upload(client, ROWS, tmp_path=tmp_path).status_code == 403
    client.get("/logout/")
    login(client, "marketing")  # reads the archive, writes none of it
    assert upload(client, ROWS, tmp_path=tmp_path).status_code == 403
    client.get("/logout/")
    login(client, "clerk")
    batch = upload(client, ROWS, tmp_path=tmp_path).get_json()
    client.get("/logout/")
    login(client, "sales")  # another user's batch is not theirs to see
    assert client.get(f"/api/v1/import/batches/{batch['id']}").status_code == 404
    assert client.post(f"/api/v1/import/batches/{batch['id']}/commit").status_code == 404
    assert all(b["id"] != batch["id"] for b in client.get("/api/v1/import/batches").get_json()["batches"])
    client.get("/logout/")
    login(client, "custodian")  # the custodian sees every import
    assert client.get(f"/api/v1/import/batches/{batch['id']}").status_code == 200


def test_the_import_template_downloads(client):
    login(client, "clerk")
    answer = client.get("/api/v1/import/customer/template.xlsx")
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    headers = [c.value for c in sheet[1] if c.value]
    assert any(str(h).startswith("客户名称") for h in headers)


def test_an_update_row_in_the_preview_shows_the_whole_row_and_its_diff(client, tmp_path):
    db.session.add(Customer(number="KH-V1", name="甲公司", mobile="13800000001", city="杭州"))
    db.session.commit()
    login(client, "clerk")
    batch = upload(client, [["客户编号", "客户名称", "手机", "城市"], ["KH-V1", "甲公司", "13900000001", "杭州"]],
                   tmp_path=tmp_path).get_json()
    client.post(f"/api/v1/import/batches/{batch['id']}/prepare",
                json={"mapping": batch["mapping"], "options": {"match": ["number"], "mode": "update"}})
    row = client.get(f"/api/v1/import/batches/{batch['id']}/rows").get_json()["rows"][0]
    assert row["status"] == "update" and row["target"]["label"] == "KH-V1 甲公司"
    assert row["values"] == {"number": "KH-V1", "name": "甲公司", "mobile": "13900000001", "city": "杭州"}
    assert row["diff"] == {"mobile": {"label": "手机", "old": "13800000001", "new": "13900000001"}}


def test_an_update_diff_shows_each_kind_of_value_as_the_card_does(client, tmp_path):
    """A choice by its label, a related row by its name, numbers and dates as text, an empty
    old value as nothing: the staged diff keeps the values (and a relation's texts), the
    preview turns them into what the clerk reads."""
    import datetime as dt

    from portal.models import Industry

    old_industry, new_industry = Industry(code="T-OLD", name="旧行业"), Industry(code="T-NEW", name="新行业")
    db.session.add_all([old_industry, new_industry])
    db.session.flush()
    db.session.add(Customer(number="KH-V2", name="乙公司", value_grade="C", employee_count=20,
                            industry_id=old_industry.id, birth_date=dt.date(1985, 3, 2)))
    db.session.commit()
    login(client, "clerk")
    batch = upload(client, [["客户编号", "客户名称", "客户等级", "员工人数", "行业", "出生日期", "城市"],
                            ["KH-V2", "乙公司", "D级", 25, "新行业", "1985/3/3", "杭州"]], tmp_path=tmp_path).get_json()
    client.post(f"/api/v1/import/batches/{batch['id']}/prepare",
                json={"mapping": batch["mapping"], "options": {"match": ["number"], "mode": "update"}})
    row = client.get(f"/api/v1/import/batches/{batch['id']}/rows").get_json()["rows"][0]
    assert row["status"] == "update"
    assert {key: (entry["old"], entry["new"]) for key, entry in row["diff"].items()} == {
        "value_grade": ("C级", "D级"), "employee_count": ("20", "25"), "industry_id": ("旧行业", "新行业"),
        "birth_date": ("1985-03-02", "1985-03-03"), "city": ("", "杭州")}
    # Staged: the values; a relation's texts as well, which the change history keeps.
    staged = db.session.scalars(sa.select(ImportRow).filter_by(batch_id=batch["id"])).one()
    assert staged.diff["value_grade"] == {"old": "C", "new": "D"}
    assert staged.diff["employee_count"] == {"old": 20, "new": 25}
    assert staged.diff["industry_id"] == {"old": old_industry.id, "new": new_industry.id, "old_text": "旧行业",
                                          "new_text": "新行业", "relation": True}
    answer = client.post(f"/api/v1/import/batches/{batch['id']}/commit")
    assert answer.status_code == 202 and answer.get_json()["status"] == "committed"
    customer = db.session.scalars(sa.select(Customer).filter_by(number="KH-V2")).one()
    entry = db.session.scalars(sa.select(ChangeLog).filter_by(source=f"import:{batch['id']}",
                                                              object_id=customer.id)).one()
    assert entry.changes["industry_id"] == {"old": old_industry.id, "new": new_industry.id,
                                            "old_text": "旧行业", "new_text": "新行业"}
    assert entry.changes["value_grade"] == {"old": "C", "new": "D"}


@pytest.mark.parametrize("body", [
    {"mapping": {"first": "name"}},
    {"mapping": {"0": ["name"]}},
    {"mapping": {"0": "name"}, "options": {"choices": "add"}},
    {"mapping": {"0": "name"}, "options": {"match": "number"}},
    {"mapping": {"0": "no_such_field"}},
])
def test_a_malformed_mapping_is_answered_with_a_message_and_nothing_staged(client, tmp_path, body):
    login(client, "clerk")
    batch = upload(client, ROWS, tmp_path=tmp_path).get_json()
    answer = client.post(f"/api/v1/import/batches/{batch['id']}/prepare", json=body)
    assert answer.status_code in (400, 422) and answer.get_json()["message"]
    assert count(ImportRow) == 0 and db.session.get(ImportBatch, batch["id"]).status == "uploaded"


def test_a_step_that_ends_while_its_batch_is_read_is_not_put_back(client, tmp_path):
    """A poll that loaded the batch while its step was running, and looks for the progress file
    only after the step committed its result and removed the file, must not take the batch
    back to where the step started (it would undo a finished preview)."""
    login(client, "clerk")
    batch = upload(client, ROWS, tmp_path=tmp_path).get_json()
    record = db.session.get(ImportBatch, batch["id"])
    record.status = "preparing"
    db.session.commit()
    assert record.status == "preparing"              # loaded: what the poll holds
    with db.engine.begin() as connection:            # the step, in its own session, ends
        connection.execute(sa.update(ImportBatch).where(ImportBatch.id == batch["id"]).values(status="previewed"))
    assert not jobs.progress_path(batch["id"]).exists()
    jobs.settle(record)
    assert record.status == "previewed" and not record.error
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch["id"]).status == "previewed"


@pytest.mark.parametrize("language, template_name, report_name", [
    ("zh", "客户-导入模板.xlsx", "名单-错误报告.xlsx"),
    ("en", "Customers-import template.xlsx", "名单-errors.xlsx"),
])
def test_the_downloads_are_named_in_the_users_language(client, tmp_path, language, template_name, report_name):
    from urllib.parse import quote

    login(client, "clerk")
    if language == "en":
        client.get("/lang/en")
    template = client.get("/api/v1/import/customer/template.xlsx")
    assert f"filename*=UTF-8''{quote(template_name)}" in template.headers["Content-Disposition"]
    batch = upload(client, ROWS, tmp_path=tmp_path).get_json()
    client.post(f"/api/v1/import/batches/{batch['id']}/prepare", json={"mapping": batch["mapping"]})
    report = client.get(f"/api/v1/import/batches/{batch['id']}/errors.xlsx")
    assert f"filename*=UTF-8''{quote(report_name)}" in report.headers["Content-Disposition"]


def test_a_saved_mapping_is_applied_to_an_uploaded_file_and_a_missing_one_is_refused(client, tmp_path):
    login(client, "clerk")
    rows = [["公司全称", "联系电话号"], ["甲公司", "13800000001"]]
    first = upload(client, rows, tmp_path=tmp_path).get_json()
    client.post(f"/api/v1/import/batches/{first['id']}/prepare", json={
        "mapping": {"0": "name", "1": "mobile"}, "options": {"match": ["name", "mobile"], "mode": "create"},
        "save_mapping_as": "展会格式"})
    saved = client.get("/api/v1/import/customer/fields").get_json()["mappings"][0]
    batch = upload(client, rows, name="第二批.xlsx", tmp_path=tmp_path).get_json()
    assert batch["mapping"] == {"0": None, "1": None}
    answer = client.post(f"/api/v1/import/batches/{batch['id']}/sheet",
                         json={"sheet": batch["sheet"], "header_row": 1, "mapping_id": saved["id"]})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["mapping"] == {"0": "name", "1": "mobile"}
    assert answer.get_json()["options"]["mode"] == "create"
    for missing in (saved["id"] + 1000, "x"):
        answer = client.post(f"/api/v1/import/batches/{batch['id']}/sheet", json={"mapping_id": missing})
        assert answer.status_code in (400, 404) and answer.get_json()["message"] == "没有这个已保存的列对应。"
    assert db.session.get(ImportBatch, batch["id"]).mapping == {"0": "name", "1": "mobile"}   # unchanged


@pytest.mark.parametrize("language, label", [("zh", "联系人：姓名"), ("en", "Contact: Name")])
def test_the_first_contacts_fields_are_labelled_as_the_language_writes_them(client, language, label):
    login(client, "clerk")
    if language == "en":
        client.get("/lang/en")
    fields = client.get("/api/v1/import/customer/fields").get_json()["fields"]
    assert next(f["label"] for f in fields if f["name"] == "contact.name") == label


def test_a_rows_messages_follow_the_files_columns_in_the_preview_and_the_error_report(client, tmp_path):
    """The row's message, in the preview and in the error report's last column, names its
    cells in the file's order (on PostgreSQL jsonb kept them ordered by the fields' names)."""
    login(client, "clerk")
    rows = [["客户名称", "邮编", "手机", "电子邮箱"], ["甲公司", "31000", "123", "not-an-email"]]
    batch = upload(client, rows, tmp_path=tmp_path).get_json()
    batch = client.post(f"/api/v1/import/batches/{batch['id']}/prepare",
                        json={"mapping": batch["mapping"], "options": {"match": ["name", "mobile"], "mode": "upsert"}}
                        ).get_json()
    assert batch["counts"]["invalid"] == 1, batch
    row = client.get(f"/api/v1/import/batches/{batch['id']}/rows").get_json()["rows"][0]
    assert set(row["errors"]) == {"postcode", "mobile", "email"}
    report = client.get(f"/api/v1/import/batches/{batch['id']}/errors.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    for message in (row["message"], [c.value for c in sheet[2]][-1]):
        assert message.index("邮编") < message.index("手机") < message.index("电子邮箱"), message
        assert "。；" not in message and "100010。手机：" in message   # a full stop is not followed by ；
