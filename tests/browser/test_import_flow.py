"""The Excel import as a clerk does it, in the browser: a messy workbook uploaded, its
columns mapped (suggestions from the registry), the dry run's counts, messages and diffs,
a reload in the middle, the commit, the downloads, the undo (also refused in part for a
record changed since), the history, and who may open which import page.

Screenshots for the README: PORTAL_SCREENSHOTS=docs .venv/bin/pytest -m browser
tests/browser/test_import_flow.py -k whole_flow (1400×900, written to that folder)."""
from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
import xlsxwriter

from portal.extensions import db
from portal.models import Customer
from tests.conftest import PASSWORD, _app_on_copy

from .conftest import LiveServer, open_session
from .gridpage import count, fresh

SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS")
# The wizard's root (null-safe: a wait may start while the previous page is still shown).
PAGE = "(document.getElementById('import-page') || {dataset: {}})"
HISTORY_READY = "() => (document.getElementById('import-history-page') || {dataset: {}}).dataset.state === 'ready'"
HEADERS = ["客户编号", "客户名称", "客户类型", "手机", "城市", "备注"]


# -- the workbook and the page -------------------------------------------------------------

def messy_workbook(path: Path, rows: list[list], title: str = "2026 春季展会客户名单") -> Path:
    """A sheet as they arrive: a merged title row and an empty row above the header."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("展会名单")
    sheet.merge_range(0, 0, 0, len(HEADERS) - 1, title, workbook.add_format({"bold": True, "align": "center"}))
    sheet.write_row(2, 0, HEADERS, workbook.add_format({"bold": True}))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            sheet.write_string(3 + i, j, value) if isinstance(value, str) else sheet.write(3 + i, j, value)
    workbook.close()
    return path


def existing_customer() -> Customer:
    db.session.rollback()
    return db.session.scalars(sa.select(Customer).where(
        Customer.customer_type == "org", Customer.mobile.is_not(None), Customer.city.is_not(None))
        .order_by(Customer.id).limit(1)).one()


def unused_mobile(start: int = 13900000001) -> str:
    number = start
    while db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.mobile == str(number))):
        number += 1
    return str(number)


class ImportPage:
    def __init__(self, page, live):
        self.page, self.live = page, live

    def open(self, resource: str = "customer"):
        self.page.goto(f"{self.live.url}/import/{resource}/")
        self.wait_state("upload")
        return self

    def wait_state(self, state: str, timeout: int = 30000):
        self.page.wait_for_function(
            f"() => {PAGE}.dataset.state === '{state}'", timeout=timeout)

    def rows_loads(self) -> int:
        return int(self.page.evaluate(f"{PAGE}.dataset.rowsLoads || 0"))

    def wait_rows(self, after: int = 0):
        self.page.wait_for_function(
            f"() => Number({PAGE}.dataset.rowsLoads || 0) > {after}")

    def wait_status(self, status: str):
        self.page.wait_for_function(
            f"() => window.portalImportWizard && (window.portalImportWizard.state.batch || {{}}).status === '{status}'",
            timeout=30000)

    def batch(self) -> dict:
        return self.page.evaluate("window.portalImportWizard.state.batch")

    def badge(self, status: str) -> int:
        return int(self.page.locator(f"#import-tabs li[data-status='{status}'] .badge").inner_text().replace(",", ""))

    def column_select(self, header: str):
        index = self.batch()["headers"].index(header)
        return self.page.locator(f"#import-columns tr[data-column='{index}'] select.import-field")

    def cell(self, row: int, field: str):
        return self.page.locator(f"#import-rows tr[data-row='{row}'] td[data-field='{field}']")

    def upload(self, path: Path):
        self.page.set_input_files("#import-file", str(path))
        self.wait_state("mapping")

    def drop(self, path: Path):
        """Drop the file on the drop zone, as dragging it from the desktop does."""
        data = base64.b64encode(path.read_bytes()).decode()
        self.page.evaluate("""([name, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name));
            const zone = document.getElementById('import-drop');
            zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""", [path.name, data])
        self.wait_state("mapping")

    def prepare(self):
        before = self.rows_loads()
        self.page.click("#import-prepare")
        self.wait_state("preview")
        self.wait_rows(before)

    def commit(self):
        self.page.click("#import-commit")
        self.wait_status("committed")
        self.wait_state("result")


def read_download(download) -> openpyxl.Workbook:
    data = Path(download.path()).read_bytes()
    assert data[:2] == b"PK", "not an xlsx (zip) file"
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True)


def all_values(workbook) -> list[list]:
    return [[c for c in row] for ws in workbook.worksheets for row in ws.iter_rows(values_only=True)]


@pytest.fixture
def clerk(browser, live):
    page = open_session(browser, live, "clerk", PASSWORD)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    assert not page.js_errors, page.js_errors
    page.context.close()


# -- the tests -----------------------------------------------------------------------------

def test_whole_flow_upload_map_preview_reload_commit_downloads_undo(clerk, live, tmp_path):
    old = existing_customer()
    old_id, old_number, old_name, old_mobile = old.id, old.number, old.name, old.mobile
    new_mobile = unused_mobile()
    path = messy_workbook(tmp_path / "展会名单.xlsx", [
        ["IMP2026001", "杭州新星贸易有限公司", "企业", "139 0000 1234", "杭州", "展会 A 区"],
        ["IMP2026002", "宁波错号电器有限公司", "企业", "1391234", "宁波", ""],
        [old_number, old_name, "企业", new_mobile, old.city, ""],
        ["IMP2026001", "杭州新星贸易有限公司", "企业", "139 0000 1234", "杭州", "展会 A 区"],
        ["IMP2026003", "温州新客户有限公司", "企业", "13700001111", "温州", ""],
    ])
    ui = ImportPage(clerk, live).open()

    # The template download is a real workbook with the registry's headers.
    with clerk.expect_download() as template:
        clerk.click("#import-template")
    first_rows = [str(v) for row in all_values(read_download(template.value))[:3] for v in row if v is not None]
    assert any("客户名称" in v for v in first_rows), first_rows

    ui.upload(path)
    assert re.search(r"/import/batches/\d+$", clerk.url), clerk.url
    batch_id = ui.batch()["id"]
    assert clerk.input_value("#import-header-row") == "3"  # found below the title row
    assert ui.column_select("客户名称").input_value() == "name"
    assert ui.column_select("手机").input_value() == "mobile"
    assert ui.column_select("客户编号").input_value() == "number"
    assert clerk.locator("#import-columns tr.import-suggested").count() >= 4
    samples = clerk.locator(f"#import-columns tr[data-column='{ui.batch()['headers'].index('客户名称')}'] .import-sample")
    assert samples.nth(0).inner_text() == "杭州新星贸易有限公司"
    # Not mapping the name makes the warning name it; mapping it again clears it.
    ui.column_select("客户名称").select_option("")
    assert "客户名称" in clerk.locator("#import-missing").inner_text()
    ui.column_select("客户名称").select_option("name")
    assert clerk.locator("#import-missing").is_hidden()
    ui.column_select("备注").select_option("custom:备注")
    if SCREENSHOTS:
        clerk.screenshot(path=str(Path(SCREENSHOTS) / "import-mapping.png"))

    ui.prepare()
    assert (ui.badge("new"), ui.badge("update"), ui.badge("invalid"), ui.badge("duplicate")) == (2, 1, 1, 1)
    statuses = clerk.eval_on_selector_all("#import-rows tbody tr", "trs => trs.map(t => t.dataset.status)")
    assert statuses[0] == "invalid"  # errors first
    message = ui.cell(5, "mobile").locator(".import-cell-message")
    mobile_message = message.inner_text().strip()
    assert message.is_visible() and mobile_message
    assert "import-cell-error" in ui.cell(5, "mobile").get_attribute("class")
    assert ui.cell(6, "mobile").locator("del.import-old").inner_text() == old_mobile
    assert ui.cell(6, "mobile").locator("ins.import-new").inner_text() == new_mobile
    if SCREENSHOTS:
        clerk.screenshot(path=str(Path(SCREENSHOTS) / "import-preview.png"))

    # The errors tab shows only the invalid row; a reload keeps the batch and its preview.
    before = ui.rows_loads()
    clerk.click("#import-tabs .import-tab-invalid")
    ui.wait_rows(before)
    assert clerk.eval_on_selector_all("#import-rows tbody tr", "trs => trs.map(t => t.dataset.row)") == ["5"]
    clerk.reload()
    ui.wait_state("preview")
    ui.wait_rows()
    assert ui.batch()["id"] == batch_id and clerk.url.endswith(f"/import/batches/{batch_id}")
    assert ui.badge("new") == 2 and ui.badge("invalid") == 1
    assert count(Customer, Customer.number.like("IMP2026%")) == 0  # the dry run wrote nothing

    # The error report: the invalid and duplicate rows as in the file, with the error column.
    with clerk.expect_download() as report:
        clerk.click("#import-errors")
    values = all_values(read_download(report.value))
    assert values[0][:len(HEADERS)] == tuple(HEADERS) or list(values[0][:len(HEADERS)]) == HEADERS  # re-importable
    assert len(values[0]) == len(HEADERS) + 2  # the row number in the file and what is wrong
    invalid = next(row for row in values if "宁波错号电器有限公司" in row)
    assert invalid[len(HEADERS)] == 5 and mobile_message in str(invalid[len(HEADERS) + 1])
    assert any("IMP2026001" in row and row[len(HEADERS)] == 7 for row in values[1:])  # the duplicate

    assert clerk.is_enabled("#import-commit")
    ui.commit()
    assert count(Customer, Customer.number.in_(["IMP2026001", "IMP2026003"])) == 2
    assert count(Customer, Customer.number == "IMP2026002") == 0
    assert fresh(Customer, old_id).mobile == new_mobile
    assert "2" in clerk.locator("#import-result-summary").inner_text()
    assert clerk.locator("#import-result-errors").is_visible()
    assert clerk.get_attribute("#import-result-history", "href") == "/import/history/"

    # The history lists the batch with its undo button.
    clerk.goto(f"{live.url}/import/history/")
    clerk.wait_for_function(HISTORY_READY)
    row = clerk.locator(f"#import-history tr.import-history-row[data-batch='{batch_id}']")
    assert "展会名单.xlsx" in row.inner_text() and "clerk" in row.inner_text()
    assert row.locator(".import-history-undo").is_visible()
    row.locator("a").first.click()
    ui.wait_state("result")

    clerk.click("#import-undo")
    ui.wait_status("undone")
    assert count(Customer, Customer.number.like("IMP2026%")) == 0
    assert fresh(Customer, old_id).mobile == old_mobile
    assert clerk.locator("#import-undo").is_hidden()


def test_undo_refused_for_a_record_changed_since_then_the_rest_is_undone(clerk, live, tmp_path):
    path = messy_workbook(tmp_path / "拖放名单.xlsx", [
        ["IMP2026101", "嘉兴拖放一号有限公司", "企业", "13700002221", "嘉兴", ""],
        ["IMP2026102", "嘉兴拖放二号有限公司", "企业", "13700002222", "嘉兴", ""],
    ])
    ui = ImportPage(clerk, live).open()
    ui.drop(path)
    ui.prepare()
    assert ui.badge("new") == 2
    ui.commit()
    changed = db.session.scalars(sa.select(Customer).where(Customer.number == "IMP2026102")).one()
    changed.city = "湖州"  # someone edits the card after the import
    db.session.commit()

    clerk.click("#import-undo")
    clerk.wait_for_selector("#import-blocked:not([hidden])")
    blocked = clerk.locator("#import-blocked-table tbody tr")
    assert blocked.count() == 1
    assert blocked.first.locator(".import-blocked-reason").inner_text().strip()
    assert count(Customer, Customer.number.like("IMP20261%")) == 2  # nothing undone yet

    clerk.click("#import-undo-rest")
    ui.wait_status("undone")
    assert count(Customer, Customer.number == "IMP2026101") == 0
    assert count(Customer, Customer.number == "IMP2026102") == 1


def test_all_or_nothing_with_an_invalid_row_disables_the_commit_with_the_reason(clerk, live, tmp_path):
    path = messy_workbook(tmp_path / "全部或不.xlsx", [
        ["IMP2026201", "绍兴全有公司", "企业", "13700003331", "绍兴", ""],
        ["IMP2026202", "绍兴错号公司", "企业", "137", "绍兴", ""],
    ])
    ui = ImportPage(clerk, live).open()
    ui.upload(path)
    clerk.check("#import-all-or-nothing")
    ui.prepare()
    assert ui.badge("invalid") == 1
    assert clerk.is_disabled("#import-commit")
    assert clerk.locator("#import-commit-reason").is_visible()
    # Back to the columns, the option off: the valid row may be imported.
    clerk.click("#import-back")
    ui.wait_state("mapping")
    clerk.uncheck("#import-all-or-nothing")
    ui.prepare()
    assert clerk.is_enabled("#import-commit")


def test_a_saved_mapping_is_offered_for_the_next_file(clerk, live, tmp_path):
    path = messy_workbook(tmp_path / "模板.xlsx", [["IMP2026301", "台州模板公司", "企业", "13700004441", "台州", ""]])
    ui = ImportPage(clerk, live).open()
    ui.upload(path)
    clerk.fill("#import-save-as", "展会模板")
    ui.prepare()
    ui.open()
    assert "展会模板" in clerk.locator("#import-mappings").inner_text()


def test_a_file_that_is_not_a_spreadsheet_gets_a_message_and_no_batch(clerk, live, tmp_path):
    path = tmp_path / "不是表格.xlsx"
    path.write_bytes(b"this is not a workbook at all")
    ui = ImportPage(clerk, live).open()
    clerk.set_input_files("#import-file", str(path))
    clerk.wait_for_selector("#import-message:not([hidden])")
    assert clerk.locator("#import-message").inner_text().strip()
    assert clerk.url.endswith("/import/customer/")
    assert clerk.evaluate(f"{PAGE}.dataset.state") == "upload"


def test_a_notes_sheet_before_the_list_is_passed_over_and_choosing_it_keeps_the_list(clerk, live, tmp_path):
    path = tmp_path / "展会名单.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("填表说明").write(0, 0, "请在“名单”工作表中填写，每行一位客户。")
    sheet = workbook.add_worksheet("名单")
    sheet.write_row(0, 0, HEADERS)
    sheet.write_row(1, 0, ["", "温州说明公司", "企业", unused_mobile(13600007001), "温州", ""])
    old = workbook.add_worksheet("旧名单")        # hidden in Excel: offered, said to be hidden, not opened
    old.write_row(0, 0, HEADERS)
    old.hide()
    workbook.close()
    ui = ImportPage(clerk, live).open()
    ui.upload(path)
    assert clerk.locator("#import-sheet").input_value() == "名单"
    assert clerk.locator("#import-sheet option[value='旧名单']").inner_text() == "旧名单（1 行，在 Excel 中隐藏）"
    assert clerk.locator("#import-sheet option[value='名单']").inner_text() == "名单（2 行）"
    assert ui.column_select("客户名称").input_value() == "name"
    clerk.select_option("#import-sheet", "填表说明")
    clerk.wait_for_selector("#import-message:not([hidden])")
    assert "表头" in clerk.locator("#import-message").inner_text()
    # The columns shown are still the list's, and the sheet chosen says so.
    assert clerk.locator("#import-sheet").input_value() == "名单"
    assert ui.column_select("客户名称").input_value() == "name"
    ui.prepare()
    assert ui.badge("new") == 1 and ui.badge("invalid") == 0


def test_a_two_row_header_shows_its_grouped_columns_mapped_to_the_first_contact(clerk, live, tmp_path):
    path = tmp_path / "分组表头.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("名单")
    for column, name in enumerate(["客户名称", "手机"]):
        sheet.merge_range(0, column, 1, column, name)
    sheet.merge_range("C1:E1", "联系人")
    sheet.write_row("C2", ["姓名", "手机", "职务"])
    sheet.write_row("A3", ["分组表头公司", unused_mobile(13600008001), "赵敏", unused_mobile(13600009001), "经理"])
    workbook.close()
    ui = ImportPage(clerk, live).open()
    ui.upload(path)
    assert clerk.locator("#import-header-row").input_value() == "2"
    assert ui.column_select("手机").input_value() == "mobile"
    assert ui.column_select("联系人 / 姓名").input_value() == "contact.name"
    assert ui.column_select("联系人 / 手机").input_value() == "contact.mobile"
    assert ui.column_select("联系人 / 职务").input_value() == "contact.position"
    ui.prepare()
    assert ui.badge("new") == 1 and ui.badge("invalid") == 0
    assert not clerk.js_errors, clerk.js_errors


def test_a_column_headed_in_ten_thousands_of_yuan_says_so_and_is_counted_in_yuan(clerk, live, tmp_path):
    path = tmp_path / "企业名单.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("名单")
    sheet.write_row("A1", ["企业名称", "注册资本(万元)", "手机"])
    sheet.write_row("A2", ["万元单位公司", 500, unused_mobile(13600008101)])
    workbook.close()
    ui = ImportPage(clerk, live).open()
    ui.upload(path)
    select = ui.column_select("注册资本(万元)")
    assert select.input_value() == "registered_capital"
    row = clerk.locator("#import-columns tr[data-column='1']")
    assert row.locator(".import-unit").inner_text() == "按表头单位换算：× 10,000"
    select.select_option("")                     # not imported: nothing is counted
    assert row.locator(".import-unit").count() == 0
    select.select_option("registered_capital")
    assert row.locator(".import-unit").count() == 1
    ui.prepare()
    assert ui.badge("new") == 1
    assert ui.cell(2, "registered_capital").inner_text().replace(",", "").startswith("5000000")
    assert not clerk.js_errors, clerk.js_errors


def test_marketing_imports_nothing_and_the_auditor_reads_the_history(browser, live):
    # Importing writes records: it takes the resource's can_add / can_edit, which Marketing lacks.
    marketing = open_session(browser, live, "marketing", PASSWORD)
    response = marketing.goto(f"{live.url}/import/customer/")
    assert response.status == 403 or "/login" in marketing.url
    marketing.context.close()

    auditor = open_session(browser, live, "auditor", PASSWORD)
    response = auditor.goto(f"{live.url}/import/customer/")
    assert response.status == 403 or "/login" in auditor.url
    auditor.goto(f"{live.url}/import/history/")
    auditor.wait_for_function(HISTORY_READY)
    assert auditor.locator("#import-new").count() == 0
    assert auditor.locator(".import-history-undo").count() == 0
    assert not auditor.js_errors, auditor.js_errors
    auditor.context.close()


@pytest.fixture
def background_live(database, demo_template):
    """A portal that runs every import step of more than 10 rows in the background."""
    for app in _app_on_copy(database, demo_template, IMPORT_BACKGROUND_ROWS=10):
        server = LiveServer(app)
        try:
            yield server
        finally:
            server.stop()


def test_a_background_check_and_import_show_progress_and_survive_a_reload(browser, background_live, tmp_path):
    live = background_live
    page = open_session(browser, live, "clerk", PASSWORD)
    page.set_viewport_size({"width": 1400, "height": 900})
    rows = [[f"IMP2026{5000 + i}", f"后台导入测试{i:04d}有限公司", "企业", f"1370000{i:04d}", "金华", ""] for i in range(1500)]
    ui = ImportPage(page, live).open()
    ui.upload(messy_workbook(tmp_path / "大名单.xlsx", rows))
    batch_id = ui.batch()["id"]
    # Record every step the page shows (the progress may be short).
    page.evaluate("""() => { window.seenStates = [];
        new MutationObserver(() => window.seenStates.push(document.getElementById('import-page').dataset.state))
            .observe(document.getElementById('import-page'), {attributes: true, attributeFilter: ['data-state']}); }""")
    page.click("#import-prepare")
    page.wait_for_function("() => window.seenStates.includes('progress')")
    page.reload()  # the batch is in the address: the page finds its step again
    assert page.url.endswith(f"/import/batches/{batch_id}")
    ui.wait_state("preview", timeout=120000)
    ui.wait_rows()
    assert ui.badge("new") == 1500
    assert page.locator("#import-rows tbody tr").count() == 50  # a page of the preview, not the file
    assert count(Customer, Customer.number.like("IMP20265%")) == 0

    page.evaluate("""() => { window.seenStates = [];
        new MutationObserver(() => window.seenStates.push(document.getElementById('import-page').dataset.state))
            .observe(document.getElementById('import-page'), {attributes: true, attributeFilter: ['data-state']}); }""")
    page.click("#import-commit")
    page.wait_for_function("() => window.seenStates.includes('progress')")
    ui.wait_status("committed")
    assert count(Customer, Customer.number.like("IMP2026%")) == 1500
    assert not page.js_errors, page.js_errors
    page.context.close()
