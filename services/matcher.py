"""Scoring a (role, candidate) pair, the role index, and the alert state machine.

Relevance follows CONTRACT.md section 2: every hard constraint met and fit >= threshold.
fit = FLOOR + (1 - FLOOR) * (nice + (1 - nice) * BONUS_SHARE * bonus), where `nice` is the
share of nice-to-haves met and `bonus` in [0, 1] mixes seniority closeness, domain and
evidence freshness (BONUS_WEIGHTS). So meeting every hard constraint scores at least FLOOR
(0.6), having every nice-to-have scores exactly 1.0 as the contract demands, and missing a
nice-to-have always scores below 1.0 (the bonus fills at most half of the gap).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Optional

from schemas import RoleSpec
from services import ladder, places
from services.profile import company_key
from services.taxonomy import normalize_skill, skill_label

FLOOR = 0.6
BONUS_WEIGHTS = {"seniority": 0.5, "domain": 0.25, "freshness": 0.25}
BONUS_SHARE = 0.5         # how much of the gap left by missing nice-to-haves the bonus can fill
FRESH_DAYS = 180          # evidence newer than this is fully fresh
STALE_DAYS = 3 * 365      # evidence older than this adds no freshness


@dataclass(frozen=True)
class Role:
    role_id: str
    status: str
    title: str
    must_have: tuple[str, ...]
    nice_to_have: tuple[str, ...]
    seniority: frozenset[str]
    min_years: Optional[float]
    locations: tuple[str, ...]
    remote: bool
    domains: frozenset[str]
    exclude_companies: frozenset[str]
    threshold: float

    @classmethod
    def from_spec(cls, spec: RoleSpec) -> "Role":
        return cls(
            role_id=spec.role_id, status=spec.status, title=spec.title,
            must_have=tuple(dict.fromkeys(normalize_skill(s) for s in spec.must_have)),
            nice_to_have=tuple(dict.fromkeys(normalize_skill(s) for s in spec.nice_to_have)),
            seniority=frozenset(ladder.normalize_level(s) for s in spec.seniority),
            min_years=spec.min_years, locations=tuple(spec.locations), remote=spec.remote,
            domains=frozenset(d.strip().lower() for d in spec.domains),
            exclude_companies=frozenset(filter(None, (company_key(c) for c in spec.exclude_companies))),
            threshold=spec.threshold,
        )


@dataclass(frozen=True)
class SkillFact:
    origin: str          # "profile:linkedin", "note"
    evidence: str        # "interview note n-88 (2026-11-21)"
    first_seen_at: datetime


@dataclass
class CandidateFacts:
    """What the matcher needs to know about a candidate, nothing more."""
    candidate_id: str
    skills: dict[str, SkillFact]
    company: Optional[str] = None
    seniority: Optional[str] = None
    location: Optional[str] = None
    years_experience: Optional[float] = None
    industry: Optional[str] = None
    do_not_contact: bool = False
    readiness: float = 0.0
    readiness_reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Evaluation:
    relevant: bool
    fit: float
    failed: tuple[str, ...]          # the hard constraints not met, in words
    reasons: tuple[dict[str, str], ...]


def hard_constraint_failures(role: Role, cand: CandidateFacts) -> list[str]:
    failures = []
    if role.status != "open":
        failures.append(f"role is {role.status}")
    if cand.do_not_contact:
        failures.append("candidate is marked do-not-contact")
    missing = [s for s in role.must_have if s not in cand.skills]
    if missing:
        failures.append("missing must-have " + ", ".join(skill_label(s) for s in missing))
    if cand.company and company_key(cand.company) in role.exclude_companies:
        failures.append(f"works at excluded company {cand.company}")
    if role.seniority and cand.seniority not in role.seniority:
        failures.append(f"seniority {cand.seniority or 'unknown'} not in {', '.join(sorted(role.seniority))}")
    if role.min_years is not None and (cand.years_experience is None or cand.years_experience < role.min_years):
        failures.append(f"{_fmt_years(cand.years_experience)} of experience, needs {role.min_years:g}")
    if role.locations and not role.remote and not places.location_matches(cand.location, role.locations):
        failures.append(f"location {cand.location or 'unknown'} not in {', '.join(role.locations)}")
    return failures


def could_be_relevant(role: Role, cand: CandidateFacts) -> bool:
    """The hard constraints as one cheap boolean (no reasons built): the hot path asks this
    first and runs `evaluate` only on roles that pass or that the candidate is leaving."""
    return (role.status == "open" and not cand.do_not_contact
            and all(s in cand.skills for s in role.must_have)
            and not (cand.company and company_key(cand.company) in role.exclude_companies)
            and (not role.seniority or cand.seniority in role.seniority)
            and (role.min_years is None or (cand.years_experience is not None and cand.years_experience >= role.min_years))
            and (not role.locations or role.remote or places.location_matches(cand.location, role.locations)))


def _fmt_years(years: Optional[float]) -> str:
    return "unknown years" if years is None else f"{years:g} years"


def _seniority_closeness(role: Role, cand: CandidateFacts) -> float:
    if not role.seniority:
        return 0.5
    cand_rank = ladder.rank(cand.seniority)
    if cand_rank is None:
        return 0.0
    distance = min(abs(cand_rank - (ladder.rank(level) or 0)) for level in role.seniority)
    return max(0.0, 1.0 - distance / 2)


def _freshness(role: Role, cand: CandidateFacts, now: datetime) -> float:
    wanted = [cand.skills[s] for s in role.must_have + role.nice_to_have if s in cand.skills]
    if not wanted:
        return 0.5
    newest_age = min((now - _aware(f.first_seen_at, now)).days for f in wanted)
    if newest_age <= FRESH_DAYS:
        return 1.0
    return max(0.0, 1.0 - (newest_age - FRESH_DAYS) / (STALE_DAYS - FRESH_DAYS))


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None else moment


def fit_score(role: Role, cand: CandidateFacts, now: datetime) -> float:
    nice = (sum(s in cand.skills for s in role.nice_to_have) / len(role.nice_to_have)) if role.nice_to_have else 1.0
    domain = 1.0 if role.domains and (cand.industry or "").strip().lower() in role.domains else (0.5 if not role.domains else 0.0)
    bonus = (BONUS_WEIGHTS["seniority"] * _seniority_closeness(role, cand)
             + BONUS_WEIGHTS["domain"] * domain
             + BONUS_WEIGHTS["freshness"] * _freshness(role, cand, now))
    return round(FLOOR + (1 - FLOOR) * (nice + (1 - nice) * BONUS_SHARE * bonus), 4)


def evaluate(role: Role, cand: CandidateFacts, now: datetime) -> Evaluation:
    failures = hard_constraint_failures(role, cand)
    fit = fit_score(role, cand, now)
    if not failures and fit < role.threshold:
        failures.append(f"fit {fit:.2f} below threshold {role.threshold:.2f}")
    reasons = () if failures else tuple(explain(role, cand))
    return Evaluation(relevant=not failures, fit=fit, failed=tuple(failures), reasons=reasons)


def explain(role: Role, cand: CandidateFacts) -> list[dict[str, str]]:
    """Specific reasons a hiring manager can check: which skills, from where, and timing."""
    reasons = []
    for skill in role.must_have:
        reasons.append({"kind": "skill", "text": f"has {skill_label(skill)} (must-have; {cand.skills[skill].evidence})"})
    for skill in role.nice_to_have:
        if skill in cand.skills:
            reasons.append({"kind": "skill", "text": f"has {skill_label(skill)} (nice-to-have; {cand.skills[skill].evidence})"})
    if role.seniority and cand.seniority:
        reasons.append({"kind": "seniority", "text": f"{cand.seniority} level, role wants {', '.join(sorted(role.seniority))}"})
    if role.domains and cand.industry and cand.industry.strip().lower() in role.domains:
        reasons.append({"kind": "domain", "text": f"works in {cand.industry}"})
    if role.locations and cand.location:
        reasons.append({"kind": "location", "text": f"based in {cand.location}"})
    if cand.readiness_reasons:
        reasons.append({"kind": "timing", "text": "; ".join(cand.readiness_reasons)})
    return reasons


# --- the transition state machine -------------------------------------------------

@dataclass(frozen=True)
class PreviousState:
    relevant: bool
    transitions: int
    last_alert_id: Optional[str]


def transition(previous: Optional[PreviousState], now_relevant: bool) -> Optional[str]:
    """"enter" on not-relevant -> relevant, "leave" on relevant -> not-relevant, else None."""
    was_relevant = previous.relevant if previous else False
    if now_relevant and not was_relevant:
        return "enter"
    if was_relevant and not now_relevant:
        return "leave"
    return None


def stable_id(prefix: str, *parts: object) -> str:
    """The same transition always gets the same id (role, candidate, transition number)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]
    return f"{prefix}-{digest}"


