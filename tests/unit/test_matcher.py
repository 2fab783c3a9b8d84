from datetime import datetime, timedelta, timezone

import pytest

from schemas import RoleSpec
from services.domain.context import PairState
from services.domain.matcher import (
    CandidateFacts,
    Role,
    RoleIndex,
    SkillFact,
    evaluate,
    evaluate_candidate,
    fit_score,
)
from services.domain.transitions import stable_id, transition

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


def role(**overrides):
    spec = dict(role_id="r-1", status="open", title="Senior Data Engineer", must_have=["Python", "Kafka"],
                nice_to_have=["Flink", "k8s"])
    spec.update(overrides)
    return Role.from_spec(RoleSpec.model_validate(spec))


def cand(skills=("python", "kafka"), **overrides):
    facts = {s: SkillFact("profile:linkedin", "linkedin profile e1 (2026-11-01)", NOW - timedelta(days=10)) for s in skills}
    values = dict(candidate_id="c-1", skills=facts, company="Northwind", seniority="senior",
                  location="Berlin, Germany", years_experience=9, industry="fintech")
    values.update(overrides)
    return CandidateFacts(**values)


def test_meets_every_hard_constraint_scores_at_least_the_floor():
    result = evaluate(role(), cand(), NOW)
    assert result.relevant and 0.6 <= result.fit < 1.0


def test_every_nice_to_have_scores_one():
    assert evaluate(role(), cand(("python", "kafka", "flink", "kubernetes")), NOW).fit == 1.0


def test_missing_a_nice_to_have_never_scores_one_even_with_a_perfect_bonus():
    facts = cand(("python", "kafka", "flink"))
    assert evaluate(role(seniority=["senior"], domains=["fintech"]), facts, NOW).fit < 1.0


def test_fit_is_within_bounds_for_many_shapes():
    for nice in ([], ["Flink"], ["Flink", "Rust", "Go"]):
        for skills in (("python", "kafka"), ("python", "kafka", "flink")):
            fit = fit_score(role(nice_to_have=nice), cand(skills), NOW)
            assert 0.6 <= fit <= 1.0


@pytest.mark.parametrize("role_changes,cand_changes,why", [
    ({"status": "paused"}, {}, "role is paused"),
    ({"status": "closed"}, {}, "role is closed"),
    ({}, {"skills": {}}, "missing must-have"),
    ({"exclude_companies": ["Northwind GmbH"]}, {}, "excluded company"),
    ({"seniority": ["staff", "principal"]}, {}, "seniority senior not in"),
    ({"min_years": 10}, {}, "needs 10"),
    ({"locations": ["Lisbon"]}, {}, "not in Lisbon"),
    ({}, {"do_not_contact": True}, "do-not-contact"),
    ({"threshold": 0.99}, {}, "below threshold"),
])
def test_each_hard_constraint_and_the_threshold(role_changes, cand_changes, why):
    facts = cand(**{k: v for k, v in cand_changes.items() if k != "skills"})
    if "skills" in cand_changes:
        facts.skills = cand_changes["skills"]
    result = evaluate(role(**role_changes), facts, NOW)
    assert not result.relevant
    assert any(why in failure for failure in result.failed), result.failed


def test_remote_role_ignores_location_and_place_matching():
    assert evaluate(role(locations=["Lisbon"], remote=True), cand(), NOW).relevant
    assert evaluate(role(locations=["Berlin"]), cand(location="Berlin, Germany"), NOW).relevant


def test_reasons_name_skills_and_their_evidence():
    reasons = evaluate(role(), cand(("python", "kafka", "flink")), NOW).reasons
    texts = [r["text"] for r in reasons]
    assert any("Kafka" in t and "linkedin profile e1" in t for t in texts)
    assert any("Flink" in t and "nice-to-have" in t for t in texts)


def test_transitions():
    assert transition(None, True) == "enter"
    assert transition(None, False) is None
    assert transition(PairState(True, 0.7, 0.3, 1, "a"), True) is None
    assert transition(PairState(True, 0.7, 0.3, 1, "a"), False) == "leave"
    assert transition(PairState(False, 0.7, 0.3, 2, "a"), True) == "enter"


def test_stable_ids_are_stable_and_distinct_per_transition():
    assert stable_id("al", "r", "c", 1) == stable_id("al", "r", "c", 1)
    assert stable_id("al", "r", "c", 1) != stable_id("al", "r", "c", 3)


def test_role_index_returns_only_roles_whose_must_haves_are_met():
    index = RoleIndex()
    index.upsert(role(role_id="a", must_have=["Python", "Kafka"]))
    index.upsert(role(role_id="b", must_have=["Rust"]))
    index.upsert(role(role_id="c", must_have=[]))
    index.upsert(role(role_id="d", must_have=["Python"], status="paused"))
    found = {r.role_id for r in index.candidate_roles({"python", "kafka"})}
    assert found == {"a", "c"}
    index.remove("a")
    assert {r.role_id for r in index.candidate_roles({"python", "kafka"})} == {"c"}
    index.upsert(role(role_id="b", must_have=["Python"]))  # replaced spec moves in the index
    assert {r.role_id for r in index.candidate_roles({"python"})} == {"b", "c"}


