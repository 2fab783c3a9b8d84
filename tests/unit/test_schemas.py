import json

import pytest
from pydantic import ValidationError

from schemas import InterviewNote, MatchAlert, ProfileEvent, RoleSpec
from schemas.generate import SCHEMA_DIR, render_all
from services.adapters.kafka.records import RawRecord
from services.app.decoding import CandidateErasure, Rejected, RoleTombstone, dead_letter, decode

PROFILE = {"event_id": "e1", "candidate_id": "c-1", "source": "linkedin", "occurred_at": "2026-11-20T10:00:00Z",
           "profile": {"skills": ["Python"], "positions": [{"title": "Engineer", "company": "A", "start": "2024-03"}]}}


def test_json_schema_files_match_the_models():
    for filename, text in render_all().items():
        path = SCHEMA_DIR / filename
        assert path.exists(), f"{filename} missing: run python -m schemas.generate"
        assert path.read_text() == text, f"{filename} drifted from the models: run python -m schemas.generate"


def test_profile_event_accepts_the_contract_example():
    event = ProfileEvent.model_validate(PROFILE)
    assert event.occurred_at.tzinfo is not None
    assert event.profile.positions[0].start == "2024-03"


def test_naive_timestamps_are_read_as_utc():
    event = ProfileEvent.model_validate(dict(PROFILE, occurred_at="2026-11-20T10:00:00"))
    assert event.occurred_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("change,field", [
    ({"event_id": ""}, "event_id"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"profile": {"positions": [{"start": "March 2024"}]}}, "start"),
    ({"profile": {"skills": "Python"}}, "skills"),
    ({"profile": {"years_experience": -1}}, "years_experience"),
])
def test_profile_event_rejects_bad_input_naming_the_field(change, field):
    with pytest.raises(ValidationError) as info:
        ProfileEvent.model_validate(dict(PROFILE, **change))
    assert field in str(info.value)


def test_role_spec_requires_only_id_status_title_and_reads_nulls_as_defaults():
    spec = RoleSpec.model_validate({"role_id": "r-1", "status": "open", "title": "X", "must_have": None})
    assert spec.must_have == [] and spec.threshold == 0.6
    with pytest.raises(ValidationError):
        RoleSpec.model_validate({"role_id": "r-1", "status": "draft", "title": "X"})


def test_note_kind_is_checked():
    with pytest.raises(ValidationError):
        InterviewNote.model_validate({"event_id": "n", "candidate_id": "c", "kind": "chat",
                                      "occurred_at": "2026-01-01T00:00:00Z", "text": "hi"})


def test_alert_schema_version_and_type_are_fixed():
    alert = MatchAlert(alert_id="a", role_id="r", candidate_id="c", fit=0.8, readiness=0.4, reasons=[],
                       signals=[], triggered_by="e", created_at="2026-01-01T00:00:00Z")
    data = json.loads(alert.model_dump_json())
    assert data["type"] == "match.alert" and data["schema_version"] == 1


def record(topic, value, key=None):
    return RawRecord(topic=topic, partition=0, offset=7, key=key, value=value)


def test_decode_malformed_json_gives_a_reason():
    result = decode(record("profile-events", b"{not json"))
    assert isinstance(result, Rejected) and result.error.startswith("malformed JSON")


def test_decode_schema_error_gives_field_paths():
    bad = dict(PROFILE, profile={"positions": [{"start": "2024/03"}]})
    result = decode(record("profile-events", json.dumps(bad).encode()))
    assert isinstance(result, Rejected)
    assert "profile.positions.0.start" in result.error


def test_decode_non_object_and_non_utf8():
    assert "expected a JSON object" in decode(record("profile-events", b"[1,2]")).error
    assert isinstance(decode(record("profile-events", b"\xff\xfe")), Rejected)


def test_role_tombstone():
    assert decode(record("role-specs", None, key=b"r-9")) == RoleTombstone("r-9")
    assert decode(record("profile-events", None, key=b"c")) == CandidateErasure("c")
    assert isinstance(decode(record("profile-events", None)), Rejected)  # an erasure needs its key
    assert isinstance(decode(record("interview-notes", None, key=b"c")), Rejected)


def test_dead_letter_keeps_original_bytes_and_position():
    letter = dead_letter(record("profile-events", b"\xffbad", key=b"c-1"), "malformed JSON", now="2026-01-01T00:00:00Z")
    assert letter.partition == 0 and letter.offset == 7 and letter.key == "c-1"
    assert letter.value_base64 is not None and letter.error == "malformed JSON"


def test_misrouted_candidate_events_are_found_by_the_id_in_the_value():
    from services.adapters.kafka.records import from_rekeyed
    from services.app.decoding import decode_safely, misrouted_candidate_id

    def misrouted(raw_record):
        return misrouted_candidate_id(raw_record, decode_safely(raw_record))

    event = json.dumps(PROFILE).encode()
    note = json.dumps({"event_id": "n1", "candidate_id": "c-1", "kind": "screen", "occurred_at": "2026-11-20T10:00:00Z",
                       "text": "Strong in Kafka."}).encode()
    assert misrouted(record("profile-events", event, key=b"c-1")) is None
    assert misrouted(record("profile-events", event)) == "c-1"
    assert misrouted(record("interview-notes", note, key=b"other")) == "c-1"
    assert misrouted(record("profile-events", b"{bad")) is None  # dead-lettered where it is
    # an invalid event is not forwarded: its candidate_id may be what makes it invalid
    assert misrouted(record("profile-events", json.dumps({"candidate_id": "c-1"}).encode())) is None
    assert misrouted(record("profile-events", json.dumps(dict(PROFILE, candidate_id="\udfff")).encode())) is None
    assert misrouted(record("role-specs", event)) is None
    original = from_rekeyed(b"c-1", event, "profile-events/2/41")
    assert (original.topic, original.partition, original.offset, original.key) == ("profile-events", 2, 41, b"c-1")
    assert misrouted(from_rekeyed(None, event, "profile-events/2/41")) is None  # routed once only


@pytest.mark.parametrize("change, says", [
    ({"status": "snoozed", "until": "2026-11-20"}, "until after the day of the change"),
    ({"status": "snoozed", "until": "2026-11-21"}, "until after the day of the change"),
    ({"status": "contacted", "until": "2027-01-01"}, "until goes with snoozed only"),
    ({"status": "contacted", "reason": "wrong_level"}, "a reason goes with not_a_fit only"),
])
def test_a_lead_change_with_what_does_not_belong_to_it_is_refused(change, says):
    from pydantic import ValidationError

    from schemas.events import LeadEvent
    base = {"event_id": "l1", "role_id": "r-1", "candidate_id": "c-1", "occurred_at": "2026-11-21T10:00:00Z"}
    with pytest.raises(ValidationError, match=says):
        LeadEvent.model_validate({**base, **change})
    assert LeadEvent.model_validate({**base, "status": "snoozed", "until": "2026-11-22"}).until.isoformat() == "2026-11-22"
