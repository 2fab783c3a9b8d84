"""The fault suite at a small size (CI): kills, a broker and a PostgreSQL outage, a rebalance
and fuzzed input, each with every alert counted. `python benchmarks/faults.py` runs it at
full size (20 kills, 6,000 events, 10,000 fuzzed inputs)."""
import os

import pytest

from services.config import Settings
from tests.faults import harness

pytestmark = [pytest.mark.faults, pytest.mark.timeout(1800)]
POSTGRES = os.environ.get("RADAR_TEST_POSTGRES_URL")
RECOVERY_LIMIT_S = 15.0


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not POSTGRES:
        pytest.skip("the fault suite runs on PostgreSQL: set RADAR_TEST_POSTGRES_URL (CI does)")
    with harness.FaultLab(tmp_path_factory.mktemp("faults"), POSTGRES, Settings.from_env().kafka_home) as lab:
        yield lab


def check(outcome: harness.Outcome) -> None:
    print("\n" + harness.HEADER + "\n" + outcome.row())
    assert outcome.lost == 0, outcome.row()
    assert outcome.duplicated_pairs == 0 and outcome.duplicated_alert_ids == 0, outcome.row()
    assert outcome.dead_lettered == outcome.bad_inputs, outcome.row()
    assert outcome.stalls == 0 and outcome.agent_crashes == 0, outcome.row()
    assert outcome.delivered == outcome.expected > 0, outcome.row()
    assert all(seconds < RECOVERY_LIMIT_S for seconds in outcome.recoveries_s), outcome.row()


def test_worker_kills(lab):
    check(harness.worker_kills(lab, kills=3, events=1000))


def test_broker_kill_and_restart(lab):
    check(harness.broker_kill(lab, events=400))


def test_postgres_stop_and_start(lab):
    outcome = harness.postgres_stop(lab, events=400)
    if outcome.notes and outcome.notes[0].startswith("skipped"):
        pytest.skip(outcome.notes[0])
    check(outcome)


def test_rebalance_with_a_kill(lab):
    check(harness.rebalance_kill(lab, events=600))


def test_fuzz(lab):
    check(harness.fuzz(lab, bad=1000, good=300))
