"""The demo archive (portal/seeds/demo.py): big enough, consistent with the archive's rules,
valid field by field, and the same every time for the same seed.

The ``demo_app`` fixture holds the archive of seed 7 (tests/conftest.py).
"""
from __future__ import annotations

import collections
import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.fields import FieldType, clean, fields_of
from portal.models import (
    AfterSales, CompetitorPresence, Contact, Customer, LifecycleEvent, Product, ProductCategory, Promotion,
    PromotionTarget, PurchaseProject, SalesTeam, Source, Transaction, TransactionLine, User, Visit,
)
from portal.models import choices as C
from portal.seeds import demo
from portal.seeds.roles import load_roles
from portal.services import numbering

SEED = 7  # the seed tests/conftest.py loads
CHECKED_TYPES = {FieldType.MOBILE, FieldType.PHONE, FieldType.EMAIL, FieldType.POSTCODE, FieldType.ID_NUMBER,
                 FieldType.CARD_NUMBER, FieldType.URL}


def count(model, *where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for condition in where:
        stmt = stmt.where(condition)
    return db.session.scalar(stmt)


def rows(*columns, where=None):
    stmt = sa.select(*columns)
    if where is not None:
        stmt = stmt.where(where)
    return db.session.execute(stmt).all()


def test_archive_is_big_and_varied(demo_app):
    customers = count(Customer)
    assert customers >= 300
    orgs = count(Customer, Customer.customer_type == "org")
    persons = count(Customer, Customer.customer_type == "person")
    assert orgs + persons == customers and 0.5 <= orgs / customers <= 0.7
    assert count(Contact) >= 600
    assert count(Visit) >= 800
    assert {m for (m,) in rows(Visit.method)} == {code for code, *_ in C.CONTACT_METHOD}

    assert count(Transaction) >= 3000
    years = {day.year for (day,) in rows(Transaction.trade_date)}
    assert len(years) >= 3
    first, last = rows(sa.func.min(Transaction.trade_date), sa.func.max(Transaction.trade_date))[0]
    assert first >= demo.DEMO_TODAY - dt.timedelta(days=3 * 366) and last <= demo.DEMO_TODAY

    promotions = count(Promotion)
    assert promotions >= 8
    assert {t for (t,) in rows(Promotion.promotion_type)} == {code for code, _, _ in C.PROMOTION_TYPE}
    assert count(PromotionTarget) >= 300
    assert {r for (r,) in rows(PromotionTarget.response)} == {code for code, _, _ in C.PROMOTION_RESPONSE}
    fixed = rows(Promotion.fixed_cost, Promotion.variable_cost_per_target)
    assert all(f is not None and v is not None for f, v in fixed) and any(v > 0 for _, v in fixed)

    kinds = collections.Counter(kind for (kind,) in rows(AfterSales.kind))
    assert set(kinds) == {"service", "complaint", "return"} and sum(kinds.values()) >= 120
    assert {s for (s,) in rows(AfterSales.status)} == {"open", "closed"}
    assert count(AfterSales, AfterSales.status == "closed", AfterSales.closed_on.is_(None)) == 0


def test_transactions_are_worth_their_lines(demo_app):
    per_txn = dict(db.session.execute(sa.select(TransactionLine.transaction_id, sa.func.count())
                                      .group_by(TransactionLine.transaction_id)).all())
    assert len(per_txn) == count(Transaction)
    assert set(per_txn.values()) <= {1, 2, 3, 4}
    sums = dict(db.session.execute(sa.select(TransactionLine.transaction_id, sa.func.sum(TransactionLine.amount))
                                   .group_by(TransactionLine.transaction_id)).all())
    for txn_id, amount, in_lines in ((i, a, sums[i]) for i, a in rows(Transaction.id, Transaction.amount)):
        assert amount == in_lines, txn_id
    cent = Decimal("0.01")
    for quantity, price, amount in rows(TransactionLine.quantity, TransactionLine.unit_price, TransactionLine.amount):
        assert (Decimal(quantity) * Decimal(price)).quantize(cent) == Decimal(amount).quantize(cent)
    returns = count(Transaction, Transaction.amount < 0)
    assert 5 <= returns <= 0.02 * count(Transaction)
    assert count(TransactionLine, TransactionLine.quantity < 0) >= returns
    assert count(Transaction, Transaction.payment_method.is_(None)) == 0
    assert count(Transaction, Transaction.delivery_requirements.is_(None)) == 0
    numbers = [n for (n,) in rows(Transaction.number)]
    assert len(set(numbers)) == len(numbers) and all(numbers)


def test_products_cover_the_categories_with_cycles(demo_app):
    products = {p.code: p for p in db.session.scalars(sa.select(Product))}
    assert len(products) >= 20
    categories = {code for (code,) in rows(ProductCategory.code)}
    assert {p.category.code for p in products.values()} == categories
    assert all(p.list_price and p.list_price > 0 for p in products.values())
    cycles = {p.name: p.replenish_cycle_days for p in products.values()}
    assert any("墨盒" in name and days == 60 for name, days in cycles.items())
    assert any("硒鼓" in name and days == 90 for name, days in cycles.items())
    assert any("清洗" in name and days == 180 for name, days in cycles.items())
    assert any("纸" in name and days == 30 for name, days in cycles.items())


def test_lifecycle_follows_the_rules(demo_app):
    stages = collections.Counter(s for (s,) in rows(Customer.stage))
    total = sum(stages.values())
    assert set(stages) == {"potential", "current", "former"}
    assert 0.15 <= stages["potential"] / total <= 0.35 and stages["former"] / total >= 0.05

    positive = collections.defaultdict(list)
    for customer_id, day in rows(Transaction.customer_id, Transaction.trade_date, where=Transaction.amount > 0):
        positive[customer_id].append(day)
    events = collections.defaultdict(list)
    for event in db.session.scalars(sa.select(LifecycleEvent).order_by(LifecycleEvent.id)):
        events[event.customer_id].append(event)

    for c in db.session.scalars(sa.select(Customer)):
        history = events[c.id]
        transitions = [(e.from_stage, e.to_stage) for e in history]
        # The history is a chain that ends in the card's stage.
        for n, e in enumerate(history):
            expected = (None, "potential") if n == 0 else (history[n - 1].to_stage,)
            assert e.from_stage in expected, (c.number, transitions)
        assert history and history[-1].to_stage == c.stage and history[-1].occurred_on == c.stage_since, c.number
        if c.stage == "potential":
            assert not positive[c.id] and count(Transaction, Transaction.customer_id == c.id) == 0, c.number
            assert ("potential", "current") not in transitions
            continue
        days = positive[c.id]
        assert days, c.number
        assert ("potential", "current") in transitions, (c.number, transitions)
        first_event = next(e for e in history if (e.from_stage, e.to_stage) == ("potential", "current"))
        assert first_event.occurred_on == min(days) == c.first_trade_on and first_event.transaction_id is not None
        assert c.last_trade_on == max(days)
        if c.stage == "former":
            assert c.stop_reason
            stop = history[-1]
            assert (stop.from_stage, stop.to_stage) == ("current", "former") and stop.reason == c.stop_reason
            assert max(days) <= stop.occurred_on <= demo.DEMO_TODAY
        if ("current", "former") in transitions and c.stage == "current":  # came back
            assert transitions[-1] == ("former", "current")
    assert count(LifecycleEvent, LifecycleEvent.from_stage == "former", LifecycleEvent.to_stage == "current") >= 1


def test_cards_are_classified_placed_and_owned(demo_app):
    assert {g for (g,) in rows(Customer.value_grade) if g} == {"A", "B", "C", "D"}
    provinces = {p for (p,) in rows(Customer.province)}
    assert len(provinces) >= 8 and provinces <= {code for code, _, _ in C.PROVINCE}
    assert count(Customer, Customer.city.is_(None)) == count(Customer, Customer.street.is_(None)) == 0
    assert count(Customer, Customer.region_id.is_(None)) == 0
    assert count(Customer, Customer.route_id.is_not(None), Customer.route_order.is_not(None)) >= 150
    assert count(Customer, Customer.is_core.is_(True)) >= 15
    orgs = Customer.customer_type == "org"
    assert count(Customer, orgs, Customer.industry_id.is_(None)) == 0
    assert count(Customer, orgs, Customer.ownership_type_id.is_(None)) == 0
    assert count(Customer, orgs, Customer.channel_type_id.is_not(None)) >= 20
    persons = Customer.customer_type == "person"
    assert count(Customer, persons, Customer.income_level.is_(None)) == 0
    assert count(Customer, persons, Customer.education.is_(None)) == 0

    # Owners are salespeople, and the card's team is the owner's team.
    team_of = {}
    for team in db.session.scalars(sa.select(SalesTeam)):
        for member in team.members:
            team_of[member.id] = team.id
    for owner_id, team_id in rows(Customer.owner_id, Customer.team_id):
        assert owner_id in team_of and team_of[owner_id] == team_id

    # Credit: indices in range, report validity 3–12 months, some reports expired and some not.
    for loyalty, spend in rows(Customer.loyalty_index, Customer.potential_spend_index):
        assert all(v is None or 0 <= v <= 100 for v in (loyalty, spend))
    reports = rows(Customer.credit_report_date, Customer.credit_report_valid_months,
                   where=Customer.credit_report_date.is_not(None))
    assert all(3 <= months <= 12 for _, months in reports)
    expired = [d for d, m in reports if d + dt.timedelta(days=30 * m) < demo.DEMO_TODAY]
    assert expired and len(expired) < len(reports)


def test_sources_referrals_and_verification(demo_app):
    source = {s.id: s for s in db.session.scalars(sa.select(Source))}
    cards = rows(Customer.id, Customer.source_id, Customer.referred_by_id, Customer.verified_on,
                 Customer.verified_by_id)
    parent = {cid: ref for cid, _, ref, _, _ in cards}
    for cid, source_id, ref, verified_on, verified_by in cards:
        assert (ref is not None) == (source[source_id].code == "REF_CUST"), cid
        assert (verified_on is None) == (verified_by is None), cid
    unverified_third_party = [cid for cid, s, _, v, _ in cards if source[s].third_party and v is None]
    verified = [cid for cid, _, _, v, _ in cards if v is not None]
    assert len(unverified_third_party) >= 10 and len(verified) >= len(cards) / 2

    def depth(cid):
        seen, n = set(), 0
        while parent[cid] is not None:
            assert cid not in seen  # no referral loops
            seen.add(cid)
            cid, n = parent[cid], n + 1
        return n

    assert max(depth(cid) for cid in parent) >= 3


def test_key_accounts_have_contacts_projects_and_competitors(demo_app):
    core = [c for (c,) in rows(Customer.id, where=Customer.is_core.is_(True))]
    roles = collections.defaultdict(set)
    for customer_id, role in rows(Contact.customer_id, Contact.deal_role, where=Contact.customer_id.in_(core)):
        roles[customer_id].add(role)
    for cid in core:
        assert {"decision_maker", "influencer", "user", "purchaser"} <= roles[cid], cid
    assert count(PurchaseProject, PurchaseProject.customer_id.in_(core)) >= len(core)
    assert count(CompetitorPresence, CompetitorPresence.customer_id.in_(core)) >= len(core)
    profiles = count(Contact, Contact.hometown.is_not(None), Contact.school.is_not(None), Contact.goals.is_not(None),
                     Contact.itinerary.is_not(None), Contact.favourite_food.is_not(None))
    assert profiles >= 40
    # Every organisation has 1–4 contacts at least, key accounts ≥3, one primary.
    per_org = dict(db.session.execute(
        sa.select(Contact.customer_id, sa.func.count()).join(Customer, Contact.customer_id == Customer.id)
        .where(Customer.customer_type == "org").group_by(Contact.customer_id)).all())
    assert len(per_org) == count(Customer, Customer.customer_type == "org")
    primaries = dict(db.session.execute(sa.select(Contact.customer_id, sa.func.count())
                                        .where(Contact.is_primary.is_(True)).group_by(Contact.customer_id)).all())
    assert all(primaries.get(cid) == 1 for cid in per_org)


def _assert_valid(model, *, minimum: dict):
    specs = {name: spec for name, spec in fields_of(model).items() if spec.type in CHECKED_TYPES}
    seen = collections.Counter()
    for values in rows(*(getattr(model, name) for name in specs)):
        for (name, spec), value in zip(specs.items(), values):
            if value is None:
                continue
            assert clean(spec, value) == value, (model.__name__, name, value)
            seen[name] += 1
    for name, n in minimum.items():
        assert seen[name] >= n, (model.__name__, name, seen[name])


def test_identifiers_pass_the_field_rules(demo_app):
    _assert_valid(Customer, minimum={"mobile": 150, "phone": 150, "email": 150, "postcode": 300,
                                     "id_number": 40, "bank_account": 100, "website": 50, "fax": 20})
    _assert_valid(Contact, minimum={"mobile": 400, "phone": 300, "email": 300})
    mobiles = [m for (m,) in rows(Customer.mobile, where=Customer.mobile.is_not(None))]
    assert len(set(mobiles)) == len(mobiles)
    codes = [c for (c,) in rows(Customer.credit_code, where=Customer.credit_code.is_not(None))]
    assert len(codes) >= 150 and all(len(c) == 18 for c in codes)


def test_nothing_lies_after_demo_today(demo_app):
    limit = demo.DEMO_TODAY
    for column in (Customer.acquired_on, Customer.verified_on, Customer.credit_report_date, Customer.birth_date,
                   Customer.founded_on, Customer.first_trade_on, Customer.last_trade_on, Customer.stage_since,
                   Transaction.trade_date, Transaction.delivered_on, Visit.visited_on, Visit.next_date,
                   AfterSales.occurred_on, AfterSales.closed_on, PromotionTarget.responded_on,
                   PurchaseProject.expected_decision_on, LifecycleEvent.occurred_on, Contact.birth_date):
        latest = db.session.scalar(sa.select(sa.func.max(column)))
        assert latest is None or latest <= limit, column
    assert db.session.scalar(sa.select(sa.func.max(Promotion.ends_at))) <= dt.datetime.combine(limit, dt.time())
    assert db.session.scalar(sa.select(sa.func.max(Customer.changed_on))) <= dt.datetime.combine(limit, dt.time.max)


def test_demo_users_cover_every_role(demo_app):
    sm = demo_app.appbuilder.sm
    role_names = set(load_roles()["roles"]) | {"Admin"}
    have = collections.defaultdict(list)
    for user in db.session.scalars(sa.select(User)):
        for role in user.roles:
            have[role.name].append(user.username)
    assert role_names <= set(have)
    for spec in demo.DEMO_USERS:
        user = sm.find_user(username=spec["username"])
        assert user is not None and spec["role"] in {r.name for r in user.roles}, spec["username"]
    assert len([u for u in demo.DEMO_USERS if u["role"] == "Salesperson"]) >= 5
    teams = list(db.session.scalars(sa.select(SalesTeam)))
    assert len(teams) == 2
    for team in teams:
        assert "SalesManager" in {r.name for r in team.manager.roles}
        assert team.members and all("Salesperson" in {r.name for r in m.roles} for m in team.members)
    # Rows carry who created them: the clerk for cards, the visitor for visits.
    assert count(Customer, Customer.created_by_id.is_(None)) == 0
    assert count(Visit, Visit.created_by_id != Visit.visitor_id) == 0


def test_login_help_names_every_demo_user():
    text = demo.login_help()
    assert demo.DEMO_PASSWORD in text and "Login" in text and "登录" in text
    for spec in demo.DEMO_USERS:
        assert spec["username"] in text


def test_generation_is_deterministic():
    first, second = demo.generate(SEED), demo.generate(SEED)
    assert first == second
    assert [c["name"] for c in demo.generate(SEED + 1).customers] != [c["name"] for c in first.customers]
    plain = demo.generate(SEED)
    assert len(plain.customers) >= 300 and len(plain.transactions) >= 3000


def test_database_holds_exactly_the_generated_archive(demo_app):
    """Names in card order are the generator's, and numbers follow the pattern from 1 per
    prefix in that order: so a second load on a fresh template gives the same numbers."""
    data = demo.generate(SEED)
    cards = db.session.execute(sa.select(Customer.number, Customer.name, Customer.acquired_on)
                               .order_by(Customer.id)).all()
    assert [name for _, name, _ in cards] == [c["name"] for c in data.customers]
    pattern = demo_app.config.get("CUSTOMER_NUMBER_PATTERN", numbering.DEFAULT_PATTERNS[Customer])
    counters = collections.Counter()
    expected = []
    for c in data.customers:
        prefix, width, suffix = numbering.split_pattern(pattern, c["acquired_on"])
        counters[prefix + "|" + suffix] += 1
        expected.append(f"{prefix}{counters[prefix + '|' + suffix]:0{width}d}{suffix}")
    assert [number for number, _, _ in cards] == expected
    assert count(Transaction) == len(data.transactions)
    assert count(Contact) >= len(data.contacts)


def test_loading_again_adds_no_second_archive(demo_app):
    before = {model: count(model) for model in (Customer, Contact, Transaction, Visit, User, SalesTeam, Product)}
    summary = demo.load_demo(db.session, demo_app.appbuilder, seed=SEED)
    db.session.commit()
    assert summary["customers"] == 0 and summary["users"] == 0
    assert {model: count(model) for model in before} == before
