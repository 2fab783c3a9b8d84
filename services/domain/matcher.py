"""Scoring a (role, candidate) pair, the role index, and the alert state machine.

Relevance follows CONTRACT.md section 2: every hard constraint met and fit >= threshold.
fit = FLOOR + (1 - FLOOR) * (nice + (1 - nice) * BONUS_SHARE * bonus), where `nice` is the
share of nice-to-haves met and `bonus` in [0, 1] mixes seniority closeness, domain and
evidence freshness (BONUS_WEIGHTS). So meeting every hard constraint scores at least FLOOR
(0.6), having every nice-to-have scores exactly 1.0 as the contract demands, and missing a
nice-to-have always scores below 1.0 (the bonus fills at most half of the gap).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Iterable, Optional

from schemas import RoleSpec
from services.domain import ladder, places
from services.domain.profile import company_key
from services.domain.taxonomy import normalize_skill, skill_label

FLOOR = 0.6
BONUS_WEIGHTS = {"seniority": 0.5, "domain": 0.25, "freshness": 0.25}
BONUS_SHARE = 0.5         # how much of the gap left by missing nice-to-haves the bonus can fill
FRESH_DAYS = 180          # evidence newer than this is fully fresh
STALE_DAYS = 3 * 365      # evidence older than this adds no freshness


@dataclass(frozen=True, slots=True)
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
    changed_at: Optional[datetime] = field(default=None, compare=False)  # when this spec was stored
    # Derived once per spec, so that scoring a pair does no parsing or folding:
    must_set: frozenset[str] = field(init=False, repr=False, compare=False)
    wanted: tuple[str, ...] = field(init=False, repr=False, compare=False)      # must-haves, then nice-to-haves
    level_ranks: tuple[float, ...] = field(init=False, repr=False, compare=False)
    place_keys: Optional[frozenset[str]] = field(init=False, repr=False, compare=False)  # None: anywhere

    def __post_init__(self) -> None:
        derived = {
            "must_set": frozenset(self.must_have),
            "wanted": self.must_have + tuple(s for s in self.nice_to_have if s not in self.must_have),
            "level_ranks": tuple(ladder.rank(level) or 0 for level in self.seniority),
            "place_keys": None if self.remote or not self.locations else frozenset(
                filter(None, (places.city_of(p) for p in self.locations))),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_spec(cls, spec: RoleSpec, changed_at: Optional[datetime] = None) -> "Role":
        return cls(
            role_id=spec.role_id, status=spec.status, title=spec.title,
            must_have=tuple(dict.fromkeys(normalize_skill(s) for s in spec.must_have)),
            nice_to_have=tuple(dict.fromkeys(normalize_skill(s) for s in spec.nice_to_have)),
            seniority=frozenset(ladder.normalize_level(s) for s in spec.seniority),
            min_years=spec.min_years, locations=tuple(spec.locations), remote=spec.remote,
            domains=frozenset(d.strip().lower() for d in spec.domains),
            exclude_companies=frozenset(filter(None, (company_key(c) for c in spec.exclude_companies))),
            threshold=spec.threshold, changed_at=changed_at,
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

    # A snapshot: built per event, never changed after, so what is derived from it is kept.
    @cached_property
    def company_key(self) -> Optional[str]:
        return company_key(self.company)

    @cached_property
    def place_keys(self) -> frozenset[str]:
        return frozenset(places.place_parts(self.location))

    @cached_property
    def industry_key(self) -> str:
        return (self.industry or "").strip().lower()

    @cached_property
    def rank(self) -> Optional[float]:
        return ladder.rank(self.seniority)

    def skill_ages(self, now: datetime) -> dict[str, int]:
        """Days since each skill was first seen, as of `now` (kept for the last `now` asked)."""
        cached = self.__dict__.get("_ages")
        if cached is None or cached[0] != now:
            cached = (now, {k: (now - f.first_seen_at).days for k, f in self.skills.items()})
            self.__dict__["_ages"] = cached
        return cached[1]


class Evaluation:
    """The verdict on one pair. The words (failed constraints, reasons) are built only when
    read: a pair that stays relevant with the same fit needs none, and that is most pairs."""

    __slots__ = ("role", "cand", "relevant", "fit", "__dict__")

    def __init__(self, role: Role, cand: CandidateFacts, relevant: bool, fit: float) -> None:
        self.role, self.cand, self.relevant, self.fit = role, cand, relevant, fit

    @cached_property
    def failed(self) -> tuple[str, ...]:
        """The hard constraints not met (or the threshold), in words; empty when relevant."""
        failures = hard_constraint_failures(self.role, self.cand)
        if not failures and not self.relevant:
            failures.append(f"fit {self.fit:.4g} below threshold {self.role.threshold:g}")
        return tuple(failures)

    @cached_property
    def reasons(self) -> tuple[dict[str, str], ...]:
        return tuple(explain(self.role, self.cand)) if self.relevant else ()


def hard_constraint_failures(role: Role, cand: CandidateFacts) -> list[str]:
    failures = []
    if role.status != "open":
        failures.append(f"role is {role.status}")
    if cand.do_not_contact:
        failures.append("candidate is marked do-not-contact")
    missing = [s for s in role.must_have if s not in cand.skills]
    if missing:
        failures.append("missing must-have " + ", ".join(skill_label(s) for s in missing))
    if cand.company_key and cand.company_key in role.exclude_companies:
        failures.append(f"works at excluded company {cand.company}")
    if role.seniority and cand.seniority not in role.seniority:
        failures.append(f"seniority {cand.seniority or 'unknown'} not in {', '.join(sorted(role.seniority))}")
    if role.min_years is not None and (cand.years_experience is None or cand.years_experience < role.min_years):
        failures.append(f"{_fmt_years(cand.years_experience)} of experience, needs {role.min_years:g}")
    if role.locations and not role.remote and not places.location_matches(cand.location, role.locations):
        failures.append(f"location {cand.location or 'unknown'} not in {', '.join(role.locations)}")
    return failures


def could_be_relevant(role: Role, cand: CandidateFacts) -> bool:
    """The hard constraints as one cheap boolean (no words built, nothing parsed): the hot
    path asks this first and scores only roles that pass or that the candidate is leaving."""
    return (role.status == "open" and not cand.do_not_contact
            and role.must_set <= cand.skills.keys()
            and not (role.exclude_companies and cand.company_key in role.exclude_companies)
            and (not role.seniority or cand.seniority in role.seniority)
            and (role.min_years is None or (cand.years_experience is not None and cand.years_experience >= role.min_years))
            and (role.place_keys is None or not role.place_keys.isdisjoint(cand.place_keys)))


def _fmt_years(years: Optional[float]) -> str:
    return "unknown years" if years is None else f"{years:g} years"


def _seniority_closeness(role: Role, cand: CandidateFacts) -> float:
    if not role.seniority:
        return 0.5
    if cand.rank is None:
        return 0.0
    distance = min(abs(cand.rank - level_rank) for level_rank in role.level_ranks)
    return max(0.0, 1.0 - distance / 2)


def _freshness(role: Role, cand: CandidateFacts, now: datetime) -> float:
    ages = cand.skill_ages(now)
    newest_age = min((ages[s] for s in role.wanted if s in ages), default=None)
    if newest_age is None:
        return 0.5
    if newest_age <= FRESH_DAYS:
        return 1.0
    return max(0.0, 1.0 - (newest_age - FRESH_DAYS) / (STALE_DAYS - FRESH_DAYS))




def fit_score(role: Role, cand: CandidateFacts, now: datetime) -> float:
    nice = (sum(s in cand.skills for s in role.nice_to_have) / len(role.nice_to_have)) if role.nice_to_have else 1.0
    if nice == 1.0:
        return 1.0  # every nice-to-have met (or none asked): the bonus has no gap left to fill
    domain = (1.0 if cand.industry_key in role.domains else 0.0) if role.domains else 0.5
    bonus = (BONUS_WEIGHTS["seniority"] * _seniority_closeness(role, cand)
             + BONUS_WEIGHTS["domain"] * domain
             + BONUS_WEIGHTS["freshness"] * _freshness(role, cand, now))
    return round(FLOOR + (1 - FLOOR) * (nice + (1 - nice) * BONUS_SHARE * bonus), 4)


def evaluate(role: Role, cand: CandidateFacts, now: datetime) -> Evaluation:
    fit = fit_score(role, cand, now)
    return Evaluation(role, cand, could_be_relevant(role, cand) and fit >= role.threshold, fit)


def explain(role: Role, cand: CandidateFacts) -> list[dict[str, str]]:
    """Specific reasons a hiring manager can check: which skills, from where, and timing."""
    reasons = []
    for skill in role.must_have:
        if skill in cand.skills:
            reasons.append({"kind": "skill", "text": f"has {skill_label(skill)} (must-have; {cand.skills[skill].evidence})"})
    for skill in role.nice_to_have:
        if skill in cand.skills:
            reasons.append({"kind": "skill", "text": f"has {skill_label(skill)} (nice-to-have; {cand.skills[skill].evidence})"})
    if role.seniority and cand.seniority:
        reasons.append({"kind": "seniority", "text": f"{cand.seniority} level, role wants {', '.join(sorted(role.seniority))}"})
    if role.min_years is not None and cand.years_experience is not None:
        reasons.append({"kind": "experience", "text": f"{cand.years_experience:g} years of experience, role asks {role.min_years:g}+"})
    if role.domains and cand.industry and cand.industry_key in role.domains:
        reasons.append({"kind": "domain", "text": f"works in {cand.industry}"})
    if role.locations and cand.location:
        reasons.append({"kind": "location", "text": f"based in {cand.location}"})
    if cand.readiness_reasons:
        reasons.append({"kind": "timing", "text": "; ".join(cand.readiness_reasons)})
    return reasons


# --- the inverted index over must-haves ---------------------------------------------

ANY_LEVEL = "*"


class RoleIndex:
    """Every role by id, and every OPEN role filed by one must-have and the levels it accepts.

    A candidate with skills S at level L can only meet a role whose must-haves are all in
    S and whose seniority list is empty or holds L. So each open role is filed under a
    single one of its must-haves (the one with the shortest posting list when it is added)
    once per accepted level (or under ANY_LEVEL). Looking roles up touches only the postings
    of (s, L) and (s, ANY_LEVEL) for s in S, and checks each posted role's must-haves with
    one set comparison: the cost follows the candidate's skills and the roles that could
    really match, not the catalogue's size. Paused and closed roles are kept by id only.
    """

    def __init__(self) -> None:
        self.roles: dict[str, Role] = {}
        self._postings: dict[tuple[Optional[str], str], dict[str, Role]] = defaultdict(dict)
        self._filed_under: dict[str, list[tuple[Optional[str], str]]] = {}
        self._skill_load: dict[str, int] = defaultdict(int)

    def __len__(self) -> int:
        return len(self.roles)

    def upsert(self, role: Role) -> None:
        self.remove(role.role_id)
        self.roles[role.role_id] = role
        if role.status != "open":
            return
        skill = min(role.must_have, key=lambda s: (self._skill_load[s], s)) if role.must_have else None
        keys = [(skill, level) for level in sorted(role.seniority)] or [(skill, ANY_LEVEL)]
        for key in keys:
            self._postings[key][role.role_id] = role
        if skill is not None:
            self._skill_load[skill] += 1
        self._filed_under[role.role_id] = keys

    def remove(self, role_id: str) -> None:
        if self.roles.pop(role_id, None) is None:
            return
        keys = self._filed_under.pop(role_id, None)
        if not keys:
            return  # not open: never filed
        for key in keys:
            del self._postings[key][role_id]
            if not self._postings[key]:
                del self._postings[key]
        if keys[0][0] is not None:
            self._skill_load[keys[0][0]] -= 1

    def candidate_roles(self, skills: Iterable[str], seniority: Optional[str] = None) -> list[Role]:
        """Open roles whose every must-have is in `skills` and whose seniority admits the candidate."""
        skill_set = frozenset(skills)
        levels = (ANY_LEVEL, seniority) if seniority else (ANY_LEVEL,)
        postings = self._postings
        found = []
        for skill in (None, *skill_set):
            for level in levels:
                posted = postings.get((skill, level))
                if posted:
                    found.extend(role for role in posted.values() if role.must_set <= skill_set)
        return found

    def get(self, role_id: str) -> Optional[Role]:
        return self.roles.get(role_id)


def evaluate_candidate(index: RoleIndex, cand: CandidateFacts, relevant_now: Iterable[str],
                       now: datetime) -> list[Evaluation]:
    """Every pair a candidate event must settle: the roles it could now meet (the index,
    then the hard constraints as one boolean; only these are scored) and the roles it is
    relevant for now (it may be leaving them). Nothing else in the catalogue is looked at."""
    verdicts: dict[str, Evaluation] = {}
    for role in index.candidate_roles(cand.skills, cand.seniority):
        if could_be_relevant(role, cand):
            fit = fit_score(role, cand, now)
            verdicts[role.role_id] = Evaluation(role, cand, fit >= role.threshold, fit)
    for role_id in relevant_now:
        if role_id not in verdicts:
            verdicts[role_id] = evaluate(index.get(role_id) or closed_role(role_id), cand, now)
    return list(verdicts.values())


def closed_role(role_id: str, status: str = "closed") -> Role:
    """Stands in for a role that is gone: everyone relevant to it leaves."""
    return Role(role_id=role_id, status=status, title="", must_have=(), nice_to_have=(), seniority=frozenset(),
                min_years=None, locations=(), remote=True, domains=frozenset(), exclude_companies=frozenset(),
                threshold=1.0)
