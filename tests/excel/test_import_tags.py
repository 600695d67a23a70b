"""Tags (标签, many-to-many) in the customer import: a cell lists names, each found in the code
table or handled as the column's choice says; new cards get their links, updates replace
them (compared as sets, the version bumped, the history in the ORM's shape), the undo puts
them back — and a customer export imported again changes nothing."""
from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.excel import importer, mapping, report, steps
from portal.excel.archive import write_archive
from portal.excel.cells import split_names
from portal.excel.importer import ImportRefused, Who
from portal.excel.limits import ExportRules
from portal.excel.template import write_template
from portal.extensions import db
from portal.models import ChangeLog, Customer, ImportBatch, Tag, customer_tag
from tests.conftest import login

from .importing import committed, prepared, staged

# The seeded tags, in their sort order: VIP (0), 生日关怀 (10), 交叉销售 (20), 待核实 (30), 拒收邮件 (40).


def tag(name: str) -> Tag:
    return db.session.scalars(sa.select(Tag).filter_by(name=name)).one()


def tag_ids(*names: str) -> set[int]:
    return {tag(n).id for n in names}


def linked(customer_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(customer_tag.c.tag_id).where(customer_tag.c.customer_id == customer_id)))


def customer(number: str) -> Customer:
    db.session.expire_all()
    return db.session.scalars(sa.select(Customer).filter_by(number=number)).one()


def entries(source: str) -> list[ChangeLog]:
    return db.session.scalars(sa.select(ChangeLog).filter_by(source=source, object_type="Customer")
                              .order_by(ChangeLog.id)).all()


@pytest.fixture
def tagged(app):
    """KH-G1 甲公司 in 杭州 with the tags VIP and 待核实."""
    card = Customer(number="KH-G1", name="甲公司", city="杭州", tags=[tag("待核实"), tag("VIP")])
    db.session.add(card)
    db.session.commit()
    return card


def test_the_templates_tags_column_and_its_aliases_map_to_tags(app):
    stream = io.BytesIO()
    columns = write_template(stream, Customer)
    headers = [c.value for c in openpyxl.load_workbook(io.BytesIO(stream.getvalue())).worksheets[0][1]]
    assert "标签" in headers and "tags" in [c.key for c in columns]
    assert mapping.suggest(Customer, headers, sees_sensitive=True)[str(headers.index("标签"))] == "tags"
    for header in ("标签", "标记", "Tags", "tags："):
        assert mapping.suggest(Customer, ["客户名称", header], sees_sensitive=True) == {"0": "name", "1": "tags"}


def test_the_names_of_a_cell_are_split_on_commas_semicolons_bars_slashes_and_lines_not_spaces():
    assert split_names("VIP、待核实") == ["VIP", "待核实"]
    assert split_names(" VIP ，待核实;交叉销售；拒收邮件\n生日关怀\r\nA|B/C") == \
        ["VIP", "待核实", "交叉销售", "拒收邮件", "生日关怀", "A", "B", "C"]
    assert split_names("重点 客户, vip,,VIP 、") == ["重点 客户", "vip"]   # trimmed, empties dropped, once each
    assert split_names("") == [] and split_names("、 ,") == []


def test_new_cards_get_their_tags_and_a_creation_history_listing_them(app, tmp_path):
    batch = committed(tmp_path, [["客户名称", "标签"], ["甲公司", "待核实、VIP"], ["乙公司", "交叉销售"],
                                 ["丙公司", None]], mode="create")
    assert batch.counts["created"] == 3
    first, second, third = (db.session.scalars(sa.select(Customer).filter_by(name=n)).one()
                            for n in ("甲公司", "乙公司", "丙公司"))
    assert linked(first.id) == tag_ids("VIP", "待核实")
    assert linked(second.id) == tag_ids("交叉销售") and linked(third.id) == set()
    assert [t.name for t in first.tags] == ["VIP", "待核实"]     # the card, in the tags' order
    created = {e.object_id: e for e in entries(f"import:{batch.id}")}
    assert created[first.id].action == "create"
    assert created[first.id].changes["tags"] == {"old": [], "new": ["VIP", "待核实"]}
    assert created[first.id].changes["name"] == {"old": None, "new": "甲公司"}
    assert "tags" not in created[third.id].changes


