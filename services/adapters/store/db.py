"""Engine, sessions and migrations."""
from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.json_codec import dumps_text, loads
from services.logs import get_logger

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x7261646172  # "radar": the advisory lock migrations take on PostgreSQL
log = get_logger("radar.db")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str, checkpoint_apart: bool = False) -> Engine:
    """Statement parameters are hidden from error messages: they hold candidate data.

    `checkpoint_apart` (SQLite, the worker): commits never checkpoint the write-ahead log
    themselves; a thread of its own does, every few tenths of a second (WalCheckpointer)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True,
                               json_serializer=dumps_text, json_deserializer=loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        if checkpoint_apart and engine.url.database not in (None, "", ":memory:"):
            event.listen(engine, "connect", _no_checkpoint_on_commit)
            WalCheckpointer(engine.url.database).start()
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True,
                           json_serializer=dumps_text, json_deserializer=loads)
    event.listen(engine, "connect", _postgres_quiet_errors)
    return engine


def _postgres_quiet_errors(dbapi_connection, _record) -> None:
    """Ask PostgreSQL not to copy a failed statement (with its values) into its server log.
    Only a superuser may; for anyone else it is a server setting (README, Known limits)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET log_min_error_statement = 'panic'")
        dbapi_connection.commit()
    except Exception:
        dbapi_connection.rollback()
    finally:
        cursor.close()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the API read while the worker writes; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _no_checkpoint_on_commit(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class WalCheckpointer(threading.Thread):
    """Copies the write-ahead log into the database file (a PASSIVE checkpoint: it never blocks
    a reader or the writer), on its own connection and thread. SQLite releases the GIL while
    it works, so the copy and its fsync run beside the worker's batches instead of inside
    whichever commit crossed the log's size limit (a sixth of the database thread's time)."""

    def __init__(self, path: str, every_s: float = 0.25):
        super().__init__(name="radar-wal-checkpoint", daemon=True)
        self.path, self.every_s = path, every_s

    def run(self) -> None:
        connection = None
        while True:
            time.sleep(self.every_s)
            try:
                connection = connection or sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # busy or gone for a moment: the next round tries again
                log.debug("wal_checkpoint_failed", error=type(exc).__name__)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. On PostgreSQL under an advisory lock, so services that
    start together migrate one after the other (the later ones find nothing to do)."""
    from alembic import command

    config = alembic_config(url)
    if not url.startswith("postgresql"):
        command.upgrade(config, revision)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                command.upgrade(config, revision)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()


def schema_is_current(url: str) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() == head
    finally:
        engine.dispose()


def prepare_schema(settings, poll_s: float = 2.0) -> None:
    """At a service's start: migrate (RADAR_MIGRATE=auto), or wait until the migration Job has
    (RADAR_MIGRATE=wait), saying so every few seconds."""
    import time

    if settings.migrate == "auto":
        upgrade(settings.database_url)
        return
    waited = 0.0
    while True:
        try:
            if schema_is_current(settings.database_url):
                return
            problem = "the schema is not at the current revision yet"
        except Exception as exc:  # the database may not answer yet either
            problem = type(exc).__name__
        if waited % 10 < poll_s:
            log.info("waiting_for_schema", waited_s=round(waited), problem=problem)
        time.sleep(poll_s)
        waited += poll_s
