"""A campaign list in the browser, on the demo archive: preview, record, download the .xlsx,
and print the label sheet — Chromium's PDF of it has one A4 page per 24 labels."""
from __future__ import annotations

import io
import math
import os
import re

import openpyxl

from tests.browser.conftest import open_session
from tests.conftest import PASSWORD

SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS")   # a folder: save the README's pictures there


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, name), full_page=False)


def test_marketing_records_a_mail_campaign_and_prints_its_labels(browser, live):
    page = open_session(browser, live, "marketing", PASSWORD)
    page.goto(f"{live.url}/campaign/new")
    page.check("input[name=channel][value=mail]")
    page.select_option("#f-stage", ["current"])
    page.click("#campaign-preview")
    page.wait_for_selector("#campaign-counts")
    targets = int(page.text_content("[data-count=targets]"))
    assert targets > 0
    assert page.locator(".campaign-block").count() == min(20, targets)
    page.evaluate("document.querySelector('#campaign-counts').scrollIntoView()")
    _shot(page, "campaign-preview.png")

    page.fill("#f-name", "春季直邮")
    page.fill("#f-cost", "1.20")
    page.click("#campaign-record")
    page.wait_for_selector("#campaign-summary")
    assert int(page.text_content("[data-count=targets]")) == targets

    with page.expect_download() as download:
        page.click("#campaign-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as file:   # saved without its extension
        sheet = openpyxl.load_workbook(io.BytesIO(file.read())).active
    assert sheet.max_row == targets + 1 and sheet["A1"].value == "邮编"

    labels = page.context.new_page()
    errors = []
    labels.on("pageerror", lambda exc: errors.append(str(exc)))
    labels.goto(live.url + page.get_attribute("#campaign-labels", "href"))
    assert labels.locator(".sheet").count() == math.ceil(targets / 24)
    assert labels.locator(".sheet").first.locator(".label").count() == min(24, targets)
    box = labels.locator(".label").first.bounding_box()
    assert round(box["width"] / 96 * 25.4) == 70 and round(box["height"] / 96 * 25.4) == 37   # CSS px → mm
    _shot(labels, "campaign-labels.png")
    pdf = labels.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == math.ceil(targets / 24)
    assert not page.js_errors and not errors, (page.js_errors, errors)
    page.context.close()