def test_every_separator_finds_its_tags_and_a_name_may_hold_a_space(app, tmp_path):
    db.session.add(Tag(code="KEY", name="重点 客户", sort_order=5))
    db.session.commit()
    batch = committed(tmp_path, [["客户名称", "标签"], ["甲", "VIP，待核实"], ["乙", "交叉销售;拒收邮件"],
                                 ["丙", "生日关怀\nvip"], ["丁", "重点 客户、 待核实 / 交叉销售"],
                                 ["戊", "重点客户|ＶＩＰ"]], mode="create")
    assert batch.counts["created"] == 5 and batch.counts["invalid"] == 0
    ids = {c.name: linked(c.id) for c in db.session.scalars(sa.select(Customer))}
    assert ids == {"甲": tag_ids("VIP", "待核实"), "乙": tag_ids("交叉销售", "拒收邮件"),
                   "丙": tag_ids("生日关怀", "VIP"), "丁": tag_ids("重点 客户", "待核实", "交叉销售"),
                   "戊": tag_ids("重点 客户", "VIP")}   # spacing and width aside, as a header is matched


def test_a_tag_whose_name_holds_a_separator_is_found_whole(app, tmp_path):
    db.session.add(Tag(code="B2X", name="B2B/B2C", sort_order=50))
    db.session.commit()
    batch = prepared(tmp_path, [["客户名称", "标签"], ["甲", "VIP、B2B/B2C"], ["乙", "b2b/b2c/待核实"], ["丙", "B2B、VIP"]],
                     mode="create")
    rows = staged(batch)
    assert set(rows[2].values["tags"]) == tag_ids("VIP", "B2B/B2C")
    assert set(rows[3].values["tags"]) == tag_ids("B2B/B2C", "待核实")
    assert rows[4].status == "invalid" and "B2B" in rows[4].errors["tags"]


def test_the_staged_value_is_the_sorted_ids_and_rows_do_not_share_it(app, tmp_path):
    batch = prepared(tmp_path, [["客户名称", "标签"], ["甲", "待核实、VIP"], ["乙", "待核实、VIP"]], mode="create")
    rows = staged(batch)
    assert rows[2].values["tags"] == sorted(tag_ids("VIP", "待核实")) == rows[3].values["tags"]
    judge_value = importer.Converter(db.session, mapping.resolve(Customer, "tags", sees_sensitive=True))
    first, again = judge_value("VIP、待核实"), judge_value("VIP、待核实")
    assert first == again and not isinstance(first, list)   # memoised, and immutable: no row can change another's


def test_an_update_replaces_the_tags_with_old_and_new_texts_in_the_preview_and_history(tagged, client, tmp_path):
    batch = prepared(tmp_path, [["客户编号", "城市", "标签"], ["KH-G1", "宁波", "交叉销售、VIP"]],
                     match=["number"], mode="update")
    row = staged(batch)[2]
    assert row.status == "update"
    assert row.diff["tags"]["old_text"] == "VIP、待核实" and row.diff["tags"]["new_text"] == "VIP、交叉销售"
    assert row.diff["tags"]["old_ids"] == sorted(tag_ids("VIP", "待核实"))
    login(client, "admin")
    shown = client.get(f"/api/v1/import/batches/{batch.id}/rows").get_json()["rows"][0]
    assert shown["diff"]["tags"] == {"label": "标签", "old": "VIP、待核实", "new": "VIP、交叉销售"}
    assert shown["values"]["tags"] == "交叉销售、VIP"   # an update row shows the file's cells
    steps.run("commit", batch, Who(), background=False)
    card = customer("KH-G1")
    assert linked(card.id) == tag_ids("VIP", "交叉销售") and card.city == "宁波" and card.version == 2
    [entry] = entries(f"import:{batch.id}")
    assert entry.changes["tags"] == {"old": ["VIP", "待核实"], "new": ["VIP", "交叉销售"]}
    assert entry.changes["city"] == {"old": "杭州", "new": "宁波"}


