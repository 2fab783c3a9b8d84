"""Fixtures: databases (SQLite always; PostgreSQL when RADAR_TEST_POSTGRES_URL is set) and,
for integration tests, one real Kafka broker per test session on free ports."""
from __future__ import annotations

import shutil

import pytest

from services.adapters.store.db import make_engine, make_session_factory
from tests.databases import migrated_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, migrated database of each kind."""
    with migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def kafka_bootstrap():
    """One real single-node KRaft broker for the whole session, on free ports."""
    from services.adapters.kafka.local_broker import LocalKafka, free_port
    from services.config import Settings

    broker = LocalKafka(Settings.from_env().kafka_home, port=free_port())
    broker.up()
    yield broker.bootstrap
    broker.down()
    shutil.rmtree(broker.dir, ignore_errors=True)
