"""Engine, sessions and migrations."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.logs import get_logger

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x7261646172  # "radar": the advisory lock migrations take on PostgreSQL
log = get_logger("radar.db")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str) -> Engine:
    """Statement parameters are hidden from error messages: they hold candidate data."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)
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
