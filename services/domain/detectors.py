"""Signal detectors: a diff of the old and the new merged view, as plain functions.

Each detector takes the view before and after an event and returns the signals it
sees. A candidate's first snapshot only builds the context: no detector fires on it.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Optional

from services.domain import ladder
from services.domain.context import Facts
from services.domain.profile import company_key, tenure_months
from services.domain.signals import DetectedSignal

View = dict[str, Any]


def _current(view: View) -> dict[str, Any]:
    return view.get("current") or {}


def detect_role_change(old: View, new: View) -> list[DetectedSignal]:
    before, after = _current(old).get("company"), _current(new).get("company")
    if before and after and company_key(before) != company_key(after):
        return [DetectedSignal("role_change", {"from_company": before, "to_company": after,
                                               "title": _current(new).get("title"),
                                               "from_title": _current(old).get("title")})]
    return []


def detect_promotion(old: View, new: View) -> list[DetectedSignal]:
    before, after = _current(old), _current(new)
    same_employer = company_key(before.get("company")) == company_key(after.get("company")) and after.get("company")
    old_rank, new_rank = ladder.rank(old.get("seniority")), ladder.rank(new.get("seniority"))
    if same_employer and old_rank is not None and new_rank is not None and new_rank > old_rank:
        return [DetectedSignal("promotion", {"company": after.get("company"), "from_title": before.get("title"),
                                             "to_title": after.get("title"), "from_level": old.get("seniority"),
                                             "to_level": new.get("seniority")})]
    return []


def detect_new_skills(old: View, new: View, known: Optional[set[str]] = None) -> list[DetectedSignal]:
    """Skills in the new view that the candidate had no evidence of before (from any origin)."""
    seen = set(old.get("skills") or []) | (known or set())
    return [DetectedSignal("new_skill", {"skill": skill}) for skill in new.get("skills") or [] if skill not in seen]


def detect_leadership_growth(old: View, new: View) -> list[DetectedSignal]:
    before = _current(old).get("direct_reports") or 0
    after = _current(new).get("direct_reports") or 0
    if after > before:
        return [DetectedSignal("leadership_growth", {"from_reports": before, "to_reports": after,
                                                     "first_reports": before == 0})]
    return []


def detect_domain_shift(old: View, new: View) -> list[DetectedSignal]:
    before, after = _current(old).get("industry"), _current(new).get("industry")
    if before and after and before.strip().lower() != after.strip().lower():
        return [DetectedSignal("domain_shift", {"from_industry": before, "to_industry": after})]
    return []


def detect_relocation(old: View, new: View) -> list[DetectedSignal]:
    before, after = old.get("city"), new.get("city")
    if before and after and before != after:
        return [DetectedSignal("relocation", {"from": old.get("location"), "to": new.get("location"), "city": after})]
    return []


def detect_open_to_work(old: View, new: View) -> list[DetectedSignal]:
    if new.get("open_to_work") is True and old.get("open_to_work") is not True:
        return [DetectedSignal("open_to_work", {"source": (new.get("sources") or {}).get("open_to_work")})]
    return []


PROFILE_DETECTORS: tuple[Callable[[View, View], list[DetectedSignal]], ...] = (
    detect_role_change, detect_promotion, detect_leadership_growth,
    detect_domain_shift, detect_relocation, detect_open_to_work,
)


def detect_profile_signals(old: Optional[View], new: View, known_skills: Optional[set[str]] = None) -> list[DetectedSignal]:
    """Every signal between two views; none for a first snapshot (old is None)."""
    if old is None:
        return []
    signals: list[DetectedSignal] = []
    for detector in PROFILE_DETECTORS:
        signals.extend(detector(old, new))
    signals.extend(detect_new_skills(old, new, known_skills))
    return signals


def unsignalled_tenure_window(view: View, facts: Facts, today: date,
                              windows: tuple[int, ...]) -> Optional[tuple[int, int]]:
    """(months, window) when the time at the current employer has reached a move window not
    yet signalled for that employer (one spelling of it); None otherwise."""
    months = tenure_months(view, today)
    window = max((w for w in windows if months is not None and months >= w), default=None)
    if window is None or facts.tenure_windows_done.get(str(current_employer(view))) == window:
        return None
    return months, window


def current_employer(view: View) -> Optional[str]:
    """The current employer as one spelling (company_key): the key tenure windows are kept by."""
    return company_key(_current(view).get("company"))
