"""`radar rescore` on plain data: after a new release reads skills or places differently, a
rescore request alerts exactly the pairs whose outcome changed, and a second one sends nothing."""
from typing import Optional

import pytest

from schemas import TimerEvent
from services.cli.main import main
from services.cli.rescore import request
from services.domain import places, taxonomy
from tests.helpers import position, role_spec
from tests.unit.test_handlers import NOW, InMemoryRadar, changes


class Radar(InMemoryRadar):
    """The in-memory radar, plus the candidate_skills rows the writer would keep."""

    def __init__(self):
        super().__init__()
        self.skill_rows: dict[str, dict[str, str]] = {}  # candidate -> skill -> evidence

    def event(self, model, data):
        effects = super().event(model, data)
        rows = self.skill_rows.setdefault(data["candidate_id"], {})
        for key in effects.skills_dropped:
            del rows[key]
        for skill in effects.skills:
            assert skill.skill not in rows, f"{skill.skill} inserted twice"
            rows[skill.skill] = skill.evidence
        return effects

    def rescore(self, run: str, candidate_ids=None) -> list:
        return [self.event(TimerEvent, request(run, cid, NOW)) for cid in candidate_ids or sorted(self.contexts)]


@pytest.fixture
def release():
    """A new release of the rules: skill aliases added or removed (None), city aliases added."""
    index, cities = taxonomy._INDEX, places._CITY_ALIASES

    def apply(aliases: Optional[dict] = None, city_aliases: Optional[dict] = None):
        changed = dict(index)
        for surface, key in (aliases or {}).items():
            for form in taxonomy._forms(taxonomy._light(surface)):
                if key is None:
                    changed.pop(form, None)
                else:
                    changed[form] = key
        taxonomy._INDEX = changed
        places._CITY_ALIASES = {**cities, **(city_aliases or {})}
        taxonomy.normalize_skill.cache_clear()
        places.place_parts.cache_clear()

    yield apply
    taxonomy._INDEX, places._CITY_ALIASES = index, cities
    taxonomy.normalize_skill.cache_clear()
    places.place_parts.cache_clear()


def candidate(radar, candidate_id, skills, location="Berlin, Germany", event_id=None):
    return radar.profile(event_id or f"p-{candidate_id}", candidate_id, "2026-11-20T10:00:00Z", skills=list(skills),
                         location=location, positions=[position("Senior Data Engineer", "Northwind")])


def four_candidates() -> Radar:
    radar = Radar()
    radar.role("r-k", role_spec("r-k", must_have=["Kafka"], nice_to_have=[]))
    radar.role("r-p", role_spec("r-p", must_have=["PostgreSQL"], nice_to_have=[]))
    candidate(radar, "c-1", ["Python", "Redpanda"])       # Redpanda: an unknown skill today
    candidate(radar, "c-2", ["Postgres"])                 # an alias of PostgreSQL today
    candidate(radar, "c-3", ["Kafka"])
    radar.note("n-4", "c-4", "Strong in PostgreSQL.", occurred_at="2026-11-19T10:00:00Z")
    candidate(radar, "c-4", ["Postgres"])                 # PostgreSQL from a note first
    assert sorted((m["role_id"], m["candidate_id"]) for m in radar.of_type("match.alert")) == [
        ("r-k", "c-3"), ("r-p", "c-2"), ("r-p", "c-4")]
    radar.messages.clear()
    return radar


