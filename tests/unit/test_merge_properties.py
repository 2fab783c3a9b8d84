"""Property-based tests of the multi-source merge."""
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain.profile import SourcedSnapshot, merge_snapshots

SOURCES = ["ats", "linkedin", "github", "referral", "crm", "event-x"]
BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)

profiles = st.fixed_dictionaries({}, optional={
    "location": st.sampled_from(["Berlin, Germany", "Lisbon", "Porto, Portugal"]),
    "headline": st.text(min_size=1, max_size=20),
    "open_to_work": st.booleans(),
    "years_experience": st.integers(min_value=0, max_value=40),
    "skills": st.lists(st.sampled_from(["Python", "k8s", "Kubernetes", "golang", "Go", "Rust", "SQL"]), max_size=5),
})
snapshots = st.lists(st.builds(lambda source, minutes, profile: SourcedSnapshot(source, f"e-{source}", BASE + timedelta(minutes=minutes), profile),
                               st.sampled_from(SOURCES), st.integers(0, 5), profiles),
                     min_size=1, max_size=6, unique_by=lambda s: s.source)


@settings(max_examples=300)
@given(snapshots, st.randoms())
def test_merge_does_not_depend_on_arrival_order(snaps, rnd):
    shuffled = list(snaps)
    rnd.shuffle(shuffled)
    assert merge_snapshots(snaps) == merge_snapshots(shuffled)


@settings(max_examples=300)
@given(snapshots)
def test_each_field_comes_from_the_newest_snapshot_that_states_it(snaps):
    merged = merge_snapshots(snaps)
    for field in ("location", "headline", "open_to_work", "years_experience"):
        stating = [s for s in snaps if s.profile.get(field) is not None]
        if not stating:
            assert field not in merged
            continue
        newest = max(s.occurred_at for s in stating)
        assert merged[field] in [s.profile[field] for s in stating if s.occurred_at == newest]


@settings(max_examples=300)
@given(snapshots)
def test_skills_are_the_union_of_sources_normalised(snaps):
    from services.domain.taxonomy import normalize_skill
    merged = merge_snapshots(snaps)
    expected = {normalize_skill(k) for s in snaps for k in s.profile.get("skills", [])}
    assert set(merged["skills"]) == expected
    assert len(merged["skills"]) == len(set(merged["skills"]))


@given(snapshots)
def test_a_snapshot_stating_nothing_changes_nothing(snaps):
    empty = SourcedSnapshot("silent", "e-silent", BASE + timedelta(days=1), {})
    without, with_empty = merge_snapshots(snaps), merge_snapshots(snaps + [empty])
    assert without == with_empty
