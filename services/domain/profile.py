"""Merging per-source snapshots into one current view of a candidate.

Merge rule (documented in the README): a source's newer snapshot overlays the fields it
states on what that source said before (missing = unknown), and each field keeps the date
it was last stated. Across sources, every field is taken, field by field, from the source
that stated it most recently; a field a snapshot leaves out is unknown there, not removed. Ties on `occurred_at` go to the
source that comes first in SOURCE_PRIORITY, then alphabetically. Skills are the
union of every source's newest list: one source not listing a skill does not
remove what another source saw.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Optional

from services.domain import ladder, places
from services.domain.taxonomy import canonical_skills

SOURCE_PRIORITY = ("ats", "linkedin", "referral", "github")
SCALAR_FIELDS = ("name", "headline", "location", "open_to_work", "do_not_contact", "years_experience", "positions")


@dataclass(frozen=True)
class SourcedSnapshot:
    source: str
    event_id: str
    occurred_at: datetime
    profile: dict[str, Any]
    # When this source last stated each field (a newer partial snapshot keeps the older
    # fields it left out, with their own dates); a field missing here dates from occurred_at.
    stated_at: dict[str, datetime] = field(default_factory=dict)

    def field_date(self, name: str) -> datetime:
        return self.stated_at.get(name, self.occurred_at)


def _priority(snapshot: SourcedSnapshot, name: Optional[str] = None) -> tuple:
    rank = SOURCE_PRIORITY.index(snapshot.source) if snapshot.source in SOURCE_PRIORITY else len(SOURCE_PRIORITY)
    moment = snapshot.field_date(name) if name else snapshot.occurred_at
    # Smallest first: the latest statement, then the higher-priority source.
    return (-moment.timestamp(), rank, snapshot.source)


def merge_snapshots(snapshots: list[SourcedSnapshot]) -> dict[str, Any]:
    """The merged current view: plain JSON-safe data with `current` and derived keys."""
    view: dict[str, Any] = {"sources": {}}
    for name in SCALAR_FIELDS:
        stating = [s for s in snapshots if s.profile.get(name) is not None]
        if stating:
            newest = min(stating, key=lambda s: _priority(s, name))
            view[name] = newest.profile[name]
            view["sources"][name] = newest.source
    ordered = sorted(snapshots, key=_priority)
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


# Folded legal forms (punctuation already gone: "S.A." is " s a", "GmbH & Co. KG" is " gmbh co kg").
LEGAL_SUFFIXES = tuple(f" {form}" for form in (
    "gmbh co kg", "co kg", "pty ltd", "pte ltd", "s p a", "s a", "b v", "n v", "incorporated", "inc", "limited", "ltd",
    "llc", "llp", "lp", "gmbh", "kg", "ag", "se", "sa", "bv", "nv", "plc", "corporation", "corp", "company", "co",
    "srl", "sarl", "sas", "spa", "oy", "ab", "as", "pty", "pte", "holdings", "holding"))


@lru_cache(maxsize=65536)
def company_key(company: Optional[str]) -> Optional[str]:
    """Companies compared case- and punctuation-insensitively, legal suffixes dropped.
    Cached: every event asks it of each position's employer (a tenth of an event's time)."""
    if not company:
        return None
    folded = places.fold(company)
    stripped = True
    while stripped:  # "Acme Holdings, Inc." -> "acme holdings" -> "acme"
        stripped = False
        for suffix in LEGAL_SUFFIXES:
            if folded.endswith(suffix) and len(folded) > len(suffix):
                folded, stripped = folded[: -len(suffix)].strip(), True
                break
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
    dated = sorted(((start, p) for p in view.get("positions") or [] if (start := parse_month(p.get("start")))),
                   key=lambda item: item[0], reverse=True)
    first = parse_month(current.get("start"))
    for start, position in dated:  # newest first: walk back while the employer stays the same
        if start > (first or start):
            continue  # started after the current position (a side role): not part of the run
        if not company or company_key(position.get("company")) != company:
            break
        first = start
    return months_between(first, today) if first else None
