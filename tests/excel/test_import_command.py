"""`flask portal import FILE --model … [--mapping NAME] [--dry-run]`: the same engine as the
wizard, from a shell, with its counts printed and clear messages for what it refuses."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import ChangeLog, Customer, ImportBatch, ImportMapping

from . import files

NOTES = [["填表说明：名单在第二个工作表。"]]
LIST = [["客户名称", "手机", "城市"], ["舟山甲公司", "13900010001", "舟山"], ["舟山乙公司", "1390001000", "舟山"]]


def run(app, *args):
    return app.test_cli_runner().invoke(args=["portal", "import", *map(str, args)])


def named(name: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.name == name))


def test_a_dry_run_reports_and_writes_nothing(app, tmp_path):
    path = files.workbook(tmp_path / "名单.xlsx", {"说明": NOTES, "名单": LIST})
    result = run(app, path, "--model", "customer", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "sheet 名单, header on row 1" in result.output
    assert "客户名称 → name" in result.output and "手机 → mobile" in result.output
    assert "new 1" in result.output and "invalid 1" in result.output and "dry run: nothing written" in result.output
    assert named("舟山甲公司") == 0
    assert db.session.scalars(sa.select(ImportBatch)).one().status == "previewed"


def test_a_saved_mapping_maps_headers_nothing_recognises_and_the_import_commits(app, tmp_path):
    db.session.add(ImportMapping(resource="customer", name="渔业展", by_header={"单位": "name", "联系手机": "mobile"}))
    db.session.commit()
    path = files.xlsx(tmp_path / "渔业展.xlsx", [["单位", "联系手机"], ["岱山渔业合作社", "13900010002"]])
    result = run(app, path, "--model", "customer", "--mapping", "渔业展", "--mode", "create")
    assert result.exit_code == 0, result.output
    assert "imported: created 1, updated 0, skipped 0" in result.output
    card = db.session.scalars(sa.select(Customer).filter_by(name="岱山渔业合作社")).one()
    assert card.mobile == "13900010002"
    batch = db.session.scalars(sa.select(ImportBatch)).one()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChangeLog).where(
        ChangeLog.source == f"import:{batch.id}", ChangeLog.object_id == card.id)) == 1


def test_sheet_and_header_row_can_be_named(app, tmp_path):
    other = [["2026 渔业展名单"], ["客户名称", "城市"], ["嵊泗丙公司", "舟山"]]
    path = files.workbook(tmp_path / "两张.xlsx", {"名单": LIST, "补充": other})
    result = run(app, path, "--model", "customer", "--sheet", "补充", "--header-row", "2", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "sheet 补充, header on row 2" in result.output and "new 1" in result.output


def test_what_the_command_refuses_it_says_and_changes_nothing(app, tmp_path):
    path = files.xlsx(tmp_path / "名单.xlsx", LIST)
    not_a_sheet = tmp_path / "说明.xlsx"
    not_a_sheet.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))   # a picture renamed
    for args, says in (
            ((path, "--model", "customer", "--mapping", "没有这个"), "no mapping named 没有这个"),
            ((path, "--model", "customer", "--sheet", "没有这张"), "没有这张"),
            ((path, "--model", "customer", "--header-row", "99"), "99"),
            ((not_a_sheet, "--model", "customer"), "不是电子表格"),
    ):
        result = run(app, *args)
        assert result.exit_code != 0, (args, result.output)
        assert says in result.output and "Traceback" not in result.output, (args, result.output)
        assert result.output.strip().startswith("Error:"), result.output
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
    assert named("舟山甲公司") == 0


def test_a_dry_run_names_the_rows_it_would_not_import_and_can_write_them_out(app, tmp_path):
    import openpyxl

    path = files.xlsx(tmp_path / "名单.xlsx", LIST)
    report = tmp_path / "errors.xlsx"
    result = run(app, path, "--model", "customer", "--dry-run", "--errors", report)
    assert result.exit_code == 0, result.output
    assert "  row 3: 手机：" in result.output                 # the row as Excel numbers it, and why
    assert "1 rows not imported written to" in result.output
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(report).active.iter_rows()]
    assert rows[1][:3] == ["舟山乙公司", "1390001000", "舟山"] and rows[1][3] == 3
