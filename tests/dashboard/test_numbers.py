"""The dashboard's numbers on the small archive of data.py, computed by hand, and within the
row scope (sales and sales2 see different numbers)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import ClassificationRun, GradeProposal
from portal.security import scope
from portal.services import dashboard, reminders, visit_plan
from portal.services.dashboard import Grid, Options, Page, campaigns, entries, overview, quality, sales, team

from . import data

TODAY = data.FIXED_TODAY


@pytest.fixture
def archive(app):
    return data.build(app, TODAY)


def figures(panel) -> dict:
    return {f.key: f.value for f in panel.figures}


def one(section_build, who, today=TODAY):
    panels = section_build(db.session, who, today, Options())
    assert len(panels) == 1
    return panels[0]


# --- data quality ---------------------------------------------------------------------------

def test_missing_fields_and_unverified_cards_counted_by_hand(archive):
    found = quality.counts(db.session, scope.ALL)
    assert found["cards"] == 6
    assert found["unverified"] == 1
    assert found["missing"] == {"name": 0, "customer_type": 0, "phone_or_mobile": 1, "province": 2, "city": 2,
                                "street": 3, "region_id": 3, "owner_id": 1, "source_id": 1}


def test_required_fields_come_from_the_field_registry(archive):
    checked = quality.checked_fields()
    assert [c.key for c in checked if c.required] == ["name", "customer_type"]
    assert all(not c.required for c in checked if c.key in dict(quality.KEY_FIELDS))


def test_quality_counts_only_the_cards_in_scope(archive):
    own = quality.counts(db.session, archive.sales)
    assert own["cards"] == 2 and own["unverified"] == 1
    assert own["missing"]["street"] == 1 and own["missing"]["region_id"] == 1 and own["missing"]["phone_or_mobile"] == 0
    other = quality.counts(db.session, archive.sales2)
    assert other["cards"] == 3 and other["unverified"] == 0
    assert other["missing"]["phone_or_mobile"] == 1 and other["missing"]["owner_id"] == 0


def test_quality_panel_figures_and_drills(archive):
    clerk = archive.clerk
    panel = one(quality.build, clerk)
    values = figures(panel)
    assert values["cards"] == 6 and values["unverified"] == 1
    assert values["incomplete"] == 1 + 2 + 2 + 3 + 3 + 1 + 1
    stale = reminders.for_user(db.session, clerk, TODAY, kinds=("stale_card",), limit=0).counts["stale_card"]
    assert values["stale"] == stale
    street = next(i for i, row in enumerate(panel.result.rows) if row["missing"] == 3 and "street" in
                  panel.result.drill[i].params.values())
    assert panel.result.drill[street].name == "dashboard.missing"
    assert panel.result.rows[street]["share"] == 50.0


def test_a_text_of_spaces_counts_as_missing(archive):
    from portal.analysis import drill

    condition = drill.condition("dashboard.missing", {"field": "street"})
    ids = set(db.session.scalars(db.select(quality.Customer.id).where(condition)))
    assert ids == {archive.k2.id, archive.k3.id, archive.k4.id}


def test_unknown_missing_field_is_a_drill_error(archive):
    from portal.analysis import drill

    with pytest.raises(drill.DrillError):
        drill.condition("dashboard.missing", {"field": "password"})


# --- today's entries ------------------------------------------------------------------------

def test_todays_entries_from_midnight_to_midnight(archive):
    panel = one(entries.build, archive.clerk)
    assert figures(panel) == {"customers": 2, "contacts": 1, "transactions": 1}


def test_entries_per_day_across_the_year_end(archive):
    found = entries.per_day(db.session, archive.clerk, TODAY)
    assert found["customers"] == {TODAY: 2, dt.date(2025, 1, 2): 1, dt.date(2024, 12, 21): 1}
    panel = one(entries.build, archive.clerk)
    assert len(panel.result.rows) == 14
    assert panel.result.rows[0]["date"] == dt.date(2024, 12, 21) and panel.result.rows[-1]["date"] == TODAY
    assert sum(r["customers"] for r in panel.result.rows) == 4     # C14 (14 days ago) and KX (custodian's) left out


def test_entries_are_the_users_own(archive):
    panel = one(entries.build, archive.custodian)
    assert figures(panel) == {"customers": 1, "contacts": 0, "transactions": 0}


def test_entries_link_to_the_grid_of_that_day(archive):
    link = entries.day_grid("contact", archive.clerk.id, TODAY)
    assert link.url.startswith("/grid/contact/?")
    assert link.filters == {"created_by": archive.clerk.id,
                            "created_on": "2025-01-03T00:00:00..2025-01-03T23:59:59.999999"}


# --- campaigns ------------------------------------------------------------------------------

def test_campaign_cost_and_response_by_hand(archive):
    rows = campaigns.campaign_rows(db.session, scope.ALL, TODAY)
    assert [r["name"] for r in rows] == ["新年直邮", "夏季活动"]      # 明日短信 starts tomorrow
    p1, p3 = rows
    assert (p1["targets"], p1["responded"], p1["purchased"]) == (4, 2, 1)
    assert p1["cost"] == Decimal("1011.00") and p1["per_response"] == Decimal("505.50") and p1["rate"] == 50.0
    assert (p3["targets"], p3["cost"], p3["per_response"], p3["rate"]) == (0, Decimal("0.00"), None, None)


def test_campaigns_in_scope(archive):
    own = campaigns.campaign_rows(db.session, archive.sales, TODAY)
    assert [(r["name"], r["targets"], r["responded"], r["cost"]) for r in own] == [("新年直邮", 2, 2, Decimal("1007.00"))]
    other = campaigns.campaign_rows(db.session, archive.sales2, TODAY)
    assert [(r["targets"], r["responded"], r["cost"], r["per_response"]) for r in other] == [
        (1, 0, Decimal("1002.00"), None)]


def test_campaign_panel_totals_and_drills(archive):
    marketing = dashboard_user(archive, "marketing")
    panel = one(campaigns.campaigns_panel, marketing)
    values = figures(panel)
    assert values == {"campaigns": 2, "targets": 4, "responded": 2, "cost": Decimal("1011.00"),
                      "per_response": Decimal("505.50")}
    assert panel.result.chart.kind == "scatter"
    from portal.analysis import drill

    link = panel.result.drill_for(0, "purchased")
    ids = set(db.session.scalars(db.select(quality.Customer.id).where(drill.condition(link.name, link.params))))
    assert ids == {archive.k1.id}
    link = panel.result.drill_for(0, "responded")
    ids = set(db.session.scalars(db.select(quality.Customer.id).where(drill.condition(link.name, link.params))))
    assert ids == {archive.k1.id, archive.k2.id}


def dashboard_user(archive, name):
    from flask import current_app

    return current_app.appbuilder.sm.find_user(name)


# --- salesperson and manager (on the visit-plan and reminder services) ----------------------

def test_reminders_figures_are_the_reminder_service_counts_in_scope(archive):
    own = figures(one(sales.reminders_panel, archive.sales))
    assert own["birthday"] == 1 and own["total"] == sum(reminders.counts_for(db.session, archive.sales, TODAY).values())
    other = figures(one(sales.reminders_panel, archive.sales2))
    assert other["birthday"] == 0


def test_visits_due_in_scope(archive):
    own = figures(one(sales.visits_panel, archive.sales))
    assert own["never"] == 1                 # K1, grade A, never visited; K2 has no grade
    other = figures(one(sales.visits_panel, archive.sales2))
    assert other["never"] == 0 and other["overdue"] == 0


def test_visits_panel_compares_this_month_with_the_plan(archive):
    panel = one(sales.visits_panel, archive.sales)
    report = visit_plan.compliance(db.session, archive.sales, dt.date(2025, 1, 1), TODAY, person_id=archive.sales.id)
    assert figures(panel)["visits_percent"] == report.totals[0].visits_percent == 0.0
    assert [(r["customers"], r["visits_done"]) for r in panel.result.rows] == [(1, 0)]     # grade A: K1


def test_team_compliance_is_the_managers_team(archive):
    panel = one(team.team_panel, archive.manager)
    values = figures(panel)
    assert values["people"] == 1 and values["customers"] == 1       # sales's K1 (sales2 is not in the team)
    assert [r["person"] for r in panel.result.rows] == ["TestSales"]
    assert isinstance(panel.result.drill[0], Page) and panel.result.drill[0].args["person"] == archive.sales.id


def test_team_composition_counts_the_teams_customers(archive):
    panel = one(team.composition_panel, archive.manager)
    values = figures(panel)
    assert values["customers"] == 2 and values["sales"] == Decimal("300")
    everyone = figures(one(team.composition_panel, archive.custodian))
    assert everyone["customers"] == 6 and everyone["sales"] == Decimal("400")


# --- custodian and auditor ------------------------------------------------------------------

def test_glance_counts_in_scope(archive):
    own = one(overview.glance, archive.sales)
    assert sum(f.value for f in own.figures if f.key in ("potential", "current", "former")) == 2
    assert figures(own)["transactions"] == 1
    assert {r["id"] for r in own.rows} == {archive.k1.id, archive.k2.id}
    other = one(overview.glance, archive.sales2)
    assert sum(f.value for f in other.figures if f.key in ("potential", "current", "former")) == 3


def test_overview_size_and_growth(archive):
    panel = one(overview.overview, archive.custodian)
    values = figures(panel)
    assert (values["customers"], values["contacts"], values["transactions"], values["promotions"]) == (6, 1, 2, 3)
    months = {r["month"]: r["added"] for r in panel.result.rows}
    assert len(months) == 12 and months["2025-01"] == 4 and months["2024-12"] == 2 and months["2024-02"] == 0
    assert panel.result.drill[-1].filters["created_on"] == "2025-01-01T00:00:00..2025-01-03T23:59:59.999999"


def test_change_activity_over_thirty_days(archive):
    panel = one(overview.activity, dashboard_user(archive, "auditor"))
    values = figures(panel)
    assert values["today"] == 3 and values["period"] == 4 and values["people"] == 1
    assert len(panel.result.rows) == 30
    assert panel.result.rows[-1] == {"day": "01-03", "date": TODAY, "create": 1, "update": 2, "delete": 0}
    assert panel.result.rows[0]["date"] == TODAY - dt.timedelta(days=29) and panel.result.rows[0]["update"] == 1


def test_access_activity(archive):
    panel = one(overview.access, dashboard_user(archive, "auditor"))
    values = figures(panel)
    assert values["login_failed"] == 2 and values["export"] == 1 and values["denied"] == 0


def test_classification_status_and_proposals(archive):
    panel = one(overview.classification, archive.custodian)
    assert figures(panel) == {"proposals": 0, "never": 4}
    run = ClassificationRun(kind="abc", mode="propose", period_from=dt.date(2024, 1, 1), period_to=dt.date(2024, 12, 31),
                            ran_at=dt.datetime(2025, 1, 2, 8), customer_count=6)
    db.session.add(run)
    db.session.flush()
    db.session.add_all([GradeProposal(run_id=run.id, customer_id=archive.k1.id, old_grade="A", new_grade="B"),
                        GradeProposal(run_id=run.id, customer_id=archive.k3.id, old_grade=None, new_grade="C")])
    db.session.commit()
    panel = one(overview.classification, archive.custodian)
    assert figures(panel) == {"proposals": 2, "never": 3}
    abc = next(r for r in panel.result.rows if r["customers"] == 6)
    assert abc["days"] == 1
    assert figures(one(overview.classification, archive.sales))["proposals"] == 1     # only K1 is theirs


# --- which sections -------------------------------------------------------------------------

@pytest.mark.parametrize("roles,expected", [
    (["Clerk"], ["quality", "entries", "glance"]),
    (["Salesperson"], ["reminders", "visits", "glance"]),
    (["SalesManager"], ["team", "composition", "glance"]),
    (["Marketing"], ["segments", "campaigns", "glance"]),
    (["Custodian"], ["quality", "overview", "classification", "activity", "access", "glance"]),
    (["Auditor"], ["overview", "classification", "activity", "access", "glance"]),
    (["Salesperson", "Clerk"], ["reminders", "visits", "quality", "entries", "glance"]),
    (["SomeCompanyRole"], ["glance"]),
])
def test_sections_follow_the_roles(roles, expected):
    assert dashboard.section_keys(roles) == expected


def test_every_section_has_a_builder():
    known = dashboard.sections()
    for keys in dashboard.ROLE_SECTIONS.values():
        assert set(keys) <= set(known)
    assert set(known) <= set(dashboard.SECTION_ORDER)


def test_grid_target_url():
    assert Grid("customer", {"stage": "current"}).url == "/grid/customer/?f.stage=current"
    assert Grid("visit").url == "/grid/visit/"
