"""The handlers on plain data, no database: an in-memory context, a sequence of events, and
the signals, transitions and reasons they decide."""
from dataclasses import replace
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Optional

import pytest

from schemas import InterviewNote, ProfileEvent, RoleSpec, TimerEvent
from services.app.handlers import CANDIDATE_HANDLERS, RoleCandidate, Rules, decide_role
from services.domain.context import CandidateContext
from services.domain.matcher import Role, RoleIndex, closed_role
from services.domain.reasons import describe_role_change
from services.domain.transitions import Trigger
from tests.helpers import note, position, profile_event, role_spec

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


class InMemoryRadar:
    """The pipeline's dispatch without a store: contexts in a dict, roles in an index."""

    def __init__(self):
        self.contexts: dict[str, CandidateContext] = {}
        self.roles = RoleIndex()
        self.messages: list[dict] = []

    def event(self, model, data):
        event = model.model_validate(data)
        context = self.contexts.get(event.candidate_id, CandidateContext(event.candidate_id))
        effects = CANDIDATE_HANDLERS[model](context, event, self.roles, NOW, Rules())
        if not effects.stale:
            self.contexts[event.candidate_id] = effects.context
        self.messages += [m.payload for m in effects.messages]
        return effects

    def profile(self, *args, **kwargs):
        return self.event(ProfileEvent, profile_event(*args, **kwargs))

    def note(self, *args, **kwargs):
        return self.event(InterviewNote, note(*args, **kwargs))

    def role(self, role_id: str, spec: Optional[dict] = None, event_id: str = "role-event"):
        before = self.roles.get(role_id)
        if spec is None:
            self.roles.remove(role_id)
            role = closed_role(role_id, "deleted")
        else:
            role = Role.from_spec(RoleSpec.model_validate(spec))
            self.roles.upsert(role)
        candidates = [RoleCandidate(cid, c.matcher_facts, c.pairs.get(role_id)) for cid, c in self.contexts.items()]
        effects = decide_role(candidates, role, Trigger(event_id, change=[describe_role_change(before, role)]), NOW)
        for change in effects.pairs:
            context = self.contexts[change.candidate_id]
            pairs = MappingProxyType({**context.pairs, change.role_id: change.state})
            self.contexts[change.candidate_id] = replace(context, pairs=pairs)
        self.messages += [m.payload for m in effects.messages]
        return effects

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m.get("type") == kind]


def ada(event_id, at, skills=("Python",), company="Northwind", **profile):
    return dict(event_id=event_id, candidate_id="c-1", occurred_at=at, skills=list(skills), location="Berlin, Germany",
                positions=[position("Senior Data Engineer", company)], **profile)


def changes(message):
    return [r["text"] for r in message["reasons"] if r["kind"] == "change"]


def test_every_profile_signal_type():
    radar = InMemoryRadar()
    first = radar.profile("s1", "c-9", "2026-01-01T00:00:00Z", location="Berlin, Germany", open_to_work=False,
                          skills=["Python"], positions=[position("Senior Engineer", "Northwind", industry="fintech",
                                                                 reports=0)])
    assert first.signals == [] and first.created and first.places == ("berlin", "germany")
    promoted = radar.profile("s2", "c-9", "2026-02-01T00:00:00Z",
                             positions=[position("Staff Engineer", "Northwind", industry="fintech", reports=2)])
    assert [s.type for s in promoted.signals] == ["promotion", "leadership_growth"]
    assert not promoted.created and promoted.places is None  # the location did not change
    moved = radar.profile("s3", "c-9", "2026-03-01T00:00:00Z", location="Lisbon, Portugal", open_to_work=True,
                          skills=["Python", "Go"], positions=[position("Staff Engineer", "Contoso", start="2026-03",
                                                                       industry="healthtech", reports=2)])
    assert [s.type for s in moved.signals] == ["role_change", "domain_shift", "relocation", "open_to_work",
                                               "new_skill"]
    assert moved.places == ("lisbon", "portugal") and [s.skill for s in moved.skills] == ["go"]
    context = radar.contexts["c-9"]
    assert context.facts.last_move_type == "role_change" and context.facts.last_move_on == "2026-03-01"
    assert "open to work on their profile" in context.readiness_reasons
    assert [m["type"] for m in radar.messages] == ["promotion", "leadership_growth", "role_change", "domain_shift",
                                                   "relocation", "open_to_work", "new_skill"]


def test_notes_add_evidence_interest_and_a_follow_up_but_not_negated_skills():
    radar = InMemoryRadar()
    effects = radar.note("n-1", "c-1", "Strong in Kafka and Flink. No Rust experience yet. Open to offers, "
                                       "but asked us to check back in 6 months.")
    assert effects.created and effects.note.event_id == "n-1"
    assert {s.skill for s in effects.skills} == {"kafka", "flink"}
    assert [s.type for s in effects.signals] == ["new_skill", "new_skill", "interest_expressed"]
    assert effects.follow_up.due_at.date().isoformat() == "2027-05-21"
    facts = radar.contexts["c-1"].facts
    assert facts.interest.kind == "interested" and facts.next_follow_up_on == "2027-05-21"
    assert any("asked to wait until 2027-05-21" in r for r in radar.contexts["c-1"].readiness_reasons)
    # an older note arriving late does not undo the newer statement
    radar.note("n-0", "c-1", "Happy where she is.", occurred_at="2026-10-01T10:00:00Z")
    assert radar.contexts["c-1"].facts.interest.note == "n-1"


