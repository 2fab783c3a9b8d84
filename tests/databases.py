"""A fresh, migrated database of either kind, for the fixtures that need one (per test in
tests/conftest.py, per module in test_schemathesis.py)."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from services.adapters.store.db import upgrade

POSTGRES_ADMIN_URL = os.environ.get("RADAR_TEST_POSTGRES_URL")


@contextmanager
def migrated_database(kind: str, folder: Path) -> Iterator[str]:
    """SQLite in `folder`, or a PostgreSQL database of its own (dropped afterwards; the test
    is skipped when RADAR_TEST_POSTGRES_URL is not set)."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'radar.db'}"
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
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
