"""The pipeline against a real database (SQLite and PostgreSQL), without Kafka."""
import json
from datetime import datetime, timezone

from sqlalchemy import select

from services.adapters.store.models import (
    Candidate,
    CandidatePlace,
    CandidateSkill,
    MatchState,
    OutboxMessage,
    RoleSpecRow,
    Signal,
)
from services.app.pipeline import Pipeline
from tests.helpers import note, position, profile_event, raw, role_spec

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def make_pipeline(sessions):
    return Pipeline(sessions, clock=lambda: NOW)


def outbox(sessions, topic=None):
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [r.payload for r in rows if topic is None or r.topic.endswith(topic)]


def alerts(sessions, kind="match.alert"):
    return [p for p in outbox(sessions, "match-alerts") if p["type"] == kind]


def ada(event_id="p1", skills=("Python",), at="2026-11-20T10:00:00Z", **extra):
    return raw("profile-events", profile_event(event_id, "c-1", at, skills=list(skills), location="Berlin, Germany",
                                               positions=[position("Senior Data Engineer", "Northwind")], **extra))


def test_candidate_becomes_relevant_once(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7", locations=["Berlin"]))])
    p.process([ada("p1", ["Python"])])
    assert alerts(sessions) == []
    result = p.process([ada("p2", ["Python", "Kafka"], at="2026-11-21T10:00:00Z")])
    assert result.alerts == 1
    [alert] = alerts(sessions)
    assert alert["role_id"] == "r-7" and alert["candidate_id"] == "c-1" and alert["triggered_by"] == "p2"
    changes = [r["text"] for r in alert["reasons"] if r["kind"] == "change"]
    assert changes == ["new skill: Kafka", "until this event: missing must-have Kafka"]
    assert alert["signals"] == ["new_skill"] and alert["fit"] >= 0.6
    assert any("Kafka" in r["text"] for r in alert["reasons"])
    # staying relevant sends nothing more
    p.process([ada("p3", ["Python", "Kafka", "Go"], at="2026-11-22T10:00:00Z")])
    assert len(alerts(sessions)) == 1


def test_duplicate_event_changes_nothing(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7"))])
    p.process([ada("p1", ["Python", "Kafka"])])
    first = outbox(sessions)
    result = p.process([ada("p1", ["Python", "Kafka"]), ada("p1", ["Python", "Kafka"])])
    assert result.duplicates == 2 and outbox(sessions) == first
    # and a fresh pipeline (a restarted worker) sees the same
    assert make_pipeline(sessions).process([ada("p1", ["Python", "Kafka"])]).duplicates == 1


def test_role_created_after_candidates_alerts_existing_candidates(sessions):
    p = make_pipeline(sessions)
    p.process([ada("p1", ["Python", "Kafka"])])
    result = p.process([raw("role-specs", role_spec("r-8"))])
    assert result.alerts == 1 and alerts(sessions)[0]["role_id"] == "r-8"


def test_leave_and_reenter_relevance(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7", exclude_companies=["Initech"]))])
    p.process([ada("p1", ["Python", "Kafka"])])
    moved = profile_event("p2", "c-1", "2026-11-21T10:00:00Z", positions=[position("Senior Data Engineer", "Initech", start="2026-11")])
    p.process([raw("profile-events", moved)])
    [withdrawn] = alerts(sessions, "match.withdrawn")
    assert [r["text"] for r in withdrawn["reasons"]] == ["moved from Northwind to Initech",
                                                         "works at excluded company Initech"]
    back = profile_event("p3", "c-1", "2026-11-22T10:00:00Z", positions=[position("Senior Data Engineer", "Northwind", start="2026-11")])
    p.process([raw("profile-events", back)])
    first, second = alerts(sessions)
    assert first["alert_id"] != second["alert_id"]


def test_pause_close_reopen_delete(sessions):
    p = make_pipeline(sessions)
    p.process([ada("p1", ["Python", "Kafka"])])
    p.process([raw("role-specs", role_spec("r-7"))])
    p.process([raw("role-specs", role_spec("r-7", status="paused"))])
    assert len(alerts(sessions, "match.withdrawn")) == 1
    p.process([raw("role-specs", role_spec("r-7", status="open"))])
    reopened = alerts(sessions)
    assert len(reopened) == 2 and any("reopened" in r["text"] for r in reopened[1]["reasons"])
    p.process([raw("role-specs", None, key="r-7")])
    assert len(alerts(sessions, "match.withdrawn")) == 2
    # a candidate event after deletion alerts nothing for the deleted role
    p.process([ada("p9", ["Python", "Kafka", "Rust"], at="2026-11-25T10:00:00Z")])
    assert len(alerts(sessions)) == 2


def test_a_redelivered_role_spec_changes_nothing_even_after_a_newer_one(sessions):
    p = make_pipeline(sessions)
    p.process([ada("p1", ["Python", "Kafka"])])
    first = raw("role-specs", role_spec("r-7"))
    assert p.process([first]).alerts == 1
    p.process([raw("role-specs", role_spec("r-7", must_have=["Python", "Kafka", "Rust"]))])
    assert len(alerts(sessions, "match.withdrawn")) == 1
    again = p.process([first])  # redelivery (a crash before the offset commit, a replay)
    assert (again.duplicates, again.alerts) == (1, 0)
    same_id_elsewhere = raw("role-specs", json.loads(first.value))  # same event_id, another position
    assert p.process([same_id_elsewhere]).duplicates == 1
    tombstone = raw("role-specs", None, key="r-7")
    p.process([tombstone])
    assert p.process([tombstone]).duplicates == 1
    with sessions() as s:
        assert s.get(RoleSpecRow, "r-7").deleted
    assert len(alerts(sessions)) == 1


def test_an_alert_says_what_changed_even_without_a_signal(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7", min_years=8))])
    first = p.process([ada("p1", ["Python", "Kafka"])])
    assert first.alerts == 0
    p.process([ada("p2", ["Python", "Kafka"], at="2026-11-21T10:00:00Z", years_experience=10)])
    [alert] = alerts(sessions)
    texts = {r["kind"]: r["text"] for r in alert["reasons"]}
    assert texts["change"] == "until this event: unknown years of experience, needs 8"
    assert texts["experience"] == "10 years of experience, role asks 8+"


def test_a_brand_new_candidate_alert_says_so(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7"))])
    p.process([ada("p1", ["Python", "Kafka"])])
    [alert] = alerts(sessions)
    assert {"kind": "change", "text": "first event about this candidate"} in alert["reasons"]


def test_an_older_note_arriving_late_does_not_undo_newer_interest(sessions):
    p = make_pipeline(sessions)
    p.process([raw("interview-notes", note("n-new", "c-1", "Open to offers.", occurred_at="2026-11-21T15:30:00Z"))])
    p.process([raw("interview-notes", note("n-old", "c-1", "Not looking right now.", occurred_at="2026-09-01T15:30:00Z"))])
    with sessions() as s:
        row = s.get(Candidate, "c-1")
        assert row.view["facts"]["interest"]["note"] == "n-new"
        assert not any("Not looking" in r for r in row.readiness_reasons)


def test_stale_snapshot_changes_nothing(sessions):
    p = make_pipeline(sessions)
    p.process([ada("p2", ["Python"], at="2026-11-21T10:00:00Z")])
    result = p.process([ada("p1", ["Python", "Kafka"], at="2026-11-20T10:00:00Z")])
    assert result.stale == 1
    with sessions() as s:
        assert {k.skill for k in s.scalars(select(CandidateSkill))} == {"python"}


def test_malformed_and_invalid_go_to_dead_letters_and_batch_continues(sessions):
    p = make_pipeline(sessions)
    bad_json = raw("profile-events", b"{oops")
    invalid = raw("profile-events", {"event_id": "x", "candidate_id": "c-2"})
    result = p.process([bad_json, invalid, ada("p1", ["Python"])])
    assert result.dead_letters == 2 and result.processed == 1
    letters = outbox(sessions, "dead-letters")
    assert letters[0]["value"] == "{oops" and "malformed JSON" in letters[0]["error"]
    assert "profile" in letters[1]["error"] and letters[1]["offset"] == invalid.offset


def test_signals_are_stored_and_published(sessions):
    p = make_pipeline(sessions)
    p.process([ada("p1", ["Python"])])
    moved = profile_event("p2", "c-1", "2026-11-21T10:00:00Z", skills=["Python", "Rust"],
                          positions=[position("Senior Data Engineer", "Contoso", start="2026-11")])
    p.process([raw("profile-events", moved)])
    published = {s["type"] for s in outbox(sessions, "candidate-signals")}
    assert published == {"role_change", "new_skill"}
    with sessions() as s:
        assert {x.type for x in s.scalars(select(Signal))} == published


def test_note_skills_become_evidence_but_negated_do_not(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7"))])
    p.process([ada("p1", ["Python"])])
    text = "Strong in Kafka and Flink. No Rust experience yet. Asked us to check back in 6 months."
    result = p.process([raw("interview-notes", note("n-88", "c-1", text))])
    assert result.alerts == 1
    with sessions() as s:
        skills = {k.skill: k for k in s.scalars(select(CandidateSkill))}
        state = s.get(MatchState, ("r-7", "c-1"))
    assert "kafka" in skills and "rust" not in skills
    assert skills["kafka"].origin == "note" and "n-88" in skills["kafka"].evidence
    assert state.relevant


def test_a_field_left_out_of_a_newer_snapshot_is_unknown_not_removed(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7", locations=["Berlin"]))])
    p.process([ada("p1", ["Python"])])
    partial = profile_event("p2", "c-1", "2026-11-21T10:00:00Z", skills=["Python", "Kafka"])
    assert p.process([raw("profile-events", partial)]).alerts == 1


def test_do_not_contact_withdraws_and_suppresses(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7"))])
    p.process([ada("p1", ["Python", "Kafka"])])
    dnc = profile_event("d1", "c-1", "2026-11-21T10:00:00Z", source="ats", do_not_contact=True)
    p.process([raw("profile-events", dnc)])
    [withdrawn] = alerts(sessions, "match.withdrawn")
    assert any("do-not-contact" in r["text"] for r in withdrawn["reasons"])
    assert p.process([raw("role-specs", role_spec("r-8"))]).alerts == 0


def test_role_event_reevaluates_only_candidates_with_the_must_haves(sessions):
    p = make_pipeline(sessions)
    p.process([ada("p1", ["Python", "Kafka"])])
    p.process([raw("profile-events", profile_event("q1", "c-2", skills=["Python"]))])
    p.process([raw("profile-events", profile_event("q2", "c-3", skills=["Rust", "Kafka"]))])
    from schemas import RoleSpec
    from services.adapters.store.queries import candidates_for_role
    from services.domain.matcher import Role
    role = Role.from_spec(RoleSpec.model_validate(role_spec("r-1")))
    with sessions() as s:
        assert candidates_for_role(s, role) == ["c-1"]


def test_role_without_must_haves_finds_candidates_by_country(sessions):
    p = make_pipeline(sessions)
    p.process([ada("p1", ["Python"])])  # Berlin, Germany
    result = p.process([raw("role-specs", role_spec("r-de", must_have=[], nice_to_have=[], locations=["Germany"]))])
    assert result.alerts == 1


def test_a_role_without_must_haves_reads_only_the_candidates_in_its_places(sessions):
    from schemas import RoleSpec
    from services.adapters.store.queries import candidates_for_role
    from services.domain.matcher import Role

    p = make_pipeline(sessions)
    p.process([ada("p1", ["Python"])])  # Berlin, Germany
    p.process([raw("profile-events", profile_event("q1", "c-2", skills=["Go"], location="Lisbon, Portugal"))])
    p.process([raw("profile-events", profile_event("q2", "c-3", skills=["Go"]))])  # no location
    on_site = Role.from_spec(RoleSpec.model_validate(role_spec("r-pt", must_have=[], locations=["Portugal"])))
    remote = Role.from_spec(RoleSpec.model_validate(role_spec("r-any", must_have=[], locations=["Portugal"], remote=True)))
    with sessions() as s:
        assert candidates_for_role(s, on_site) == ["c-2"]
        assert candidates_for_role(s, remote) == ["c-1", "c-2", "c-3"]
    # moving keeps the place index in step
    p.process([raw("profile-events", profile_event("q3", "c-2", "2026-11-22T10:00:00Z", location="Munich, Germany"))])
    with sessions() as s:
        assert candidates_for_role(s, on_site) == []
        places = {(r.candidate_id, r.place) for r in s.scalars(select(CandidatePlace))}
    assert places == {("c-1", "berlin"), ("c-1", "germany"), ("c-2", "munich"), ("c-2", "germany")}


def test_a_partial_newer_snapshot_does_not_make_the_fields_it_left_out_look_new(sessions):
    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7", locations=["Berlin"]))])
    referral = dict(skills=["Python", "Kafka"], location="Hamburg, Germany", years_experience=10,
                    positions=[position("Senior Data Engineer", "Northwind")])
    p.process([raw("profile-events", profile_event("e1", "c-1", "2026-11-08T10:00:00Z", source="referral", **referral))])
    ats = dict(location="Berlin, Germany", years_experience=9)
    p.process([raw("profile-events", profile_event("e2", "c-1", "2026-11-10T10:00:00Z", source="ats", **ats))])
    assert len(alerts(sessions)) == 1
    only_positions = dict(positions=[position("Staff Data Engineer", "Northwind", start="2026-11")])
    p.process([raw("profile-events", profile_event("e3", "c-1", "2026-11-21T10:00:00Z", source="referral",
                                                   **only_positions))])
    with sessions() as s:
        view = s.get(Candidate, "c-1").view["profile"]
    assert (view["location"], view["years_experience"], view["current"]["title"]) == ("Berlin, Germany", 9, "Staff Data Engineer")
    assert alerts(sessions, "match.withdrawn") == []
    assert [x["type"] for x in outbox(sessions, "candidate-signals") if x["source_event_id"] == "e3"] == ["promotion"]


def test_shortlist_reasons_follow_a_role_edit_that_leaves_the_fit_alone(sessions):
    from services.app.read_models import shortlist

    p = make_pipeline(sessions)
    p.process([raw("role-specs", role_spec("r-7", nice_to_have=["Flink"]))])
    p.process([ada("p1", ["Python", "Kafka", "Flink"])])
    p.process([raw("role-specs", role_spec("r-7", must_have=["Python", "Flink"], nice_to_have=["Kafka"]))])
    [entry] = shortlist(sessions, "r-7")["candidates"]
    texts = [r["text"] for r in entry["reasons"]]
    assert entry["fit"] == 1.0
    assert any(t.startswith("has Flink (must-have") for t in texts)
    assert any(t.startswith("has Kafka (nice-to-have") for t in texts)


def test_a_role_edit_says_what_changed(sessions):
    p = make_pipeline(sessions)
    p.process([ada("p1", ["Python", "Kafka", "Flink"])])
    p.process([raw("role-specs", role_spec("r-7", must_have=["Python", "Rust"], threshold=0.9))])
    p.process([raw("role-specs", role_spec("r-7", must_have=["Python", "Kafka"], threshold=0.7))])
    [alert] = alerts(sessions)
    change = next(r["text"] for r in alert["reasons"] if r["kind"] == "change")
    assert change == ("role r-7 (Senior Data Engineer) changed: must-have + Kafka − Rust; threshold 0.9 → 0.7")


def test_a_role_finds_the_holders_of_every_must_have_starting_from_the_rarest(sessions):
    from services.adapters.store.queries import holders_of_all, holders_up_to

    p = make_pipeline(sessions)
    p.process([raw("profile-events", profile_event("h1", "c-1", skills=["Python", "Kafka", "Rust"]))])
    p.process([raw("profile-events", profile_event("h2", "c-2", skills=["Python", "Kafka"]))])
    p.process([raw("profile-events", profile_event("h3", "c-3", skills=["Python", "Rust"]))])
    p.process([raw("profile-events", profile_event("h4", "c-4", skills=["Python"]))])
    with sessions() as s:
        assert [holders_up_to(s, k) for k in ("python", "kafka", "rust", "cobol")] == [4, 2, 2, 0]
        assert holders_up_to(s, "python", cap=3) == 3
        found = lambda skills: sorted(s.scalars(holders_of_all(s, skills)))  # noqa: E731
        assert found(["python", "kafka", "rust"]) == ["c-1"]
        assert found(["python", "kafka"]) == ["c-1", "c-2"]
        assert found(["rust"]) == ["c-1", "c-3"]
        assert found(["python", "cobol"]) == []


def test_the_rarest_must_have_is_found_even_when_every_skill_is_common(sessions, monkeypatch):
    from services.adapters.store import queries

    p = make_pipeline(sessions)
    for i in range(5):
        skills = ["Python", "Kafka", "Rust"] if i < 2 else ["Python", "Kafka"]
        p.process([raw("profile-events", profile_event(f"r{i}", f"c-{i}", skills=skills))])
    monkeypatch.setattr(queries, "HOLDERS_PROBE_CAP", 1)  # every skill reaches the first cap
    with sessions() as s:
        assert queries.rarest_first(s, ["python", "kafka", "rust"]) == ["rust", "kafka", "python"]
