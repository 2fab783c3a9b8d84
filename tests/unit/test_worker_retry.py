"""A worker's agents never end on an error: a failing step is retried, with growing pauses,
until it succeeds, and the worker's heartbeat says meanwhile since when and what fails."""
import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from services.config import Settings
from streams import app as worker_module


@pytest.fixture
def worker(tmp_path, monkeypatch):
    monkeypatch.setattr(worker_module.asyncio, "sleep", _no_sleep)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'radar.db'}", kafka_home=tmp_path / "kafka")
    return worker_module.Worker(settings)


_real_sleep = asyncio.sleep
pauses: list[float] = []


async def _no_sleep(seconds):
    pauses.append(seconds)
    await _real_sleep(0)


def test_a_failing_step_is_retried_until_it_succeeds_and_the_heartbeat_tells(worker):
    pauses.clear()
    seen = []

    async def attempt():
        seen.append((worker.pulse.retrying_since, worker.pulse.last_error))
        if len(seen) <= 7:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return "stored"

    assert asyncio.run(worker.until_done("store", attempt)) == "stored"
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert seen[0] == (None, None)
    since, error = seen[-1]
    assert since is not None and error.startswith("store: OperationalError at ")
    assert worker.pulse.retrying_since is None and worker.pulse.last_error is None  # recovered


def test_any_exception_is_retried_not_raised(worker):
    calls = []

    async def attempt():
        calls.append(1)
        if len(calls) < 3:
            raise KeyError("a defect")
        return len(calls)

    assert asyncio.run(worker.until_done("route", attempt)) == 3
