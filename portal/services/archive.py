"""Nothing a clerk does deletes data for good: customers are archived (former customers)
or, by the custodian only, purged — with every deleted record kept in the change history."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.models import (
    AfterSales, CompetitorPresence, Customer, PromotionTarget, PurchaseProject, Transaction, Visit,
)

DEPENDENTS = (Transaction, AfterSales, Visit, PromotionTarget, PurchaseProject, CompetitorPresence)


def purge(session: Session, customer: Customer) -> dict[str, int]:
    """Delete ``customer`` and everything recorded about it, through the ORM so the change
    history keeps each deleted record. Returns how many records of each kind went."""
    counts: dict[str, int] = {}
    with session.no_autoflush:
        for model in DEPENDENTS:
            rows = session.scalars(sa.select(model).where(model.customer_id == customer.id)).all()
            for row in rows:
                session.delete(row)
            counts[model.__name__] = len(rows)
        counts["Contact"] = len(customer.contacts)
        for referred in session.scalars(sa.select(Customer).where(Customer.referred_by_id == customer.id)):
            referred.referred_by = None
    session.flush()
    session.delete(customer)
    session.flush()
    return counts


def purge_and_log(session: Session, customer: Customer, **detail) -> dict[str, int]:
    """:func:`purge` as one act of the custodian's, from a page or the API: the change
    history names it, the access log keeps it (with ``detail``), and it is committed."""
    from portal.context import changes_from
    from portal.security import access_log

    label, pk = str(customer), customer.id
    with changes_from("purge"):
        counts = purge(session, customer)
        session.commit()
    access_log.record("purge", "Customer", pk, detail={"customer": label, "deleted": counts, **detail})
    return counts
