"""Alert and withdrawal ids: the same transition always has the same id, ids stay as they
were for a candidate never erased, and a candidate's life after erasure and re-admission
(its generation) never repeats an id of an earlier life."""
from datetime import datetime, timedelta, timezone

from schemas import ProfileEvent, RoleSpec
from services.app.handlers import CANDIDATE_HANDLERS, Rules
from services.app.pairs import RoleCandidate, bring_up_again, decide_role, settle_pair
from services.domain.context import CandidateContext
from services.domain.effects import Effects
from services.domain.leads import Lead
from services.domain.matcher import CandidateFacts, Role, RoleIndex, SkillFact, evaluate
from services.domain.transitions import Trigger, pair_message_id, settle, stable_id
from tests.helpers import position, profile_event

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
# Ids the code gave before generations existed: they must never change.
ALERT_R7_C1_1, WITHDRAWAL_R7_C1_2 = "al-804b9abe9f712019cfb607ca", "wd-6123a5da60943bccd6593624"


def role(**overrides) -> Role:
    spec = dict(role_id="r-7", status="open", title="Senior Data Engineer", must_have=["Python", "Kafka"])
    return Role.from_spec(RoleSpec.model_validate({**spec, **overrides}))


def facts(skills=("python", "kafka"), **overrides) -> CandidateFacts:
    known = {s: SkillFact("profile:linkedin", "linkedin profile e1", NOW - timedelta(days=10)) for s in skills}
    return CandidateFacts(**{"candidate_id": "c-1", "skills": known, "company": "Northwind", "seniority": "senior",
                             "location": "Berlin, Germany", "years_experience": 9, **overrides})


def enter_and_leave(generation: int) -> tuple[str, str]:
    """The pair (r-7, c-1) enters and leaves relevance: (alert id, withdrawal id)."""
    r, trigger = role(), Trigger("e1")
    entered = settle(r, "c-1", None, evaluate(r, facts(), NOW), 0.5, trigger, NOW, "match-alerts",
                     generation=generation)
    left = settle(r, "c-1", entered.update.state, evaluate(r, facts(skills=("python",)), NOW), 0.5, trigger, NOW,
                  "match-alerts", generation=generation)
    assert entered.update.state.generation == left.update.state.generation == generation
    assert left.message.payload["withdraws_alert_id"] == entered.message.message_id
    return entered.message.message_id, left.message.message_id


def test_a_candidate_never_erased_keeps_the_ids_it_always_had():
    assert pair_message_id("al", "r-7", "c-1", 1) == stable_id("al", "r-7", "c-1", 1) == ALERT_R7_C1_1
    assert pair_message_id("wd", "r-7", "c-1", 2, generation=0) == WITHDRAWAL_R7_C1_2
    assert enter_and_leave(0) == (ALERT_R7_C1_1, WITHDRAWAL_R7_C1_2)


def test_a_later_generation_has_ids_of_its_own_and_the_same_ones_every_time():
    first, second = enter_and_leave(1), enter_and_leave(2)
    assert first == enter_and_leave(1)  # the same transition, the same ids (redelivery, replay, recovery)
    assert len({ALERT_R7_C1_1, WITHDRAWAL_R7_C1_2, *first, *second}) == 6
    assert all(i.startswith(("al-", "wd-")) for i in (*first, *second))
    assert first[0] == pair_message_id("al", "r-7", "c-1", 1, 1)


def test_a_stored_pair_keeps_its_generation_when_it_enters_again():
    r = role()
    entered = settle(r, "c-1", None, evaluate(r, facts(), NOW), 0.5, Trigger("e1"), NOW, "m", generation=1)
    left = settle(r, "c-1", entered.update.state, evaluate(r, facts(skills=("python",)), NOW), 0.5, Trigger("e2"),
                  NOW, "m")
    again = settle(r, "c-1", left.update.state, evaluate(r, facts(), NOW), 0.5, Trigger("e3"), NOW, "m")
    assert again.message.message_id == pair_message_id("al", "r-7", "c-1", 3, 1) != stable_id("al", "r-7", "c-1", 3)


def test_every_path_that_alerts_uses_the_candidates_generation():
    # a candidate event: the context's generation
    context = CandidateContext("c-1", generation=1)
    roles = RoleIndex()
    roles.upsert(role())
    event = ProfileEvent.model_validate(profile_event("p1", "c-1", skills=["Python", "Kafka"], seniority="senior",
                                                      positions=[position("Senior Engineer", "Northwind")]))
    effects = CANDIDATE_HANDLERS[ProfileEvent](context, event, roles, NOW, Rules())
    [alert] = [m for m in effects.messages if m.payload.get("type") == "match.alert"]
    assert alert.message_id == pair_message_id("al", "r-7", "c-1", 1, 1)
    pair = effects.context.pairs["r-7"]
    assert pair.generation == 1
    # a role change: the generation the pipeline found for the candidate
    for generation in (0, 1):
        done = decide_role([RoleCandidate("c-1", facts(), None, None, generation)], role(), Trigger("r"), NOW)
        assert done.messages[0].message_id == pair_message_id("al", "r-7", "c-1", 1, generation)
    # a snooze that ended: the pair's
    brought = Effects()
    bring_up_again(role(), "c-1", pair, facts(), Trigger("t"), NOW, brought)
    assert brought.messages[0].message_id == pair_message_id("al", "r-7", "c-1", 2, 1)
    # an alert held back by a lead's feedback: the id it would have had
    lead = Lead("r-7", "c-1", "not_a_fit", NOW, "al-x", (), 0.5, reason="not now", blocked_at=NOW)
    held = Effects()
    settle_pair(role(), "c-1", None, lead, evaluate(role(), facts(), NOW), 0.5, Trigger("e"), NOW, held, 1)
    assert [h.alert_id for h in held.held_back] == [pair_message_id("al", "r-7", "c-1", 1, 1)]
