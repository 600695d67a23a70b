"""The import wizard where a clerk's day goes off the straight path: the session ends half-way,
the same batch is open in two tabs, the browser's Back and Forward buttons, the keyboard, and
the history of batches not checked yet."""
from __future__ import annotations

from playwright.sync_api import expect

from .test_import_flow import HISTORY_READY, PAGE, ImportPage, clerk, messy_workbook, unused_mobile  # noqa: F401 (fixture)
from tests.conftest import PASSWORD


def two_rows(tmp_path, name="边角名单.xlsx", first=13700005551):
    return messy_workbook(tmp_path / name, [
        ["", "边角测试一号有限公司", "企业", unused_mobile(first), "丽水", ""],
        ["", "边角测试二号有限公司", "企业", unused_mobile(first + 100), "丽水", ""],
    ])


def test_a_session_that_ended_mid_wizard_says_so_and_the_login_comes_back_to_the_step(clerk, live, tmp_path):
    ui = ImportPage(clerk, live).open()
    ui.upload(two_rows(tmp_path))
    batch_page = clerk.url
    clerk.context.clear_cookies()                # the session ends (idle, or logged out elsewhere)
    clerk.click("#import-prepare")
    clerk.wait_for_selector("#import-message:not([hidden])")
    text = clerk.locator("#import-message").inner_text()
    assert "登录已过期" in text and "UNAUTHORIZED" not in text, text
    assert clerk.evaluate(f"{PAGE}.dataset.state") == "mapping"   # the columns chosen stay on screen
    clerk.click("#import-message a.import-login")
    clerk.fill("#username", "clerk")
    clerk.fill("#password", PASSWORD)
    clerk.click("[type=submit]")
    ui.wait_state("mapping")
    assert clerk.url == batch_page
    ui.prepare()
    assert ui.badge("new") == 2


def checked_in_two_tabs(clerk, live, tmp_path, first: int) -> tuple[ImportPage, ImportPage]:
    """A two-row file uploaded and checked in one tab, and the same batch opened in a second."""
    ui = ImportPage(clerk, live).open()
    ui.upload(two_rows(tmp_path, first=first))
    ui.prepare()
    other = ImportPage(clerk.context.new_page(), live)
    other.page.on("dialog", lambda dialog: dialog.accept())
    other.page.goto(clerk.url)
    other.wait_state("preview")
    return ui, other


def test_a_batch_open_in_two_tabs_shows_what_the_other_tab_did_instead_of_a_stale_step(clerk, live, tmp_path):
    ui, other = checked_in_two_tabs(clerk, live, tmp_path, 13700005651)
    ui.commit()                                   # the first tab imports

    other.page.click("#import-commit")            # the second still shows the preview
    other.wait_state("result")
    assert other.page.locator("#import-commit-bar").is_hidden()
    assert "新增 2 条" in other.page.locator("#import-result-summary").inner_text()
    assert "已导入" in other.page.locator("#import-message").inner_text()

    clerk.click("#import-undo")                   # the first tab undoes; the second is told
    ui.wait_status("undone")
    other.page.click("#import-undo")
    other.wait_status("undone")
    assert other.page.locator("#import-undo").is_hidden()
    assert "已撤销" in other.page.locator("#import-message").inner_text()
    other.page.close()


def test_a_tab_showing_an_older_check_does_not_import_the_check_another_tab_made_since(clerk, live, tmp_path):
    ui, other = checked_in_two_tabs(clerk, live, tmp_path, 13700005751)
    assert other.batch()["counts"]["new"] == 2

    clerk.click("#import-back")                   # the first tab checks again, as "update only"
    ui.wait_state("mapping")
    clerk.check('input[name="import-mode"][value="update"]')
    ui.prepare()
    assert ui.batch()["counts"]["new"] == 0

    other.page.click("#import-commit")            # the second still shows two new rows
    other.page.wait_for_function("() => (window.portalImportWizard.state.batch.counts || {}).new === 0")
    other.wait_state("preview")
    assert "另一个窗口" in other.page.locator("#import-message").inner_text()
    assert other.page.locator("#import-commit").is_disabled()   # the new check has nothing to write
    assert other.batch()["status"] == "previewed" and other.batch()["options"]["mode"] == "update"
    other.page.close()


