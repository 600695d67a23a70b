"""Loads the code tables of ``seeds/codes.json`` (idempotent: existing codes are kept)."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal import models

CODES_FILE = Path(__file__).resolve().parents[2] / "seeds" / "codes.json"


def load_code_tables(session: Session, path: Path = CODES_FILE) -> int:
    """Insert the rows whose code is missing, and the missing visit rules; returns how many were added."""
    data = json.loads(path.read_text(encoding="utf-8"))
    added = 0
    for model_name, rows in data.items():
        if model_name.startswith("_"):
            continue
        model = getattr(models, model_name)
        existing = set(session.scalars(sa.select(model.code)))
        for order, row in enumerate(rows, start=1):
            code, name, name_en, *extra = row
            if code in existing:
                continue
            item = model(code=code, name=name, name_en=name_en, sort_order=order * 10, active=True)
            if model is models.Route:
                item.region_id = session.scalar(sa.select(models.Region.id).where(models.Region.code == extra[0]))
            elif model is models.Source:
                item.third_party = bool(extra[0])
            session.add(item)
            added += 1
        session.flush()
    # The visit rules are a code table of their own shape (seeds/visit_rules.json).
    from .visit_rules import load_visit_rules

    return added + load_visit_rules(session)
