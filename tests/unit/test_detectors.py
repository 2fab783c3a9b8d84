from datetime import datetime, timezone

import pytest

from services.domain.detectors import detect_profile_signals
from services.domain.profile import SourcedSnapshot, merge_snapshots


def view(**profile):
    return merge_snapshots([SourcedSnapshot("linkedin", "e", datetime(2026, 1, 1, tzinfo=timezone.utc), profile)])


def pos(title, company, industry="fintech", start="2022-01", reports=None):
    return {"title": title, "company": company, "industry": industry, "start": start, "end": None,
            "direct_reports": reports}


def types(signals):
    return sorted(s.type for s in signals)


def test_first_snapshot_builds_context_without_signals():
    assert detect_profile_signals(None, view(skills=["Python", "Kafka"], open_to_work=True)) == []


def test_role_change_is_a_new_employer():
    old, new = view(positions=[pos("Engineer", "Contoso")]), view(positions=[pos("Engineer", "Northwind")])
    signals = detect_profile_signals(old, new)
    assert types(signals) == ["role_change"]
    assert signals[0].detail["to_company"] == "Northwind"


def test_same_employer_spelled_differently_is_not_a_role_change():
    old, new = view(positions=[pos("Engineer", "Northwind Inc.")]), view(positions=[pos("Engineer", "northwind")])
    assert detect_profile_signals(old, new) == []


def test_promotion_is_a_higher_rung_at_the_same_employer():
    old = view(positions=[pos("Senior Engineer", "Northwind")])
    new = view(positions=[pos("Staff Engineer", "Northwind", start="2025-01")])
    assert types(detect_profile_signals(old, new)) == ["promotion"]


def test_lower_rung_or_lateral_move_is_not_a_promotion():
    old = view(positions=[pos("Staff Engineer", "Northwind")])
    assert detect_profile_signals(old, view(positions=[pos("Senior Engineer", "Northwind")])) == []
    assert detect_profile_signals(old, view(positions=[pos("Engineering Manager", "Northwind")])) == []


def test_new_skill_only_for_skills_not_seen_before_and_normalised():
    old, new = view(skills=["Python", "k8s"]), view(skills=["python", "Kubernetes", "Kafka"])
    signals = detect_profile_signals(old, new)
    assert [s.detail["skill"] for s in signals] == ["kafka"]


def test_new_skill_respects_skills_known_from_notes():
    old, new = view(skills=["Python"]), view(skills=["Python", "Kafka"])
    assert detect_profile_signals(old, new, known_skills={"kafka"}) == []


def test_leadership_growth_first_reports():
    old = view(positions=[pos("Engineer", "A", reports=0)])
    new = view(positions=[pos("Engineer", "A", reports=3)])
    signals = detect_profile_signals(old, new)
    assert types(signals) == ["leadership_growth"] and signals[0].detail["first_reports"]


def test_domain_shift_and_relocation():
    old = view(positions=[pos("Engineer", "A", industry="fintech")], location="Berlin, Germany")
    new = view(positions=[pos("Engineer", "A", industry="healthtech")], location="Lisbon, Portugal")
    assert types(detect_profile_signals(old, new)) == ["domain_shift", "relocation"]


def test_reformatted_same_city_is_not_a_relocation():
    assert detect_profile_signals(view(location="Berlin, Germany"), view(location="berlin")) == []


def test_open_to_work_turned_on_only():
    assert types(detect_profile_signals(view(open_to_work=False), view(open_to_work=True))) == ["open_to_work"]
    assert detect_profile_signals(view(open_to_work=True), view(open_to_work=True)) == []
    assert detect_profile_signals(view(open_to_work=True), view(open_to_work=False)) == []


def test_merge_takes_each_field_from_the_newest_snapshot_that_states_it():
    t1, t2 = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc)
    merged = merge_snapshots([
        SourcedSnapshot("ats", "a", t2, {"location": "Lisbon", "skills": ["Go"]}),
        SourcedSnapshot("linkedin", "b", t1, {"location": "Berlin", "headline": "Eng", "skills": ["Python"]}),
    ])
    assert merged["location"] == "Lisbon" and merged["headline"] == "Eng"
    assert set(merged["skills"]) == {"go", "python"}
    assert merged["sources"]["location"] == "ats"


def test_current_position_latest_start_wins():
    merged = view(positions=[pos("A", "X", start="2020-01"), pos("B", "Y", start="2023-05"),
                             {"title": "Old", "company": "Z", "start": "2010-01", "end": "2019-12"}])
    assert merged["current"]["company"] == "Y"


@pytest.mark.parametrize("spelling", ["ACME GmbH", "Acme Corporation", "Acme S.A.", "Acme SE", "Acme GmbH & Co. KG",
                                      "Acme Holdings, Inc.", "acme limited", "ACME"])
def test_company_spellings_and_legal_forms_fold_together(spelling):
    from services.domain.profile import company_key
    assert company_key(spelling) == "acme"