def test_timers_signal_a_due_follow_up_and_each_tenure_window_once():
    radar = InMemoryRadar()
    radar.profile("p1", "c-6", positions=[position("Engineer", "Northwind", start="2022-01")])
    due = radar.event(TimerEvent, {"event_id": "t1", "candidate_id": "c-6", "kind": "revisit_due",
                                   "due_at": "2026-11-20T00:00:00Z", "detail": {"note_event_id": "n-5"}})
    assert [s.type for s in due.signals] == ["revisit_due"]
    assert "follow-up due since 2026-11-20" in radar.contexts["c-6"].readiness_reasons
    tenure = {"event_id": "t2", "candidate_id": "c-6", "kind": "tenure_check", "due_at": "2026-11-23T00:00:00Z"}
    first = radar.event(TimerEvent, tenure)
    assert [(s.type, s.detail["window_months"]) for s in first.signals] == [("tenure_milestone", 48)]
    again = radar.event(TimerEvent, dict(tenure, event_id="t3"))
    assert again.signals == []


def test_enter_stay_leave_and_re_enter():
    radar = InMemoryRadar()
    radar.role("r-7", role_spec("r-7", exclude_companies=["Initech"]))
    radar.profile(**ada("p1", "2026-11-20T10:00:00Z"))
    assert radar.messages == []
    entered = radar.profile(**ada("p2", "2026-11-21T10:00:00Z", skills=("Python", "Kafka")))
    [alert] = radar.of_type("match.alert")
    assert alert["triggered_by"] == "p2" and alert["signals"] == ["new_skill"]
    assert changes(alert) == ["new skill: Kafka", "until this event: missing must-have Kafka"]
    assert [p.new for p in entered.pairs] == [True] and entered.pairs[0].state.relevant
    stays = radar.profile(**ada("p3", "2026-11-22T10:00:00Z", skills=("Python", "Kafka")))
    assert stays.pairs == [] and stays.messages == []  # nothing to write, nothing to send
    leaves = radar.profile(**ada("p4", "2026-11-23T10:00:00Z", company="Initech"))
    [withdrawn] = radar.of_type("match.withdrawn")
    assert withdrawn["withdraws_alert_id"] == alert["alert_id"]
    assert changes(withdrawn) == ["moved from Northwind to Initech", "works at excluded company Initech"]
    assert leaves.pairs[0].changed_at == NOW and not leaves.pairs[0].state.relevant
    radar.profile(**ada("p5", "2026-11-24T10:00:00Z", company="Northwind"))
    second = radar.of_type("match.alert")[1]
    assert second["alert_id"] != alert["alert_id"] and radar.contexts["c-1"].pairs["r-7"].transitions == 3


def test_the_first_event_about_a_candidate_says_so():
    radar = InMemoryRadar()
    radar.role("r-7", role_spec("r-7"))
    radar.profile(**ada("p1", "2026-11-20T10:00:00Z", skills=("Python", "Kafka")))
    assert changes(radar.of_type("match.alert")[0]) == ["first event about this candidate"]


def test_role_edit_close_reopen_and_delete():
    radar = InMemoryRadar()
    radar.profile(**ada("p1", "2026-11-20T10:00:00Z", skills=("Python", "Kafka")))
    created = radar.role("r-2", role_spec("r-2"))
    assert changes(radar.of_type("match.alert")[0]) == ["role r-2 (Senior Data Engineer) created"]
    assert [p.new for p in created.pairs] == [True]
    radar.role("r-2", role_spec("r-2", must_have=["Python", "Kafka", "Rust"]))
    edited = radar.of_type("match.withdrawn")[0]
    assert changes(edited) == ["role r-2 (Senior Data Engineer) changed: must-have + Rust", "missing must-have Rust"]
    radar.role("r-2", role_spec("r-2"))
    assert len(radar.of_type("match.alert")) == 2
    radar.role("r-2", role_spec("r-2", status="closed"))
    assert changes(radar.of_type("match.withdrawn")[1])[0] == "role r-2 closed"
    radar.role("r-2", role_spec("r-2"))
    assert changes(radar.of_type("match.alert")[2]) == ["role r-2 (Senior Data Engineer) reopened"]
    radar.role("r-2", None)
    assert changes(radar.of_type("match.withdrawn")[2])[0] == "role r-2 deleted"
    assert radar.contexts["c-1"].pairs["r-2"].transitions == 6


def test_a_stale_snapshot_changes_nothing_and_handlers_change_no_input():
    radar = InMemoryRadar()
    radar.profile(**ada("p2", "2026-11-21T10:00:00Z"))
    before = radar.contexts["c-1"]
    stale = radar.profile(**ada("p1", "2026-11-20T10:00:00Z", skills=("Python", "Go")))
    assert stale.stale and radar.contexts["c-1"] is before and "go" not in before.skills
    with pytest.raises(Exception):
        before.readiness = 1.0  # contexts are frozen: a handler returns a new one
