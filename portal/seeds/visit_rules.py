"""Loads the contact-frequency rules of ``seeds/visit_rules.json`` (idempotent: a rule whose
visitor role and grade exist already is kept as a manager edited it)."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.models import VisitRule

RULES_FILE = Path(__file__).resolve().parents[2] / "seeds" / "visit_rules.json"
COLUMNS = ("visitor_role", "grade", "schedule", "visits_min", "visits_max", "calls_min", "calls_max",
           "interval_min_months", "interval_max_months", "note")


def load_visit_rules(session: Session, path: Path = RULES_FILE) -> int:
    """Insert the missing rules; returns how many were added."""
    rules = json.loads(path.read_text(encoding="utf-8"))["rules"]
    existing = {tuple(row) for row in session.execute(sa.select(VisitRule.visitor_role, VisitRule.grade))}
    added = 0
    for row in rules:
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"visit_rules.json: unknown keys {sorted(unknown)} in {row}")
        if (row["visitor_role"], row["grade"]) in existing:
            continue
        session.add(VisitRule(active=True, **row))
        added += 1
    session.flush()
    return added
