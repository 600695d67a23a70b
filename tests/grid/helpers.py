"""Small helpers the grid tests share: posting batches and reading records back."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from portal.extensions import db
from portal.models import ChangeLog, Customer
from tests.conftest import user

DEMO = "Demo@2026!"


def new_id() -> str:
    return str(uuid.uuid4())


def post_batch(client, changes, resource="customer", batch_id=None):
    batch_id = batch_id or new_id()
    return client.post(f"/api/v1/grid/{resource}/batches", json={"id": batch_id, "changes": changes})


def edit(record, key=None, **values) -> dict:
    """A change of an existing record, carrying the version it was loaded with."""
    return {"key": key or f"r{record.id}", "id": record.id, "version": record.version, "values": values}


def customers_of(app, username: str, n: int = 3) -> list[Customer]:
    return db.session.scalars(sa.select(Customer).where(Customer.owner_id == user(app, username).id)
                              .order_by(Customer.id).limit(n)).all()


def fresh(model, pk):
    db.session.expire_all()
    return db.session.get(model, pk)


def history_of(source: str) -> list[ChangeLog]:
    return db.session.scalars(sa.select(ChangeLog).where(ChangeLog.source == source).order_by(ChangeLog.id)).all()


def by_key(answer: dict) -> dict:
    return {r["key"]: r for r in answer["results"]}
