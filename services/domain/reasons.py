"""The words of what changed: a signal, a role edit, in the sentences alerts and withdrawals carry."""
from __future__ import annotations

from typing import Any, Optional

from services.domain.detectors import DetectedSignal
from services.domain.matcher import Role
from services.domain.taxonomy import skill_label

_SIGNAL_TEXT = {
    "new_skill": lambda d: f"new skill: {skill_label(d.get('skill', ''))}",
    "role_change": lambda d: f"moved from {d.get('from_company')} to {d.get('to_company')}",
    "promotion": lambda d: f"promoted to {d.get('to_title')} at {d.get('company')}",
    "leadership_growth": lambda d: f"now leads {d.get('to_reports')} direct reports",
    "domain_shift": lambda d: f"moved from {d.get('from_industry')} to {d.get('to_industry')}",
    "relocation": lambda d: f"relocated to {d.get('to')}",
    "open_to_work": lambda d: "turned on open-to-work",
    "interest_expressed": lambda d: f"said \"{d.get('said')}\"",
    "revisit_due": lambda d: f"follow-up due ({d.get('due_on')})",
    "tenure_milestone": lambda d: f"{d.get('months')} months at {d.get('company')}",
}


def describe_signal(signal: DetectedSignal) -> str:
    """What changed, in words, for the alert's reasons."""
    describe = _SIGNAL_TEXT.get(signal.type)
    return describe(signal.detail) if describe else signal.type.replace("_", " ")


def describe_role_change(before: Optional[Role], after: Role) -> str:
    if after.status == "deleted":
        return f"role {after.role_id} deleted"
    if before is None:
        return f"role {after.role_id} ({after.title}) created"
    if before.status != "open" and after.status == "open":
        return f"role {after.role_id} ({after.title}) reopened"
    if after.status != "open":
        return f"role {after.role_id} {after.status}"
    changes = "; ".join(_spec_changes(before, after))
    return f"role {after.role_id} ({after.title}) changed" + (f": {changes}" if changes else "")


def _spec_changes(before: Role, after: Role) -> list[str]:
    """What a role edit changed, in words ("must-have + Kafka − PostgreSQL", "threshold 0.8 → 0.7")."""
    found = [_skills_change("must-have", before.must_have, after.must_have),
             _skills_change("nice-to-have", before.nice_to_have, after.nice_to_have)]
    for label, attribute in (("seniority", "seniority"), ("min years", "min_years"), ("locations", "locations"),
                             ("remote", "remote"), ("domains", "domains"),
                             ("excluded companies", "exclude_companies"), ("threshold", "threshold")):
        old, new = getattr(before, attribute), getattr(after, attribute)
        if old != new:
            found.append(f"{label} {_shown(old)} → {_shown(new)}")
    return [change for change in found if change]


def _skills_change(label: str, old: tuple[str, ...], new: tuple[str, ...]) -> Optional[str]:
    added = ", ".join(skill_label(s) for s in new if s not in old)
    removed = ", ".join(skill_label(s) for s in old if s not in new)
    if not (added or removed):
        return None
    return " ".join([label] + [f"+ {added}"] * bool(added) + [f"− {removed}"] * bool(removed))


def _shown(value: Any) -> str:
    if isinstance(value, (frozenset, tuple)):
        return ", ".join(sorted(value)) or "any"
    return "any" if value is None else f"{value:g}" if isinstance(value, float) else str(value).lower()
