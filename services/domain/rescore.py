"""Reading a stored candidate again under the rules of this release (a rescore).

What depends on the rules is derived from what was said, and what was said is stored as it
was said: each source's newest snapshot (its raw skills, titles, location) and each skill's
evidence. The merged view is rebuilt from the snapshots by the caller (profile.merge_snapshots:
canonical skills, seniority from the title ladder, the city); here the skills the candidate
holds are read again through today's normaliser:

- a key the normaliser now reads as another skill ("redpanda" -> "kafka") is renamed, keeping
  its evidence; two keys that now mean one skill keep the earliest evidence;
- a skill the old rules read in the current profile and the new rules no longer do is dropped,
  when its evidence is a profile (what a note said stays);
- a skill the new rules read in the profile that the candidate did not hold is added, with
  the snapshot that lists it as evidence.

Note text is not read again (it may be gone after its retention); a note's skills are only
re-keyed. Pure: the caller stores what changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from services.domain.context import Snapshot
from services.domain.effects import NewSkill
from services.domain.matcher import SkillFact
from services.domain.taxonomy import canonical_skills, normalize_skill, skill_label

MAX_NAMED = 8  # skills named in one line of words; more are counted


@dataclass(frozen=True)
class Reread:
    skills: Mapping[str, SkillFact]   # the candidate's skills under the rules of this release
    added: list[NewSkill]             # rows to write: renamed keys and skills newly read in the profile
    dropped: tuple[str, ...]          # keys whose rows go (renamed, merged or no longer read)
    changes: list[str]                # what the new rules read differently, in words (empty: nothing)


def reread_skills(candidate_id: str, held: Mapping[str, SkillFact], old_view: Optional[Mapping[str, Any]],
                  new_view: Optional[Mapping[str, Any]], snapshots: Mapping[str, Snapshot],
                  event_id: str) -> Reread:
    """The candidate's skills read again (see the module's docstring)."""
    read_before = set((old_view or {}).get("skills") or ())
    read_now = list((new_view or {}).get("skills") or ())
    skills: dict[str, SkillFact] = {}
    renamed: list[str] = []
    dropped: list[str] = []
    for key, fact in sorted(held.items(), key=lambda item: (item[1].first_seen_at, item[0])):
        target = normalize_skill(key)
        if (fact.origin.startswith("profile:") and key in read_before and target not in read_now) \
                or target in skills:
            dropped.append(key)  # no longer read in the profile, or now the same skill as an earlier one
            continue
        skills[target] = fact
        if target != key:
            dropped.append(key)
            renamed.append(target)
    added = [NewSkill(candidate_id, key, skills[key].origin, skills[key].evidence, event_id,
                      skills[key].first_seen_at) for key in renamed]
    for key in read_now:
        fact = None if key in skills else _profile_evidence(key, snapshots)
        if fact is not None:
            skills[key] = fact
            added.append(NewSkill(candidate_id, key, fact.origin, fact.evidence, event_id, fact.first_seen_at))
    return Reread(skills, added, tuple(dropped), _skill_words(held, skills))


def _profile_evidence(key: str, snapshots: Mapping[str, Snapshot]) -> Optional[SkillFact]:
    """The newest snapshot whose skills read as `key` now (None: no snapshot does)."""
    for snapshot in sorted(snapshots.values(), key=lambda s: s.occurred_at, reverse=True):
        if key in canonical_skills(snapshot.profile.get("skills") or ()):
            evidence = f"{snapshot.source} profile {snapshot.event_id} ({snapshot.occurred_at.date().isoformat()})"
            return SkillFact(f"profile:{snapshot.source}", evidence[:300], snapshot.occurred_at)
    return None


def _skill_words(before: Mapping[str, SkillFact], after: Mapping[str, SkillFact]) -> list[str]:
    gained = [skill_label(k) for k in after if k not in before]
    lost = [skill_label(k) for k in before if k not in after]
    if not (gained or lost):
        return []
    parts = [f"+ {_named(gained)}"] * bool(gained) + [f"− {_named(lost)}"] * bool(lost)
    return ["skills read again: " + " ".join(parts)]


def _named(labels: list[str]) -> str:
    shown = ", ".join(labels[:MAX_NAMED])
    return shown + (f" and {len(labels) - MAX_NAMED} more" if len(labels) > MAX_NAMED else "")


def view_words(old_view: Optional[Mapping[str, Any]], new_view: Optional[Mapping[str, Any]]) -> list[str]:
    """What else the new rules read differently in the merged profile: the level, the place."""
    old_view, new_view = old_view or {}, new_view or {}
    words = []
    for label, name in (("seniority", "seniority"), ("location", "city")):
        before, after = old_view.get(name), new_view.get(name)
        if before != after:
            words.append(f"{label} read again: {before or 'unknown'} → {after or 'unknown'}")
    return words