def test_a_new_rows_preview_shows_its_tags(app, client, tmp_path):
    batch = prepared(tmp_path, [["客户名称", "标签"], ["甲公司", "待核实、VIP"]], mode="create",
                     choices={"tags": "add"})
    login(client, "admin")
    shown = client.get(f"/api/v1/import/batches/{batch.id}/rows").get_json()["rows"][0]
    assert shown["status"] == "new" and shown["values"]["tags"] == "VIP、待核实"


def test_tags_alone_changed_bump_the_version_and_are_in_the_history(tagged, tmp_path):
    batch = committed(tmp_path, [["客户编号", "城市", "标签"], ["KH-G1", "杭州", "生日关怀"]],
                      match=["number"], mode="update")
    assert batch.counts["updated"] == 1
    card = customer("KH-G1")
    assert linked(card.id) == tag_ids("生日关怀") and card.version == 2 and card.city == "杭州"
    [entry] = entries(f"import:{batch.id}")
    assert entry.action == "update" and entry.changes == {"tags": {"old": ["VIP", "待核实"], "new": ["生日关怀"]}}


def test_the_same_tags_in_another_order_or_spelling_leave_the_card_unchanged(tagged, tmp_path):
    batch = prepared(tmp_path, [["客户编号", "标签"], ["KH-G1", "待核实;vip"], ["KH-G1", None]],
                     match=["number"], mode="update")
    assert staged(batch)[2].status == "unchanged"


def test_an_unknown_tag_is_refused_per_cell_by_default(tagged, tmp_path):
    batch = prepared(tmp_path, [["客户编号", "客户名称", "标签"], ["KH-G1", "甲公司", "VIP、金牌、银牌"],
                                ["KH-G2", "乙公司", "VIP"]], match=["number"], mode="upsert")
    rows = staged(batch)
    assert rows[2].status == "invalid" and rows[3].status == "new"
    assert rows[2].errors["tags"] == str(_l("%(label)s: no entries named %(names)s in the list.",
                                            label="标签", names="金牌、银牌"))
    assert rows[2].errors["tags"] == "标签：列表中没有“金牌、银牌”。"   # in the user's language
    path = tmp_path / "errors.xlsx"
    with open(path, "wb") as stream:
        report.write_errors(stream, db.session, batch)
    sheet = openpyxl.load_workbook(path).active
    row = [c.value for c in sheet[2]]
    assert row[:3] == ["KH-G1", "甲公司", "VIP、金牌、银牌"] and "金牌、银牌" in row[4]   # the cell as the file had it


def test_an_unknown_tag_left_out_keeps_the_known_ones_and_a_cell_of_unknown_ones_changes_nothing(tagged, tmp_path):
    batch = committed(tmp_path, [["客户编号", "客户名称", "标签"], ["KH-G1", "甲公司", "金牌"],
                                 ["KH-G2", "乙公司", "金牌、交叉销售"]],
                      match=["number"], mode="upsert", choices={"tags": "empty"})
    rows = staged(batch)
    assert rows[2].status == "unchanged" and rows[3].status == "new"
    assert linked(customer("KH-G1").id) == tag_ids("VIP", "待核实")
    assert linked(customer("KH-G2").id) == tag_ids("交叉销售")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag).filter_by(name="金牌")) == 0


def test_an_unknown_tag_added_is_created_and_removed_again_by_the_undo(tagged, tmp_path):
    batch = committed(tmp_path, [["客户编号", "客户名称", "标签"], ["KH-G1", "甲公司", "VIP、金牌"],
                                 ["KH-G2", "乙公司", "金牌"]],
                      match=["number"], mode="upsert", choices={"tags": "add"})
    rows = staged(batch)
    assert rows[2].diff["tags"]["new_text"] == "VIP、" + str(_l("%(name)s (new)", name="金牌"))
    gold = tag("金牌")
    assert batch.added_codes == {"tag": [gold.id]}
    assert linked(customer("KH-G1").id) == {tag("VIP").id, gold.id}
    assert linked(customer("KH-G2").id) == {gold.id}
    [update] = [e for e in entries(f"import:{batch.id}") if e.action == "update"]
    assert update.changes["tags"] == {"old": ["VIP", "待核实"], "new": ["VIP", "金牌"]}

    steps.run("undo", batch, Who(), background=False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag).filter_by(name="金牌")) == 0
    card = customer("KH-G1")
    assert linked(card.id) == tag_ids("VIP", "待核实") and card.version == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer).filter_by(number="KH-G2")) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(customer_tag)) == 2   # KH-G2's went with it
    undone = {e.action: e for e in entries(f"undo:import:{batch.id}")}
    assert undone["update"].changes["tags"] == {"old": ["VIP", "金牌"], "new": ["VIP", "待核实"]}
    assert undone["delete"].changes["tags"] == {"old": ["金牌"], "new": []}


