"""The handlers on plain data, no database: an in-memory context, a sequence of events, and
the signals, transitions and reasons they decide."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Optional

import pytest

from schemas import InterviewNote, LeadEvent, ProfileEvent, RoleSpec, TimerEvent
from services.app.handlers import CANDIDATE_HANDLERS, Rules
from services.app.pairs import RoleCandidate, decide_role
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
        self.held_back: list = []
        self.sequence = 0

    def event(self, model, data):
        event = model.model_validate(data)
        context = self.contexts.get(event.candidate_id, CandidateContext(event.candidate_id))
        effects = CANDIDATE_HANDLERS[model](context, event, self.roles, NOW, Rules())
        if not effects.stale:
            self.contexts[event.candidate_id] = effects.context
        self.messages += [m.payload for m in effects.messages]
        self.held_back += effects.held_back
        return effects

    def profile(self, *args, **kwargs):
        return self.event(ProfileEvent, profile_event(*args, **kwargs))

    def note(self, *args, **kwargs):
        return self.event(InterviewNote, note(*args, **kwargs))

    def role(self, role_id: str, spec: Optional[dict] = None, event_id: str = "role-event", at=NOW):
        before = self.roles.get(role_id)
        if spec is None:
            self.roles.remove(role_id)
            role = closed_role(role_id, "deleted")
        else:
            role = Role.from_spec(RoleSpec.model_validate(spec), changed_at=at)
            self.roles.upsert(role)
        candidates = [RoleCandidate(cid, c.matcher_facts, c.pairs.get(role_id), c.leads.get(role_id))
                      for cid, c in self.contexts.items()]
        effects = decide_role(candidates, role, Trigger(event_id, change=[describe_role_change(before, role)]), NOW)
        for change in effects.pairs:
            context = self.contexts[change.candidate_id]
            pairs = MappingProxyType({**context.pairs, change.role_id: change.state})
            self.contexts[change.candidate_id] = replace(context, pairs=pairs)
        for update in effects.leads:
            context = self.contexts[update.lead.candidate_id]
            leads = MappingProxyType({**context.leads, update.lead.role_id: update.lead})
            self.contexts[update.lead.candidate_id] = replace(context, leads=leads)
        self.messages += [m.payload for m in effects.messages]
        self.held_back += effects.held_back
        return effects

    def lead(self, status, role_id="r-7", candidate_id="c-1", at="2026-11-22T12:00:00Z", **fields):
        self.sequence += 1
        event = {"event_id": f"lead-{self.sequence}", "role_id": role_id, "candidate_id": candidate_id,
                 "status": status, "occurred_at": at, "actor": "sourcer@example.com", **fields}
        return self.event(LeadEvent, event)

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


# -- leads: what people say of an alert changes what is sent next --------------------------

def relevant_ada(radar, role_fields=None, **spec):
    radar.role("r-7", role_spec("r-7", exclude_companies=["Initech"], **spec), at=NOW - timedelta(days=5))
    radar.profile(**ada("p1", "2026-11-20T10:00:00Z", skills=("Python", "Kafka")))
    return radar.of_type("match.alert")[0]


def test_the_first_alert_starts_a_lead_and_people_move_it_along():
    radar = InMemoryRadar()
    alert = relevant_ada(radar)
    lead = radar.contexts["c-1"].leads["r-7"]
    assert (lead.status, lead.first_alert_id, lead.updated_by) == ("new", alert["alert_id"], "radar")
    radar.lead("reviewed")
    handed = radar.lead("handed_off", assignee="maria@example.com", note="warm, prefers mornings")
    lead = radar.contexts["c-1"].leads["r-7"]
    assert (lead.status, lead.assignee, lead.furthest) == ("handed_off", "maria@example.com", 4)
    assert handed.leads[0].change.actor == "sourcer@example.com" and not handed.candidate_changed
    assert lead.first_action_at == lead.created_at  # the change is dated before the alert: counted from the alert


@pytest.mark.parametrize("steps,status,says", [
    ([], "reviewed", None),
    (["hired"], "new", "the lead is closed (hired); it cannot become new"),
    (["contacted"], "reviewed", "a lead cannot go back from contacted to reviewed"),
    (["contacted"], "new", "a lead that is contacted cannot go back to new"),
])
def test_transitions_that_make_no_sense_are_refused(steps, status, says):
    radar = InMemoryRadar()
    relevant_ada(radar)
    for step in steps:
        assert radar.lead(step).rejected is None
    effects = radar.lead(status)
    assert effects.rejected == (None if says is None else f"lead r-7/c-1: {says}")


def test_a_lead_event_for_a_pair_never_alerted_is_refused():
    radar = InMemoryRadar()
    radar.profile(**ada("p1", "2026-11-20T10:00:00Z"))
    effects = radar.lead("reviewed", role_id="r-404")
    assert effects.rejected.startswith("no lead for role r-404 and candidate c-1")


def leave_and_come_back(radar, day=23):
    radar.profile(**ada(f"p{day}a", f"2026-11-{day}T10:00:00Z", skills=("Python", "Kafka"), company="Initech"))
    radar.profile(**ada(f"p{day}b", f"2026-11-{day}T11:00:00Z", skills=("Python", "Kafka"), company="Northwind"))


def test_not_a_fit_holds_back_re_entry_until_the_role_changes():
    radar = InMemoryRadar()
    relevant_ada(radar)
    radar.lead("not_a_fit", reason="wrong_level", note="wants a manager role")
    leave_and_come_back(radar)
    assert len(radar.of_type("match.alert")) == 1 and len(radar.of_type("match.withdrawn")) == 1
    [held] = radar.held_back
    assert held.reason == "marked not a fit (wrong_level)" and radar.contexts["c-1"].pairs["r-7"].silent
    radar.profile(**ada("p24", "2026-11-24T10:00:00Z", skills=("Python", "Kafka"), company="Initech"))
    assert len(radar.of_type("match.withdrawn")) == 1  # its alert never went out: nothing to withdraw
    radar.profile(**ada("p25", "2026-11-25T10:00:00Z", skills=("Python", "Kafka"), company="Northwind"))
    assert len(radar.held_back) == 2
    radar.role("r-7", role_spec("r-7", exclude_companies=["Initech"], min_years=None, nice_to_have=["Go"]),
               at=NOW + timedelta(seconds=1))  # the role changed after the feedback
    assert len(radar.of_type("match.alert")) == 1  # still relevant: a role edit sends nothing by itself
    leave_and_come_back(radar, day=26)
    assert len(radar.of_type("match.alert")) == 2  # after the edit, re-entry alerts again


def test_a_move_at_the_same_level_does_not_lift_a_wrong_level_mark_on_a_role_with_levels():
    radar = InMemoryRadar()
    relevant_ada(radar, seniority=["senior", "staff"])
    radar.lead("not_a_fit", reason="wrong_level")
    leave_and_come_back(radar)  # Senior at Initech, then Senior at Northwind again: no new level
    assert len(radar.of_type("match.alert")) == 1 and radar.held_back[0].reason == "marked not a fit (wrong_level)"
    radar.profile(**dict(ada("p24", "2026-11-24T10:00:00Z", skills=("Python", "Kafka"), company="Initech"),
                         positions=[position("Staff Data Engineer", "Initech")]))
    assert radar.contexts["c-1"].leads["r-7"].blocked_at is None  # a move to a new level the role asks for


def test_a_signal_that_touches_the_role_lifts_not_a_fit():
    radar = InMemoryRadar()
    relevant_ada(radar)
    radar.lead("not_a_fit", reason="wrong_skills")
    radar.profile(**ada("p23", "2026-11-23T10:00:00Z", skills=("Python", "Kafka"), company="Initech"))
    radar.profile(**ada("p24", "2026-11-24T10:00:00Z", skills=("Python", "Kafka", "Go"), company="Initech"))
    assert radar.contexts["c-1"].leads["r-7"].blocked_at is not None  # Go is not what r-7 asks for
    radar.profile(**ada("p25", "2026-11-25T10:00:00Z", skills=("Python", "Kafka", "Go", "Flink"), company="Initech"))
    assert radar.contexts["c-1"].leads["r-7"].blocked_at is None  # Flink, a nice-to-have of r-7
    radar.profile(**ada("p26", "2026-11-26T10:00:00Z", skills=("Python", "Kafka", "Go", "Flink")))
    assert len(radar.of_type("match.alert")) == 2


def test_a_snoozed_pair_alerts_again_when_the_snooze_ends_and_hired_closes_it():
    radar = InMemoryRadar()
    relevant_ada(radar)
    radar.lead("snoozed", until="2027-03-01")
    leave_and_come_back(radar)
    assert radar.held_back[0].reason == "snoozed until 2027-03-01"
    wake = {"event_id": "snooze-r-7-c-1-2027-03-01", "candidate_id": "c-1", "kind": "snooze_ended",
            "due_at": "2027-03-01T00:00:00Z", "detail": {"role_id": "r-7", "until": "2027-03-01"}}
    woken = radar.event(TimerEvent, wake)
    [again] = [m for m in woken.messages if m.payload["type"] == "match.alert"]
    assert [r["text"] for r in again.payload["reasons"] if r["kind"] == "change"] == [
        "the snooze until 2027-03-01 ended"]
    assert radar.contexts["c-1"].leads["r-7"].status == "new"
    assert radar.event(TimerEvent, dict(wake, event_id="snooze-again")).messages == []  # stale: nothing twice
    radar.lead("hired")
    leave_and_come_back(radar, day=27)
    assert radar.held_back[-1].reason == "lead closed (hired)" and len(radar.of_type("match.alert")) == 2


def test_a_change_dated_before_the_lead_began_counts_from_its_start():
    from services.domain.leads import Lead, LeadChange, apply_change

    began = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    lead = Lead("r-7", "c-1", "new", began, "al-1", (), 0.5)
    early = LeadChange("l1", "reviewed", None, None, None, None, "amy", began - timedelta(hours=26))
    assert apply_change(lead, early, began).first_action_at == began  # a replayed change: never a negative wait
    late = LeadChange("l2", "reviewed", None, None, None, None, "amy", began + timedelta(hours=3))
    assert apply_change(lead, late, began).first_action_at == began + timedelta(hours=3)