# --- the inverted index over must-haves ---------------------------------------------

ANY_LEVEL = "*"


class RoleIndex:
    """Every role, indexed by one must-have skill and by the seniority levels it accepts.

    A candidate with skills S at level L can only meet a role whose must-haves are all in
    S and whose seniority list is empty or holds L. So each role is filed under a single
    one of its must-haves (the one with the shortest posting list when it is added) once
    per accepted level (or under ANY_LEVEL). Looking roles up touches only the postings of
    (s, L) and (s, ANY_LEVEL) for s in S: the cost follows the candidate's skills and the
    roles that could really match, not the catalogue's size.
    """

    def __init__(self) -> None:
        self.roles: dict[str, Role] = {}
        self._postings: dict[tuple[Optional[str], str], set[str]] = defaultdict(set)
        self._filed_under: dict[str, list[tuple[Optional[str], str]]] = {}
        self._skill_load: dict[str, int] = defaultdict(int)

    def __len__(self) -> int:
        return len(self.roles)

    def upsert(self, role: Role) -> None:
        self.remove(role.role_id)
        self.roles[role.role_id] = role
        skill = min(role.must_have, key=lambda s: (self._skill_load[s], s)) if role.must_have else None
        keys = [(skill, level) for level in sorted(role.seniority)] or [(skill, ANY_LEVEL)]
        for key in keys:
            self._postings[key].add(role.role_id)
        if skill is not None:
            self._skill_load[skill] += 1
        self._filed_under[role.role_id] = keys

    def remove(self, role_id: str) -> None:
        if role_id not in self.roles:
            return
        keys = self._filed_under.pop(role_id)
        for key in keys:
            self._postings[key].discard(role_id)
            if not self._postings[key]:
                del self._postings[key]
        if keys[0][0] is not None:
            self._skill_load[keys[0][0]] -= 1
        del self.roles[role_id]

    def candidate_roles(self, skills: Iterable[str], seniority: Optional[str] = None) -> list[Role]:
        """Open roles whose every must-have is in `skills` and whose seniority admits the candidate."""
        skill_set = set(skills)
        levels = (ANY_LEVEL, seniority) if seniority else (ANY_LEVEL,)
        found = []
        for skill in [None, *skill_set]:
            for level in levels:
                for role_id in self._postings.get((skill, level), ()):
                    role = self.roles[role_id]
                    if role.status == "open" and all(s in skill_set for s in role.must_have):
                        found.append(role)
        return found

    def get(self, role_id: str) -> Optional[Role]:
        return self.roles.get(role_id)


def roles_to_evaluate(index: RoleIndex, cand: CandidateFacts, relevant_now: Iterable[str]) -> list[Role]:
    """The roles a candidate event must score: those it could now meet (index + cheap
    check), and those it is relevant for now (it may be leaving them)."""
    roles = {r.role_id: r for r in index.candidate_roles(cand.skills, cand.seniority) if could_be_relevant(r, cand)}
    for role_id in relevant_now:
        if role_id not in roles:
            roles[role_id] = index.get(role_id) or closed_role(role_id)
    return list(roles.values())


def closed_role(role_id: str, status: str = "closed") -> Role:
    """Stands in for a role that is gone: everyone relevant to it leaves."""
    return Role(role_id=role_id, status=status, title="", must_have=(), nice_to_have=(), seniority=frozenset(),
                min_years=None, locations=(), remote=True, domains=frozenset(), exclude_companies=frozenset(),
                threshold=1.0)
