"""Every inbound field is bounded once, in the wire models, and every bound fits its column:
an out-of-bounds value is a clear dead letter on every database, never a database error."""
import json

import pytest
from sqlalchemy import String

from schemas import bounds as B
from schemas.bounds import storable_problem
from services.adapters.kafka.records import RawRecord
from services.adapters.store import models as M
from services.app.decoding import Rejected, decode

PROFILE = {"event_id": "e1", "candidate_id": "c-1", "source": "linkedin", "occurred_at": "2026-11-20T10:00:00Z",
           "profile": {"skills": ["Python"], "positions": [{"title": "Engineer", "company": "A", "start": "2024-03"}]}}
NOTE = {"event_id": "n1", "candidate_id": "c-1", "kind": "screen", "occurred_at": "2026-11-21T15:30:00Z",
        "text": "Strong in Kafka.", "author": "lead@example.com"}
ROLE = {"event_id": "r1", "role_id": "r-7", "status": "open", "title": "Data Engineer", "must_have": ["Kafka"]}
TIMER = {"event_id": "t1", "candidate_id": "c-1", "kind": "revisit_due", "due_at": "2026-11-21T00:00:00Z"}


def record(topic, value, key=None):
    payload = value if isinstance(value, bytes) else json.dumps(value).encode()
    return RawRecord(topic=topic, partition=0, offset=1, key=key, value=payload)


def with_value(message, path, value):
    """A deep copy of `message` with the field at the dotted `path` set to `value`."""
    data = json.loads(json.dumps(message))
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


def column_length(column) -> int:
    assert isinstance(column.type, String) and column.type.length, f"{column} has no length"
    return column.type.length


# (topic, message, field path, bound, the columns the field is stored in)
BOUNDED_FIELDS = [
    ("profile-events", PROFILE, "event_id", B.ID_MAX,
     [M.ProfileSnapshot.event_id, M.ProcessedEvent.event_id, M.CandidateSkill.source_event_id, M.Signal.source_event_id]),
    ("profile-events", PROFILE, "candidate_id", B.ID_MAX,
     [M.Candidate.candidate_id, M.CandidateSkill.candidate_id, M.MatchState.candidate_id, M.CandidatePlace.candidate_id]),
    ("profile-events", PROFILE, "source", B.SOURCE_MAX, [M.ProfileSnapshot.source]),
    ("profile-events", PROFILE, "profile.name", B.NAME_MAX, []),
    ("profile-events", PROFILE, "profile.headline", B.HEADLINE_MAX, []),
    ("profile-events", PROFILE, "profile.location", B.LOCATION_MAX, [M.Candidate.city, M.CandidatePlace.place]),
    ("profile-events", PROFILE, "profile.positions.0.company", B.COMPANY_MAX, [M.Candidate.current_company]),
    ("profile-events", PROFILE, "profile.positions.0.title", B.TITLE_MAX, []),
    ("profile-events", PROFILE, "profile.positions.0.industry", B.INDUSTRY_MAX, []),
    ("profile-events", PROFILE, "profile.skills.0", B.SKILL_MAX, [M.CandidateSkill.skill]),
    ("interview-notes", NOTE, "author", B.AUTHOR_MAX, [M.Note.author]),
    ("interview-notes", NOTE, "event_id", B.ID_MAX, [M.Note.event_id, M.FollowUp.note_event_id]),
    ("interview-notes", NOTE, "role_id", B.ID_MAX, [M.Note.role_id]),
    ("interview-notes", NOTE, "text", B.NOTE_TEXT_MAX, []),
    ("role-specs", ROLE, "role_id", B.ID_MAX, [M.RoleSpecRow.role_id, M.MatchState.role_id]),
    ("role-specs", ROLE, "title", B.ROLE_TITLE_MAX, []),
    ("role-specs", ROLE, "owner", B.OWNER_MAX, []),
    ("role-specs", ROLE, "must_have.0", B.ROLE_TERM_MAX, []),
    ("role-specs", ROLE, "description", B.DESCRIPTION_MAX, []),
    ("radar-timers", TIMER, "candidate_id", B.ID_MAX, [M.Candidate.candidate_id]),
]


@pytest.mark.parametrize("topic,message,path,bound,columns", BOUNDED_FIELDS,
                         ids=[f"{t}:{p}" for t, _, p, _, _ in BOUNDED_FIELDS])
