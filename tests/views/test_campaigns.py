"""The campaign pages as Marketing uses them: choose, preview, record, download, print."""
import io
import re

import openpyxl
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AccessLog, Contact, Customer, GridView, Promotion, PromotionTarget
from tests.conftest import login, user


def archive(n=30, **extra):
    """``n`` companies at different addresses, each with a primary contact, and a few to leave out."""
    for i in range(n):
        company = Customer(name=f"测试公司{i:02d}", customer_type="org", postcode="310012", province="浙江省",
                           city="杭州市", district="西湖区", street=f"文三路{i + 1}号", value_grade="A" if i % 2 else "B")
        db.session.add_all([company, Contact(customer=company, name=f"联系人{i:02d}", position="经理", is_primary=True)])
    db.session.add_all([
        Customer(name="拒收公司", customer_type="org", province="浙江省", street="文一路1号", mail_opt_out=True),
        Customer(name="无址公司", customer_type="org"),
        # 测试公司00 on a second card, its address typed in full width: one company, one letter
        Customer(name="测试公司00", customer_type="org", postcode="310012", province="浙江省", city="杭州市",
                 district="西湖区", street="文三路１号"),
    ])
    db.session.commit()


def count(response, name) -> int:
    match = re.search(rf'data-count="{name}">(\d+)<', response.text)
    assert match, name
    return int(match.group(1))


def test_marketing_previews_a_list_with_its_counts_and_first_address_blocks(client):
    archive()
    login(client, "marketing")
    page = client.get("/campaign/new")
    assert page.status_code == 200 and 'id="campaign-criteria"' in page.text and "campaign-create" not in page.text
    preview = client.get("/campaign/new?preview=1&channel=mail")
    assert preview.status_code == 200
    assert (count(preview, "selected"), count(preview, "targets"), count(preview, "opted_out"),
            count(preview, "no_address"), count(preview, "duplicate")) == (33, 30, 1, 1, 1)
    blocks = preview.text[preview.text.index('id="campaign-blocks"'):]
    assert blocks.count('campaign-block"') == 20
    assert "<div>浙江省杭州市西湖区</div>" in blocks and "经理 收</div>" in blocks
    assert 'id="campaign-create"' in preview.text


def test_a_saved_view_narrows_the_preview(client, app):
    archive(10)
    marketing = user(app, "marketing")
    view = GridView(resource="customer", name="A级", owner_id=marketing.id, layout={"filters": {"value_grade": "A"}})
    db.session.add(view)
    db.session.commit()
    login(client, "marketing")
    assert "A级" in client.get("/campaign/new").text
    assert count(client.get(f"/campaign/new?preview=1&view={view.id}&channel=mail"), "targets") == 5
    assert count(client.get("/campaign/new?preview=1&grade=B&channel=mail"), "targets") == 5


def test_bad_choices_get_a_message_and_no_server_error(client):
    login(client, "marketing")
    for query in ("stage=nonsense", "view=abc", "view=999999", "region=x", "channel=fax"):
        response = client.get(f"/campaign/new?preview=1&{query}")
        assert response.status_code == 422, query
        assert 'id="campaign-errors"' in response.text, query


def test_recording_makes_a_promotion_then_the_xlsx_and_labels_come_from_it(client):
    archive()
    login(client, "marketing")
    response = client.post("/campaign/create", data={"channel": "mail", "name": "春季直邮", "starts_on": "2026-03-01",
                                                     "cost_per_target": "1.20", "fixed_cost": "300"})
    assert response.status_code == 302
    promotion = db.session.scalars(sa.select(Promotion)).one()
    assert response.headers["Location"].endswith(f"/campaign/{promotion.id}/")
    assert (promotion.name, promotion.promotion_type, len(promotion.targets)) == ("春季直邮", "mail", 30)
    assert promotion.owner.username == "marketing" and str(promotion.variable_cost_per_target) == "1.20"

    show = client.get(f"/campaign/{promotion.id}/")
    assert show.status_code == 200 and count(show, "targets") == 30 and "36.00" in show.text

    xlsx = client.get(f"/campaign/{promotion.id}/xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in xlsx.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert len(rows) == 31 and rows[0][0] == "邮编" and rows[1][0] == "310012"
    assert all(row[8].endswith("经理 收") for row in rows[1:])

    labels = client.get(f"/campaign/{promotion.id}/labels")
    assert labels.status_code == 200 and labels.mimetype == "text/html"
    sheets = labels.text.split('<section class="sheet">')[1:]
    assert [sheet.count('<div class="label">') for sheet in sheets] == [24, 6]
    assert "campaign/labels.css" in labels.text and "<style" not in labels.text   # the CSP allows no <style>
    css = client.get("/static/campaign/labels.css").text
    assert "@page { size: A4; margin: 0; }" in css and "repeat(3, 70mm)" in css and "repeat(8, 37mm)" in css
    skipped = client.get(f"/campaign/{promotion.id}/labels?skip=20").text.split('<section class="sheet">')[1:]
    assert [s.count('<div class="label">') for s in skipped] == [24, 24, 2]

    exports = db.session.scalars(sa.select(AccessLog).where(AccessLog.action == "export",
                                                            AccessLog.object_type == "Promotion")).all()
    assert [(e.object_id, e.row_count) for e in exports] == [(str(promotion.id), 30)] * 3
    assert '"format": "xlsx"' in exports[0].detail


def test_recording_without_a_name_changes_nothing(client):
    archive(3)
    login(client, "marketing")
    response = client.post("/campaign/create", data={"channel": "mail", "name": " "})
    assert response.status_code == 422 and 'id="campaign-errors"' in response.text
    response = client.post("/campaign/create", data={"channel": "mail", "name": "直邮", "starts_on": "2026-02-31"})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Promotion)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PromotionTarget)) == 0


def test_only_marketing_and_the_custodian_make_campaign_lists(client):
    for username, allowed in (("marketing", True), ("custodian", True), ("clerk", False), ("sales", False),
                              ("auditor", False)):
        fresh = login(client.application.test_client(), username)
        response = fresh.get("/campaign/new")
        assert (response.status_code == 200) is allowed, username


def test_the_card_shows_the_consent_section(client):
    login(client, "clerk")
    customer = Customer(name="张伟", customer_type="person", mail_opt_out=True, mail_opt_out_source="call")
    db.session.add(customer)
    db.session.commit()
    page = client.get(f"/customerview/show/{customer.id}").text
    assert "联系许可" in page and "拒收直邮" in page and "本人来电" in page and "拒收短信" in page
    form = client.get(f"/customerview/edit/{customer.id}").text
    assert 'name="mail_opt_out"' in form and 'name="sms_opt_out_source"' in form


def test_a_list_over_the_roles_export_cap_is_recorded_but_not_taken_away(client, app):
    archive()
    login(client, "marketing")
    client.post("/campaign/create", data={"channel": "mail", "name": "大名单"})
    promotion = db.session.scalars(sa.select(Promotion)).one()
    app.config["EXPORT_MAX_ROWS"] = 20
    assert 'id="campaign-over-cap"' in client.get("/campaign/new?preview=1&channel=mail").text
    for path in ("xlsx", "labels"):
        response = client.get(f"/campaign/{promotion.id}/{path}")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/campaign/{promotion.id}/")
        assert "20" in client.get(response.headers["Location"]).text
    log = db.session.scalars(sa.select(AccessLog).where(AccessLog.object_type == "Promotion")).all()
    assert [entry.action for entry in log] == ["denied", "denied"]
