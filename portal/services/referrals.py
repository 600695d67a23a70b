"""Referral chains (客户推荐, 无限连锁): who brought whom."""
from __future__ import annotations

from portal.models import Customer


def chain_above(customer: Customer, limit: int = 1000) -> list[Customer]:
    """The referrers of ``customer``, nearest first (stops at a loop or ``limit``)."""
    chain, seen, node = [], {customer.id}, customer.referred_by
    while node is not None and node.id not in seen and len(chain) < limit:
        chain.append(node)
        seen.add(node.id)
        node = node.referred_by
    return chain


def would_loop(customer_id: int | None, referrer: Customer | None) -> bool:
    """True when making ``referrer`` the referrer of customer ``customer_id`` closes a
    loop (a customer cannot, even indirectly, have referred itself)."""
    if referrer is None or customer_id is None:
        return False
    if referrer.id == customer_id:
        return True
    return any(c.id == customer_id for c in chain_above(referrer))
