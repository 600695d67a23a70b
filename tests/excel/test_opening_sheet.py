"""Which sheet an upload opens on. Workbooks often lead with a sheet of notes (填表说明) or a
summary before the list: the mapping step opens on the first sheet whose header row names a
field, else on the first with a header row at all, and the clerk can still choose another."""
from __future__ import annotations

import io

import pytest

from portal.excel import importer, reader
from portal.extensions import db

from . import files
from tests.conftest import login

LIST = [["客户名称", "手机", "城市"], ["甲公司", "13900000001", "宁波"], ["乙公司", "13900000002", "杭州"]]
NOTES = [["填表说明：请从第二个工作表开始填写，手机号填 11 位。"]]
SUMMARY = [["月份", "新增", "金额"], ["一月", 12, 3400], ["二月", 9, 2100]]


def opened(tmp_path, sheets, **options) -> importer.ImportBatch:
    path = files.workbook(tmp_path / "名单.xlsx", sheets, **options)
    batch = importer.upload(db.session, path, path.name, "customer")
    db.session.commit()
    return batch


def test_a_sheet_of_notes_before_the_list_is_passed_over(app, tmp_path):
    batch = opened(tmp_path, {"说明": NOTES, "客户名单": LIST})
    assert batch.sheet == "客户名单" and batch.header_row == 1
    assert batch.headers == ["客户名称", "手机", "城市"]
    assert batch.mapping == {"0": "name", "1": "mobile", "2": "city"}
    assert batch.sample[0][:2] == ["甲公司", "13900000001"]
    # Both sheets are offered; the notes still have no header when chosen.
    assert [s["name"] for s in batch.sheets] == ["说明", "客户名单"]
    with pytest.raises(reader.ReadError, match="未找到表头行"):
        importer.choose_sheet(db.session, batch, "说明")


def test_a_summary_whose_headers_name_no_field_gives_way_to_the_list(app, tmp_path):
    batch = opened(tmp_path, {"汇总": SUMMARY, "说明": NOTES, "客户名单": LIST})
    assert batch.sheet == "客户名单"


def test_without_a_known_header_the_first_sheet_with_a_header_row_is_opened(app, tmp_path):
    batch = opened(tmp_path, {"说明": NOTES, "汇总": SUMMARY, "另一张": SUMMARY})
    assert batch.sheet == "汇总" and batch.headers == ["月份", "新增", "金额"]


def test_the_first_list_is_opened_when_several_name_fields(app, tmp_path):
    other = [["客户名称", "邮箱"], ["丙公司", "c@example.cn"]]
    batch = opened(tmp_path, {"名单一": LIST, "名单二": other})
    assert batch.sheet == "名单一"


def test_a_visible_list_comes_before_a_hidden_one(app, tmp_path):
    batch = opened(tmp_path, {"旧名单": LIST, "说明": NOTES, "名单": LIST}, hidden=("旧名单",))
    assert batch.sheet == "名单"


def test_a_workbook_with_only_notes_is_refused_as_before(app, tmp_path):
    path = files.workbook(tmp_path / "说明.xlsx", {"说明": NOTES, "备注": [["见附件"]]})
    with pytest.raises(reader.ReadError, match="未找到表头行"):
        importer.upload(db.session, path, path.name, "customer")
    db.session.rollback()
    assert db.session.query(importer.ImportBatch).count() == 0


def test_through_the_api_the_list_is_opened_and_the_notes_refused_with_a_message(client, tmp_path):
    login(client, "clerk")
    path = files.workbook(tmp_path / "展会.xlsx", {"说明": NOTES, "客户名单": LIST})
    answer = client.post("/api/v1/import/customer/upload", data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                         content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    batch = answer.get_json()
    assert batch["sheet"] == "客户名单" and batch["mapping"] == {"0": "name", "1": "mobile", "2": "city"}
    assert batch["sheets"] == [{"name": "说明", "rows": 1, "columns": 1}, {"name": "客户名单", "rows": 3, "columns": 3}]
    answer = client.post(f"/api/v1/import/batches/{batch['id']}/sheet", json={"sheet": "说明"})
    assert answer.status_code == 400 and "表头" in answer.get_json()["message"]
    kept = client.get(f"/api/v1/import/batches/{batch['id']}").get_json()
    assert kept["sheet"] == "客户名单" and kept["headers"] == ["客户名称", "手机", "城市"]


def test_another_sheet_gets_its_own_match_key_and_the_same_sheet_read_again_keeps_them(app, tmp_path):
    other = [["2026 补充名单"], ["客户名称", "城市"], ["嵊泗丙公司", "舟山"]]
    batch = opened(tmp_path, {"名单": LIST, "补充": other})
    assert batch.options["match"] == ["name", "mobile"] and batch.options["mode"] == "upsert"
    batch.options = {**batch.options, "all_or_nothing": True}
    importer.choose_sheet(db.session, batch, "名单", header_row=1)
    assert batch.options["all_or_nothing"] is True                 # the same sheet: kept
    importer.choose_sheet(db.session, batch, "补充")
    assert batch.header_row == 2 and batch.mapping == {"0": "name", "1": "city"}
    # No mobile here: name+mobile would be refused at the check; nothing to match on, so create.
    assert batch.options["match"] == [] and batch.options["mode"] == "create"
    assert batch.options["all_or_nothing"] is False


def test_a_summary_with_one_known_header_gives_way_to_the_list_that_names_more(app, tmp_path):
    # 地区 names a field (the customer's region), 客户数 none; the list names three.
    summary = [["地区", "客户数"], ["杭州", 2], ["宁波", 1]]
    titled = [["2026年展会客户名单"], [], *LIST]
    batch = opened(tmp_path, {"填表说明": NOTES, "汇总": summary, "名单": titled, "第二批": LIST[:2]})
    assert batch.sheet == "名单" and batch.header_row == 3


def test_of_lists_naming_as_many_fields_the_first_is_opened(app, tmp_path):
    other = [["客户名称", "手机", "区县"], ["丙公司", "13900000003", "西湖区"]]
    batch = opened(tmp_path, {"名单一": LIST, "名单二": other})
    assert batch.sheet == "名单一"


def test_a_hidden_sheet_with_known_headers_does_not_win_over_the_visible_list(app, tmp_path):
    visible = [["公司", "电话号"], ["可见公司", "13800000008"]]
    batch = opened(tmp_path, {"名单": visible, "旧数据": LIST}, hidden=("旧数据",))
    assert batch.sheet == "名单"
    assert [{k: v for k, v in s.items() if k != "merged"} for s in batch.sheets] == [
                            {"name": "名单", "rows": 2, "columns": 2},
                            {"name": "旧数据", "rows": 3, "columns": 3, "hidden": True}]


def test_a_hidden_list_is_opened_when_no_visible_sheet_has_a_header(app, tmp_path):
    batch = opened(tmp_path, {"说明": NOTES, "名单": LIST}, hidden=("名单",))
    assert batch.sheet == "名单"