def test_the_browsers_back_and_forward_buttons_walk_the_wizards_steps(clerk, live, tmp_path):
    ui = ImportPage(clerk, live).open()
    start = clerk.url
    ui.upload(two_rows(tmp_path, first=13700005751))
    batch_page = clerk.url
    ui.column_select("备注").select_option("custom:备注")
    ui.prepare()

    clerk.go_back()                               # from the check back to the columns
    ui.wait_state("mapping")
    assert clerk.url == batch_page
    assert ui.column_select("备注").input_value() == "custom:备注"   # as they were chosen
    clerk.go_back()                               # and to the upload: the file may be changed
    ui.wait_state("upload")
    assert clerk.url == start
    clerk.go_forward()
    ui.wait_state("mapping")
    clerk.go_forward()
    ui.wait_state("preview")
    assert ui.badge("new") == 2

    clerk.click("#import-back")                   # the page's own button is a step too
    ui.wait_state("mapping")
    clerk.go_back()
    ui.wait_state("preview")
    ui.commit()
    moves = clerk.evaluate(f"Number({PAGE}.dataset.historyMoves || 0)")
    clerk.go_back()                               # imported: the columns are not offered again
    clerk.wait_for_function(f"() => Number({PAGE}.dataset.historyMoves || 0) > {moves}")
    assert clerk.evaluate(f"{PAGE}.dataset.state") == "result"
    assert clerk.locator("#import-mapping").is_hidden()


def test_the_upload_is_one_visible_tab_stop_and_works_from_the_keyboard(clerk, live, tmp_path):
    ui = ImportPage(clerk, live).open()
    clerk.focus("#import-drop")
    clerk.wait_for_function("() => document.activeElement && document.activeElement.id === 'import-drop'")
    clerk.keyboard.press("Tab")                   # the next stop is one the clerk can see
    clerk.wait_for_function("() => document.activeElement && document.activeElement.id !== 'import-drop'")
    focused = clerk.evaluate("""() => { const e = document.activeElement, r = e.getBoundingClientRect();
        return {id: e.id, visible: r.width > 4 && r.height > 4 && getComputedStyle(e).opacity !== '0'}; }""")
    assert focused == {"id": "import-template", "visible": True}, focused
    clerk.focus("#import-drop")
    clerk.wait_for_function("() => document.activeElement && document.activeElement.id === 'import-drop'")
    # Enter on the drop zone clicks the file input, which opens the chooser. The click is
    # recorded in the page: Chromium's filechooser event came too late now and then under load.
    clerk.evaluate("""() => document.querySelector('#import-file')
        .addEventListener('click', (e) => { window.__chooserOpened = true; e.preventDefault(); })""")
    clerk.keyboard.press("Enter")
    clerk.wait_for_function("() => window.__chooserOpened === true")
    clerk.set_input_files("#import-file", str(two_rows(tmp_path, first=13700005851)))
    ui.wait_state("mapping")


def test_the_history_shows_no_counts_for_a_file_not_checked_yet_and_labels_statuses_as_labels(clerk, live, tmp_path):
    ui = ImportPage(clerk, live).open()
    ui.upload(two_rows(tmp_path, "未检查.xlsx", first=13700005951))   # uploaded, never checked
    unchecked = ui.batch()["id"]
    ui.open()
    ui.upload(two_rows(tmp_path, "已检查.xlsx", first=13700006051))
    ui.prepare()
    checked = ui.batch()["id"]
    clerk.goto(f"{live.url}/lang/en")
    clerk.goto(f"{live.url}/import/history/")
    clerk.wait_for_function(HISTORY_READY)
    row = clerk.locator(f"#import-history tr[data-batch='{unchecked}']")
    assert row.locator(".import-history-counts").inner_text().strip() == "—"   # not "0 new · … · 0 errors"
    assert row.locator(".import-history-status .label").inner_text().strip() == "Uploaded"
    row = clerk.locator(f"#import-history tr[data-batch='{checked}']")
    assert row.locator(".import-history-counts").inner_text().startswith("2 new")
    assert row.locator(".import-history-status .label").inner_text().strip() == "Checked"


def test_the_match_key_follows_the_columns_and_a_list_without_one_is_created(clerk, live, tmp_path):
    import xlsxwriter

    path = tmp_path / "无编号名单.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("名单")
    sheet.write_row(0, 0, ["公司全称", "联系电话号", "城市"])        # headers the registry does not know
    sheet.write_row(1, 0, ["无编号名单一号公司", unused_mobile(13700006151), "衢州"])
    workbook.close()
    ui = ImportPage(clerk, live).open()
    ui.upload(path)
    # No key column yet: nothing to look records up by, so rows can only be created.
    assert clerk.input_value("#import-match") == ""
    assert clerk.is_disabled("input[name=import-mode][value=upsert]")
    ui.column_select("公司全称").select_option("name")
    ui.column_select("联系电话号").select_option("mobile")
    assert clerk.input_value("#import-match") == "name+mobile"          # followed the columns
    assert clerk.is_enabled("input[name=import-mode][value=upsert]")
    ui.column_select("联系电话号").select_option("")                   # a list of names and cities only
    assert clerk.input_value("#import-match") == ""
    ui.prepare()
    assert ui.badge("new") == 1 and ui.badge("invalid") == 0
    ui.commit()

    # A key the clerk picks stays picked, with a warning while its columns are missing.
    ui.open()
    ui.upload(path)
    ui.column_select("公司全称").select_option("name")
    clerk.select_option("#import-match", "email")
    assert "电子邮箱" in clerk.locator("#import-missing").inner_text()
    ui.column_select("联系电话号").select_option("mobile")
    assert clerk.input_value("#import-match") == "email"