def test_a_field_at_its_bound_passes_one_over_is_rejected_and_the_bound_fits_its_columns(
        topic, message, path, bound, columns):
    assert not isinstance(decode(record(topic, with_value(message, path, "x" * bound))), Rejected)
    rejected = decode(record(topic, with_value(message, path, "x" * (bound + 1))))
    assert isinstance(rejected, Rejected)
    assert f"{path}: at most {bound} characters, got {bound + 1}" in rejected.error
    for column in columns:
        assert column_length(column) >= bound, f"{column} is narrower than {path} may be"


def test_derived_columns_have_room_for_what_is_derived():
    assert column_length(M.CandidateSkill.origin) >= len("profile:") + B.SOURCE_MAX
    assert column_length(M.CandidateSkill.skill) >= B.SKILL_KEY_MAX >= B.SKILL_MAX
    assert isinstance(M.OutboxMessage.key.type, M.Text)  # a dead letter keeps a key of any length


def test_the_issue_example_reads_as_the_issue_asks():
    rejected = decode(record("profile-events", dict(PROFILE, source="x" * 70)))
    assert rejected.error == "schema validation failed: source: at most 64 characters, got 70"


@pytest.mark.parametrize("path,items", [("profile.skills", B.SKILLS_MAX_ITEMS),
                                        ("profile.positions", B.POSITIONS_MAX_ITEMS)])
def test_lists_are_bounded_too(path, items):
    rejected = decode(record("profile-events", with_value(PROFILE, path, ["Go"] * (items + 1)
                                                          if "skills" in path else [{}] * (items + 1))))
    assert f"{path}: at most {items} items, got {items + 1}" in rejected.error


def test_a_role_spec_list_is_bounded():
    rejected = decode(record("role-specs", dict(ROLE, must_have=["Go"] * (B.ROLE_LIST_MAX_ITEMS + 1))))
    assert f"must_have: at most {B.ROLE_LIST_MAX_ITEMS} items" in rejected.error


@pytest.mark.parametrize("value", ["c-\x00", "c\n1", "c\x07"])
def test_ids_allow_no_control_characters(value):
    rejected = decode(record("profile-events", dict(PROFILE, candidate_id=value)))
    assert isinstance(rejected, Rejected) and "candidate_id" in rejected.error


def test_nul_is_refused_in_any_text_the_same_way_on_every_database():
    rejected = decode(record("interview-notes", dict(NOTE, text="Strong in Kafka.\x00")))
    assert rejected.error == ("schema validation failed: text: contains a NUL character (\\u0000), "
                              "which cannot be stored")
    # in a field the models ignore, too: the dead letter and the stored JSON must stay storable
    assert "extra.deep" in decode(record("profile-events", dict(PROFILE, extra={"deep": "a\x00"}))).error


def test_a_lone_surrogate_is_refused_wherever_it_is():
    raw_value = json.dumps(dict(PROFILE, candidate_id="\udfff")).encode()  # JSON escapes it: \\udfff
    rejected = decode(record("profile-events", raw_value))
    assert "candidate_id: contains a lone UTF-16 surrogate" in rejected.error
    in_a_name = decode(record("profile-events", with_value(PROFILE, "profile.name", "Ada \ud800")))
    assert "profile.name: contains a lone UTF-16 surrogate" in in_a_name.error


@pytest.mark.parametrize("payload", [
    b"[" * 100_000,
    b'{"event_id": "e", "x": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b"}",
    b'{"x": ' + b"[" * 40 + b"]" * 40 + b"}",
])
def test_deep_nesting_is_a_dead_letter_not_a_crash(payload):
    rejected = decode(record("profile-events", payload))
    assert isinstance(rejected, Rejected) and "nested deeper than" in rejected.error


def test_storable_problem_names_the_path_and_walks_without_recursion():
    deep = current = {}
    for _ in range(50_000):
        current["a"] = {}
        current = current["a"]
    assert "nested deeper than 16 levels" in storable_problem(deep)
    assert storable_problem({"a": [1, {"b": "ok"}], "c": None}) is None
    assert storable_problem({"a": [1, {"b": "x\x00"}]}) .startswith("a.1.b: contains a NUL")
    assert "a field name" in storable_problem({"k\x00": 1})


def test_reasons_never_repeat_the_rejected_value():
    bad_start = with_value(PROFILE, "profile.positions.0.start", "Zelda start")
    rejected = decode(record("profile-events", bad_start))
    assert rejected.error == "schema validation failed: profile.positions.0.start: must be YYYY-MM or YYYY-MM-DD"
    for message in (bad_start, dict(PROFILE, source="Zelda" * 20), dict(NOTE, kind="Zelda")):
        assert "Zelda" not in decode(record("profile-events" if "profile" in message else "interview-notes",
                                            message)).error
