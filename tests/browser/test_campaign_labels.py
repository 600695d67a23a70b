"""A campaign list in the browser, on the demo archive: preview, record, download the .xlsx,
and print the label sheet — Chromium's PDF of it has one A4 page per 24 labels."""
from __future__ import annotations

import datetime
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


def test_a_long_address_is_made_smaller_to_fit_and_keeps_the_addressee_on_the_label(browser, live):
    # A street and a company of two or three lines each pushed the name off the label (cut off).
    from portal.extensions import db
    from portal.models import Contact, Customer
    from portal.security import scope
    from portal.services import mailing

    company = Customer(name="杭州明远信息技术股份有限公司西湖分公司市场营销中心华东大区客户服务部", customer_type="org",
                       postcode="310012", province="浙江省", city="杭州市", district="西湖区",
                       street="文三路100号东部软件园创新大厦A座12楼1201-1205室（近学院路口，请送至前台）转交物流部仓库管理处收发室")
    short = Customer(name="杭州小店", customer_type="org", postcode="310012", province="浙江省", city="杭州市",
                     district="西湖区", street="文二路1号")
    db.session.add_all([company, short, Contact(customer=company, name="欧阳明远", position="市场部总经理", is_primary=True)])
    db.session.flush()
    campaign = mailing.build_list(db.session, scope.ALL, "mail", mailing.Criteria())
    campaign.targets = [a for a in campaign.targets if a.customer_id in (company.id, short.id)]
    promotion = mailing.create_promotion(db.session, campaign, name="长地址", starts_at=datetime.date(2026, 3, 1))
    db.session.commit()

    page = open_session(browser, live, "marketing", PASSWORD)
    page.goto(f"{live.url}/campaign/{promotion.id}/labels")
    for media in ("screen", "print"):
        page.emulate_media(media=media)
        page.evaluate("window.fitLabels && fitLabels()")
        fits = page.evaluate("""() => Array.from(document.querySelectorAll('.label')).filter(l => l.textContent.trim())
            .map(l => [l.textContent.includes('欧阳明远'), l.scrollHeight <= l.clientHeight,
                       l.querySelector('.addressee').getBoundingClientRect().bottom <= l.getBoundingClientRect().bottom,
                       parseFloat(getComputedStyle(l).fontSize)])""")
        assert len(fits) == 2 and all(fit and shown for _, fit, shown, _ in fits), (media, fits)
        long_size, short_size = (next(size for long, *_, size in fits if long is flag) for flag in (True, False))
        assert long_size < short_size   # only the long one was made smaller
    pdf = page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    assert not page.js_errors, page.js_errors
    page.context.close()
