"""Fixtures: databases (SQLite always; PostgreSQL when RADAR_TEST_POSTGRES_URL is set) and,
for integration tests, one real Kafka broker per test session on free ports."""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

from services.adapters.store.db import make_engine, make_session_factory, upgrade

POSTGRES_ADMIN_URL = os.environ.get("RADAR_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'radar.db'}"
        upgrade(url)
        yield url
        return
    if not POSTGRES_ADMIN_URL:
        pytest.skip("PostgreSQL not configured: set RADAR_TEST_POSTGRES_URL (CI does)")
    name = f"radar_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