def test_a_saved_mapping_can_be_applied_on_the_columns_step_after_the_file_was_dropped(clerk, live, tmp_path):
    import xlsxwriter

    def unknown_headers(name, first):
        path = tmp_path / name
        workbook = xlsxwriter.Workbook(str(path))
        sheet = workbook.add_worksheet("名单")
        sheet.write_row(0, 0, ["公司全称", "联系电话号", "城市"])
        sheet.write_row(1, 0, [f"{name}公司", unused_mobile(first), "衢州"])
        workbook.close()
        return path

    ui = ImportPage(clerk, live).open()
    ui.upload(unknown_headers("第一批.xlsx", 13700006251))
    ui.column_select("公司全称").select_option("name")
    ui.column_select("联系电话号").select_option("mobile")
    clerk.check("input[name=import-mode][value=create]")
    clerk.fill("#import-save-as", "展会格式")
    ui.prepare()

    ui.open()                                     # the next file, dropped before choosing the mapping
    ui.upload(unknown_headers("第二批.xlsx", 13700006351))
    assert ui.column_select("公司全称").input_value() == ""
    clerk.select_option("#import-saved", label="展会格式")
    expect(ui.column_select("公司全称")).to_have_value("name")   # the sheet read again with it
    ui.wait_state("mapping")
    assert ui.column_select("联系电话号").input_value() == "mobile"
    assert clerk.input_value("#import-match") == "name+mobile"
    assert clerk.is_checked("input[name=import-mode][value=create]")    # its options too
    assert clerk.input_value("#import-saved") != ""
    ui.prepare()
    assert ui.badge("new") == 1


def test_the_preview_goes_straight_to_a_page_typed_in(clerk, live, tmp_path):
    rows = [["", f"翻页测试{i:03d}有限公司", "企业", f"1370007{i:04d}", "台州", ""] for i in range(120)]
    ui = ImportPage(clerk, live).open()
    ui.upload(messy_workbook(tmp_path / "翻页.xlsx", rows))
    ui.prepare()
    assert ui.badge("new") == 120
    before = ui.rows_loads()
    clerk.fill("#import-page-input", "3")
    clerk.press("#import-page-input", "Enter")
    ui.wait_rows(before)
    assert clerk.locator("#import-page-label").inner_text().startswith("第 3 页，共 3 页")
    numbers = clerk.eval_on_selector_all("#import-rows tbody tr", "trs => trs.map(t => Number(t.dataset.row))")
    assert numbers == list(range(104, 124))       # rows 101–120 of the list, numbered as in Excel
    assert clerk.is_disabled("#import-next") and clerk.is_enabled("#import-prev")


def test_a_file_over_the_upload_limit_is_refused_before_it_is_sent(clerk, live, tmp_path):
    big = tmp_path / "大名单.csv"
    big.write_bytes(("客户名称,手机\n" + "".join(f"超限公司{i},138{i:08d}\n" for i in range(1000))).encode("utf-8"))
    size = big.stat().st_size
    assert size > 16384
    sent = []
    clerk.on("request", lambda r: sent.append(r.url) if r.url.endswith("/upload") else None)
    live.app.config["IMPORT_MAX_BYTES"] = 16384    # the page reads the limit when it opens
    try:
        ui = ImportPage(clerk, live).open()
        clerk.set_input_files("#import-file", str(big))
        clerk.wait_for_selector("#import-message:not([hidden])")
        text = clerk.locator("#import-message").inner_text()
        assert text == f"文件大小为 {size / 1048576:.2g} MB，最多只能导入 0.016 MB。", text   # the server's words
        assert not sent and clerk.evaluate(f"{PAGE}.dataset.state") == "upload"
        small = two_rows(tmp_path, first=13700005851)
        assert small.stat().st_size <= 16384
        ui.upload(small)                                            # a smaller file goes through
        assert len(sent) == 1
    finally:
        live.app.config.pop("IMPORT_MAX_BYTES", None)