def test_role_index_files_roles_by_accepted_seniority():
    index = RoleIndex()
    index.upsert(role(role_id="senior-only", seniority=["senior"]))
    index.upsert(role(role_id="staff-or-principal", seniority=["staff", "principal"]))
    index.upsert(role(role_id="any-level"))
    assert {r.role_id for r in index.candidate_roles({"python", "kafka"}, "senior")} == {"senior-only", "any-level"}
    assert {r.role_id for r in index.candidate_roles({"python", "kafka"}, "principal")} == {"staff-or-principal", "any-level"}
    index.remove("staff-or-principal")
    assert {r.role_id for r in index.candidate_roles({"python", "kafka"}, "principal")} == {"any-level"}


def test_evaluate_candidate_keeps_roles_the_candidate_is_leaving():
    index = RoleIndex()
    index.upsert(role(role_id="a"))
    index.upsert(role(role_id="b", exclude_companies=["Northwind"]))
    verdicts = {v.role.role_id: v for v in evaluate_candidate(index, cand(), relevant_now=["b", "gone"], now=NOW)}
    assert set(verdicts) == {"a", "b", "gone"}
    assert verdicts["a"].relevant and not verdicts["b"].relevant and not verdicts["gone"].relevant
    assert verdicts["b"].failed == ("works at excluded company Northwind",)
    assert verdicts["gone"].role.status == "closed" and verdicts["gone"].failed == ("role is closed",)


def test_evaluate_candidate_skips_roles_that_cannot_match():
    index = RoleIndex()
    index.upsert(role(role_id="excluded", exclude_companies=["Northwind Inc."]))
    index.upsert(role(role_id="elsewhere", locations=["Lisbon"]))
    index.upsert(role(role_id="paused", status="paused"))
    assert evaluate_candidate(index, cand(), relevant_now=[], now=NOW) == []


def test_words_are_built_only_when_read_and_name_the_threshold():
    verdict = evaluate(role(threshold=0.99), cand(), NOW)
    assert not verdict.relevant and verdict.reasons == ()
    assert verdict.failed == (f"fit {verdict.fit:.4g} below threshold 0.99",)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

from services.domain.matcher import could_be_relevant, hard_constraint_failures  # noqa: E402

SKILLS = ["python", "kafka", "flink", "go", "rust"]


@settings(max_examples=400)
@given(
    must=st.lists(st.sampled_from(SKILLS), max_size=3), has=st.sets(st.sampled_from(SKILLS)),
    status=st.sampled_from(["open", "paused", "closed"]), levels=st.lists(st.sampled_from(["mid", "senior", "staff"]), max_size=2),
    level=st.sampled_from([None, "mid", "senior", "staff"]), min_years=st.one_of(st.none(), st.integers(0, 12)),
    years=st.one_of(st.none(), st.integers(0, 12)), places=st.lists(st.sampled_from(["Berlin", "Lisbon", "Germany"]), max_size=2),
    remote=st.booleans(), location=st.sampled_from([None, "Berlin, Germany", "Lisbon, Portugal"]),
    excluded=st.lists(st.sampled_from(["Northwind", "Initech"]), max_size=1), dnc=st.booleans(),
)
def test_the_cheap_check_agrees_with_the_hard_constraints(must, has, status, levels, level, min_years, years, places,
                                                          remote, location, excluded, dnc):
    r = role(must_have=must, status=status, seniority=levels, min_years=min_years, locations=places, remote=remote,
             exclude_companies=excluded)
    c = cand(tuple(has), seniority=level, years_experience=years, location=location, do_not_contact=dnc)
    assert could_be_relevant(r, c) == (not hard_constraint_failures(r, c))


ROLE_SPECS = st.builds(
    dict, must_have=st.lists(st.sampled_from(SKILLS), max_size=3), nice_to_have=st.lists(st.sampled_from(SKILLS), max_size=2),
    status=st.sampled_from(["open", "open", "paused"]), seniority=st.lists(st.sampled_from(["mid", "senior", "staff"]), max_size=2),
    min_years=st.one_of(st.none(), st.integers(0, 12)), locations=st.lists(st.sampled_from(["Berlin", "Lisbon", "Germany"]), max_size=2),
    remote=st.booleans(), exclude_companies=st.lists(st.sampled_from(["Northwind", "Initech"]), max_size=1),
    domains=st.lists(st.sampled_from(["fintech", "gaming"]), max_size=1), threshold=st.sampled_from([0.6, 0.75, 0.9]),
)


@settings(max_examples=300)
@given(specs=st.lists(ROLE_SPECS, max_size=8), has=st.sets(st.sampled_from(SKILLS)),
       level=st.sampled_from([None, "mid", "senior", "staff"]), years=st.one_of(st.none(), st.integers(0, 12)),
       location=st.sampled_from([None, "Berlin, Germany", "Lisbon, Portugal"]),
       company=st.sampled_from(["Northwind", "Initech", "Contoso"]))
def test_the_index_finds_exactly_the_roles_a_scan_of_every_role_finds(specs, has, level, years, location, company):
    roles = [role(role_id=f"r-{i}", **spec) for i, spec in enumerate(specs)]
    index = RoleIndex()
    for r in roles:
        index.upsert(r)
    c = cand(tuple(has), seniority=level, years_experience=years, location=location, company=company)
    by_index = {(v.role.role_id, v.fit) for v in evaluate_candidate(index, c, (), NOW) if v.relevant}
    by_scan = {(r.role_id, v.fit) for r in roles if (v := evaluate(r, c, NOW)).relevant}
    assert by_index == by_scan
