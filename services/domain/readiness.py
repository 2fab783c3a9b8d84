"""Readiness: an explainable estimate in [0, 1] of how open a candidate is to a move now.

Every term that moves the score away from the base adds a reason a recruiter can read.
The weights live here, in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping, Optional

from services.domain.context import Facts
from services.domain.profile import tenure_months

BASE = 0.3
WEIGHTS = {
    "open_to_work": 0.35,
    "tenure_short": -0.15,      # under a year at the current employer
    "tenure_window": 0.15,      # 2 to 4 years: a common move window
    "tenure_long": 0.2,         # over 4 years
    "recent_move": -0.2,        # a role change or promotion in the last 6 months
    "interested": 0.25,         # stated interest in a note ("open to offers")
    "not_looking": -0.15,       # "happy where she is"
    "revisit_due": 0.2,         # a follow-up a note asked for has come due
    "waiting": -0.1,            # a note named a later time ("check back in 6 months", "not before March")
}
INTEREST_MEMORY_DAYS = 180      # stated interest older than this no longer counts


@dataclass(frozen=True)
class Readiness:
    score: float
    reasons: list[str]


def _years_months(months: int) -> str:
    years, rest = divmod(months, 12)
    return f"{years}y {rest}m" if years else f"{rest}m"


def estimate(view: Mapping[str, Any], facts: Facts, today: date) -> Readiness:
    score, reasons = BASE, []

    def add(weight_name: str, reason: str) -> None:
        nonlocal score
        score += WEIGHTS[weight_name]
        reasons.append(reason)

    if view.get("open_to_work"):
        add("open_to_work", "open to work on their profile")
    months = tenure_months(view, today)
    company = (view.get("current") or {}).get("company")
    if months is not None and company:
        if months < 12:
            add("tenure_short", f"only {_years_months(months)} at {company}")
        elif 24 <= months <= 48:
            add("tenure_window", f"{_years_months(months)} at {company}")
        elif months > 48:
            add("tenure_long", f"{_years_months(months)} at {company}")
    last_move = _as_date(facts.last_move_on)
    if last_move and (today - last_move).days <= 183:
        add("recent_move", f"recent {(facts.last_move_type or 'move').replace('_', ' ')} on {last_move.isoformat()}")
    interest = facts.interest
    if interest and (today - _as_date(interest.on)).days <= INTEREST_MEMORY_DAYS:
        kind = "interested" if interest.kind == "interested" else "not_looking"
        add(kind, f"said \"{interest.surface}\" ({interest.on})")
    due = _as_date(facts.revisit_due_on)
    if due and due <= today:
        add("revisit_due", f"follow-up due since {due.isoformat()}")
    wait_until = _as_date(facts.next_follow_up_on)
    if wait_until and wait_until > today:
        said = facts.next_follow_up_said
        add("waiting", f"asked to wait until {wait_until.isoformat()}" + (f" (\"{said}\")" if said else ""))
    return Readiness(round(min(1.0, max(0.0, score)), 3), reasons)


def _as_date(value: Optional[str | date | datetime]) -> Optional[date]:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])
