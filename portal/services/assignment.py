"""Customers belong to the company (集中管理): when a salesperson leaves, their customers
are moved to others in one action, and the move is kept in every card's history."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.models import Customer, SalesTeam, team_member


class AssignmentError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def team_of(session: Session, user_id: int) -> int | None:
    return session.scalar(sa.select(team_member.c.team_id).where(team_member.c.user_id == user_id).limit(1))


def reassign(session: Session, from_user, to_users: list, *, deactivate: bool = False) -> dict[int, int]:
    """Give ``from_user``'s customers to ``to_users`` in turn (in customer-number order,
    so the split is even and repeatable); the card's team follows its new owner.
    Returns {new owner id: number of customers}."""
    targets = [u for u in to_users if u is not None]
    if not targets:
        raise AssignmentError(_l("Choose at least one salesperson to take over the customers."))
    if any(u.id == from_user.id for u in targets):
        raise AssignmentError(_l("The customers cannot be given to the person who is leaving."))
    if any(not u.active for u in targets):
        raise AssignmentError(_l("Customers can only be given to active users."))
    customers = session.scalars(sa.select(Customer).where(Customer.owner_id == from_user.id)
                                .order_by(Customer.number)).all()
    teams = {u.id: team_of(session, u.id) for u in targets}
    moved = {u.id: 0 for u in targets}
    for i, customer in enumerate(customers):
        owner = targets[i % len(targets)]
        customer.owner_id = owner.id
        if teams[owner.id] is not None:
            customer.team_id = teams[owner.id]
        moved[owner.id] += 1
    if deactivate:
        from_user.active = False
    session.flush()
    return moved


def managed_user_ids(session: Session, manager_id: int) -> set[int]:
    """The members of the teams ``manager_id`` manages (whom a manager may reassign)."""
    managed = sa.select(SalesTeam.id).where(SalesTeam.manager_id == manager_id)
    return set(session.scalars(sa.select(team_member.c.user_id).where(team_member.c.team_id.in_(managed))))
