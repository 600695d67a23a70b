"""Row scope: which customers a user may see and change — the one function every path
asks (lists, cards, related records, search, the REST API, and later grid, import, export).

* ``scope_all``  (Custodian, Auditor, Clerk, Marketing, Admin): every customer;
* ``scope_team`` (SalesManager): customers owned by anyone in the teams they manage, or
  assigned to those teams, and their own;
* otherwise (Salesperson): the customers they own.

Records that belong to a customer (contacts, transactions and their lines, visits,
after-sales, promotion targets, projects, competitors, stage and change history) follow
their customer. Outside a request (commands, seeds) nothing is filtered.
"""
from __future__ import annotations

import sqlalchemy as sa

from portal.models import Customer, SalesTeam, TransactionLine, Transaction, team_member

from .permissions import SCOPE_VIEW, current_user, has

ALL = "all"


def kind(user) -> str:
    """'all', 'team', 'own' or 'none' for ``user``."""
    if user is None:
        return "none"
    if has(user, "scope_all", SCOPE_VIEW):
        return "all"
    if has(user, "scope_team", SCOPE_VIEW):
        return "team"
    return "own"


def customer_condition(user):
    """A WHERE condition on Customer for ``user``; None means every customer."""
    scope = kind(user)
    if scope == "all":
        return None
    if scope == "none":
        return sa.false()
    if scope == "own":
        return Customer.owner_id == user.id
    managed = sa.select(SalesTeam.id).where(SalesTeam.manager_id == user.id)
    members = sa.select(team_member.c.user_id).where(team_member.c.team_id.in_(managed))
    return sa.or_(Customer.owner_id == user.id, Customer.owner_id.in_(members), Customer.team_id.in_(managed))


def condition_for(model: type, user=ALL):
    """The scope condition for rows of ``model`` (None: not limited).

    ``user`` defaults to the request's user; outside a request nothing is limited.
    """
    if user is ALL:
        from flask import has_request_context

        if not has_request_context():
            return None
        user = current_user()
    customers = customer_condition(user)
    if customers is None:
        return None
    if model is Customer:
        return customers
    visible = sa.select(Customer.id).where(customers)
    if model is TransactionLine:
        return TransactionLine.transaction_id.in_(
            sa.select(Transaction.id).where(Transaction.customer_id.in_(visible)))
    column = getattr(model, "customer_id", None)
    if column is not None:
        return column.in_(visible)
    return None


def scoped(query, model: type, user=ALL):
    """``query`` (ORM Query or Select) limited to what ``user`` may see of ``model``."""
    condition = condition_for(model, user)
    if condition is None:
        return query
    return query.filter(condition) if hasattr(query, "filter") else query.where(condition)


def can_reach(model: type, pk, user=ALL) -> bool:
    from portal.extensions import db

    query = sa.select(model.id).where(model.id == pk)
    return db.session.execute(scoped(query, model, user)).first() is not None
