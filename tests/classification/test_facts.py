"""The one pass over the trades a full run uses (facts.gather) gives exactly the numbers of
the per-kind queries (abc.customer_values, rfm.customer_measures, the matrix turnover), at
the edges: a return, a trade after the period's end but before RFM's date, a trade before
``since``, a customer with only returns, one with no trade in the period, a prospect."""
import datetime as dt
from decimal import Decimal

from portal.extensions import db
from portal.models import ClassificationResult
from portal.services.classification import Period, abc, facts, matrix, rfm, runs

from .helpers import customer, product, sale, trade

D = Decimal
PERIOD = Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def _archive():
    ink = product("INK", cost="6.00")
    a, b, c, d = customer("甲"), customer("乙"), customer("丙"), customer("丁")
    customer("潜在客户")                                 # never traded
    sale(a, "2023-12-31", (ink, 5, "10.00"))           # before the period: not in the value
    sale(a, "2024-01-01", (ink, 10, "10.00"))          # first day of the period
    trade(a, "2024-12-31", "-30.00")                   # a return on the last day
    trade(a, "2025-01-15", "70.00")                    # after the period's end, before RFM's date
    trade(b, "2024-06-01", "-20.00")                   # only a return: value −20, no order
    trade(c, "2022-05-01", "15.00")                    # traded, but not in the period: value 0
    sale(d, "2024-12-31", (ink, 1, "10.00"))
    trade(d, "2025-02-01", "5.00")                     # after RFM's date too
    db.session.commit()
    return a, b, c, d


def test_one_pass_agrees_with_the_per_kind_queries(app):
    a, b, c, d = _archive()
    as_of = dt.date(2025, 1, 31)
    found = facts.gather(db.session, PERIOD, as_of)
    assert sorted(found.abc) == sorted(abc.customer_values(db.session, PERIOD))
    assert sorted(found.rfm) == sorted(rfm.customer_measures(db.session, as_of))
    turnover = {r.customer_id: r.turnover for r in matrix.customer_figures(db.session, PERIOD)}
    assert dict(found.turnover) == turnover
    # and by hand
    assert dict((cid, v) for cid, v, _ in found.abc) == {a.id: D("70.00"), b.id: D("-20.00"), c.id: D("0.00"),
                                                          d.id: D("10.00")}
    assert turnover == {a.id: D("70.00"), b.id: D("-20.00"), d.id: D("10.00")}
    assert {cid: (last, n, amount) for cid, last, n, amount in found.rfm} == {
        a.id: (dt.date(2025, 1, 15), 3, D("190.00")), c.id: (dt.date(2022, 5, 1), 1, D("15.00")),
        d.id: (dt.date(2024, 12, 31), 1, D("10.00"))}


def test_one_pass_with_since_agrees_and_a_full_run_stores_what_each_kind_stores_alone(app):
    a, b, c, d = _archive()
    since, as_of = dt.date(2024, 1, 1), dt.date(2025, 1, 31)
    found = facts.gather(db.session, PERIOD, as_of, since)
    assert sorted(found.rfm) == sorted(rfm.customer_measures(db.session, as_of, since))
    assert {cid for cid, *_ in found.rfm} == {a.id, d.id}

    def stored(run):
        r = ClassificationResult
        return sorted(db.session.execute(
            db.select(r.customer_id, r.klass, r.rank, r.value, r.profit, r.recency, r.frequency, r.score, r.loyalty,
                      r.flags).where(r.run_id == run.id)).all())

    together = runs.run(db.session, "all", start="2024-01-01", end="2024-12-31", on="2025-01-31")
    alone = [runs.run(db.session, kind, start="2024-01-01", end="2024-12-31", on="2025-01-31")[0]
             for kind in ("abc", "rfm", "matrix", "relationship")]
    for one, other in zip(together, alone):
        assert one.kind == other.kind and one.counts == other.counts
        assert stored(one) == stored(other)