def test_a_rescore_alerts_exactly_the_pairs_a_new_release_changes_and_a_second_one_nothing(release):
    radar = four_candidates()
    release({"redpanda": "kafka", "postgres": None})  # Redpanda now counts as Kafka; "Postgres" no longer
    first = radar.rescore("run-1")

    [alert] = radar.of_type("match.alert")
    assert (alert["role_id"], alert["candidate_id"]) == ("r-k", "c-1")
    assert alert["triggered_by"] == "rescore-run-1-c-1" and alert["signals"] == []
    assert changes(alert) == ["re-evaluated after a rules update (rescore run-1)",
                              "skills read again: + Kafka − redpanda", "until this event: missing must-have Kafka"]
    [withdrawn] = radar.of_type("match.withdrawn")
    assert (withdrawn["role_id"], withdrawn["candidate_id"]) == ("r-p", "c-2")
    assert changes(withdrawn) == ["re-evaluated after a rules update (rescore run-1)",
                                  "skills read again: + postgres − PostgreSQL", "missing must-have PostgreSQL"]
    assert len(radar.messages) == 2  # no signal: nothing about anyone is new; c-3 and c-4 send nothing
    assert all(effects.signals == [] for effects in first)

    # What the writer stores follows the context: renamed rows keep their evidence.
    for cid, context in radar.contexts.items():
        assert set(radar.skill_rows[cid]) == set(context.skills), cid
    assert radar.contexts["c-1"].skills["kafka"].evidence == "linkedin profile p-c-1 (2026-11-20)"
    assert radar.contexts["c-1"].view["skills"] == ["python", "kafka"]
    assert "postgresql" in radar.contexts["c-4"].skills  # what a note said stays
    assert radar.contexts["c-4"].pairs["r-p"].relevant
    assert [e.candidate_changed for e in first] == [True, True, False, True]  # c-3 reads the same

    again = radar.rescore("run-2")
    assert len(radar.messages) == 2
    assert all(e.pairs == [] and e.skills == [] and e.skills_dropped == () for e in again)


def test_without_a_rules_change_a_rescore_sends_and_changes_nothing():
    radar = four_candidates()
    before = dict(radar.contexts)
    done = radar.rescore("run-1")
    assert radar.messages == []
    assert all(not e.candidate_changed and e.pairs == [] and e.skills == [] and e.skills_dropped == () for e in done)
    assert all(radar.contexts[cid].view == before[cid].view for cid in before)
    assert done[0].places == ("berlin", "germany")  # the places index is written as this release reads it


def test_a_place_rule_brings_a_candidate_into_a_role_with_the_reason(release):
    radar = Radar()
    radar.role("r-b", role_spec("r-b", must_have=["Python"], nice_to_have=[], locations=["Berlin"]))
    candidate(radar, "c-5", ["Python"], location="Berlin-Mitte")
    assert radar.messages == []
    release(city_aliases={"berlin mitte": "berlin"})
    [effects] = radar.rescore("run-1")
    [alert] = radar.of_type("match.alert")
    assert changes(alert)[:2] == ["re-evaluated after a rules update (rescore run-1)",
                                  "location read again: berlin mitte → berlin"]
    assert effects.places == ("berlin", "germany") and radar.contexts["c-5"].view["city"] == "berlin"
    radar.rescore("run-2")
    assert len(radar.messages) == 1


def test_a_candidate_the_store_does_not_hold_is_left_alone():
    radar = Radar()
    [effects] = radar.rescore("run-1", ["c-gone"])
    assert not effects.candidate_changed and effects.messages == [] and not radar.contexts["c-gone"].stored


def test_a_request_id_stays_in_bounds_and_is_stable():
    long_id = "c" * 200
    first, second = request("run-1", long_id, NOW), request("run-1", long_id, NOW)
    assert len(first["event_id"]) <= 200 and first["event_id"] == second["event_id"]
    assert TimerEvent.model_validate(first).kind == "rescore"
    assert request("run-1", "c-1", NOW, "r-7")["detail"] == {"run": "run-1", "role_id": "r-7"}


@pytest.mark.parametrize("argv,says", [
    (["rescore", "--run-id", "no spaces"], "--run-id: 1-40 letters, digits"),
    (["rescore", "--timeout", "0"], "--timeout must be a positive number"),
])
def test_bad_input_is_one_clear_line(argv, says, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("RADAR_DATABASE_URL", f"sqlite:///{tmp_path / 'radar.db'}")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("radar: error: ") and says in err and len(err.splitlines()) == 1