def test_a_tag_added_by_the_import_and_used_since_stays_after_the_undo(app, tmp_path):
    batch = committed(tmp_path, [["客户名称", "标签"], ["甲公司", "金牌"]], mode="create", choices={"tags": "add"})
    other = Customer(name="别人的客户", tags=[tag("金牌")])
    db.session.add(other)
    db.session.commit()
    steps.run("undo", batch, Who(), background=False)
    assert [c.name for c in db.session.scalars(sa.select(Customer))] == ["别人的客户"]
    assert linked(other.id) == {tag("金牌").id}    # neither the tag nor its links went


def test_the_undo_puts_back_the_previous_tags_of_an_updated_card(tagged, tmp_path):
    batch = committed(tmp_path, [["客户编号", "标签"], ["KH-G1", "拒收邮件"]], match=["number"], mode="update")
    assert linked(customer("KH-G1").id) == tag_ids("拒收邮件")
    steps.run("undo", batch, Who(), background=False)
    card = customer("KH-G1")
    assert linked(card.id) == tag_ids("VIP", "待核实") and card.version == 3
    [restored] = entries(f"undo:import:{batch.id}")
    assert restored.changes == {"tags": {"old": ["拒收邮件"], "new": ["VIP", "待核实"]}}


def test_the_undo_leaves_the_tags_of_a_card_changed_since(tagged, tmp_path):
    batch = committed(tmp_path, [["客户编号", "标签"], ["KH-G1", "拒收邮件"]], match=["number"], mode="update")
    card = customer("KH-G1")
    card.city = "温州"   # someone edits the card after the import
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:
        steps.run("undo", batch, Who(), background=False)
    assert [b["id"] for b in refused.value.extra["blocked"]] == [card.id]
    steps.run("undo", db.session.get(ImportBatch, batch.id), Who(), background=False, partial=True)
    assert linked(customer("KH-G1").id) == tag_ids("拒收邮件")


def test_a_commit_refuses_a_card_whose_tags_alone_moved_on_since_the_preview(tagged, tmp_path):
    batch = prepared(tmp_path, [["客户编号", "标签"], ["KH-G1", "拒收邮件"]], match=["number"], mode="update")
    db.session.execute(sa.update(Customer).where(Customer.number == "KH-G1").values(version=Customer.version + 1))
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:
        steps.run("commit", batch, Who(), background=False)
    assert refused.value.status_code == 409
    assert linked(customer("KH-G1").id) == tag_ids("VIP", "待核实")


def test_a_customer_export_imported_again_changes_nothing(tagged, tmp_path):
    db.session.add(Customer(number="KH-G2", name="乙公司", tags=[tag("拒收邮件"), tag("生日关怀"), tag("VIP")]))
    db.session.add(Customer(number="KH-G3", name="丙公司"))
    db.session.commit()
    stream = io.BytesIO()
    write_archive(stream, db.session, rules=ExportRules(), sees_sensitive=True)
    book = openpyxl.load_workbook(io.BytesIO(stream.getvalue()))
    for name in book.sheetnames[1:]:
        del book[name]
    assert book.sheetnames == ["客户"]
    path = tmp_path / "customers.xlsx"
    book.save(path)
    batch = importer.upload(db.session, path, path.name, "customer", Who())
    db.session.commit()
    assert "tags" in batch.mapping.values()
    steps.run("prepare", batch, Who(), background=False, options={"match": ["number"], "mode": "update"})
    rows = staged(batch)
    assert {r.status for r in rows.values()} == {"unchanged"}, {r.row_no: r.diff or r.errors for r in rows.values()}
