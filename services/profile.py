"""Merging per-source snapshots into one current view of a candidate.

Merge rule (documented in the README): a source's newer snapshot overlays the fields it
states on what that source said before (missing = unknown). Across sources, every field is taken, field by
field, from the newest snapshot (by `occurred_at`) that states it; a field a
snapshot leaves out is unknown there, not removed. Ties on `occurred_at` go to the
source that comes first in SOURCE_PRIORITY, then alphabetically. Skills are the
union of every source's newest list: one source not listing a skill does not
remove what another source saw.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Optional

from services import ladder, places
from services.taxonomy import canonical_skills

SOURCE_PRIORITY = ("ats", "linkedin", "referral", "github")
SCALAR_FIELDS = ("name", "headline", "location", "open_to_work", "do_not_contact", "years_experience", "positions")


@dataclass(frozen=True)
class SourcedSnapshot:
    source: str
    event_id: str
    occurred_at: datetime
    profile: dict[str, Any]


def _priority(snapshot: SourcedSnapshot) -> tuple:
    rank = SOURCE_PRIORITY.index(snapshot.source) if snapshot.source in SOURCE_PRIORITY else len(SOURCE_PRIORITY)
    # Sorted ascending: later occurred_at first, then higher-priority source.
    return (-snapshot.occurred_at.timestamp(), rank, snapshot.source)


def merge_snapshots(snapshots: list[SourcedSnapshot]) -> dict[str, Any]:
    """The merged current view: plain JSON-safe data with `current` and derived keys."""
    ordered = sorted(snapshots, key=_priority)
    view: dict[str, Any] = {"sources": {}}
    for field in SCALAR_FIELDS:
        for snapshot in ordered:
            value = snapshot.profile.get(field)
            if value is not None:
                view[field] = value
                view["sources"][field] = snapshot.source
                break
    skills: list[str] = []
    for snapshot in ordered:
        skills.extend(snapshot.profile.get("skills") or [])
    view["skills"] = canonical_skills(skills)
    view["current"] = current_position(view.get("positions") or [])
    view["seniority"] = ladder.seniority_of_title((view["current"] or {}).get("title"))
    view["city"] = places.city_of(view.get("location"))
    return view


def current_position(positions: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The position with `end: null`; the latest `start` wins if several."""
    open_ended = [p for p in positions if not p.get("end")]
    if not open_ended:
        return None
    return max(open_ended, key=lambda p: p.get("start") or "")


def company_key(company: Optional[str]) -> Optional[str]:
    """Companies compared case- and punctuation-insensitively, legal suffixes dropped."""
    if not company:
        return None
    folded = places.fold(company)
    for suffix in (" inc", " ltd", " gmbh", " llc", " ag", " sa", " bv", " plc", " corp", " co"):
        if folded.endswith(suffix):
            folded = folded[: -len(suffix)].strip()
    return folded or None


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def parse_month(value: Optional[str]) -> Optional[date]:
    if not value:
        return None
    try:
        parts = [int(p) for p in value.split("-")]
        return date(parts[0], parts[1], parts[2] if len(parts) > 2 else 1)
    except (ValueError, IndexError):
        return None


def tenure_months(view: dict[str, Any], today: date) -> Optional[int]:
    """Months at the current employer: from the earliest start of an unbroken run there."""
    current = view.get("current")
    if not current:
        return None
    company = company_key(current.get("company"))
    starts = [parse_month(p.get("start")) for p in view.get("positions") or []
              if company_key(p.get("company")) == company and company]
    starts = [s for s in starts if s] or [parse_month(current.get("start"))]
    first = min((s for s in starts if s), default=None)
    return months_between(first, today) if first else None
