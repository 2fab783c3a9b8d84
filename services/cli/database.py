"""The database a command reads or changes: the services' own (RADAR_DATABASE_URL, or
radar.db in the current folder). A command never creates one: run from another folder it
says which database it looked for, instead of answering from a new empty file."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from services.adapters.store.db import make_engine, make_session_factory
from services.config import Settings

if TYPE_CHECKING:
    from services.domain.access import Principal


class NoDatabase(ValueError):
    """The command has no database to work with; the message says which one and why."""


def sessions_for(settings: Settings) -> sessionmaker[Session]:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            raise NoDatabase(f"no database at {url.database} ({_where()}); run the command where `radar up` runs, "
                             "or set RADAR_DATABASE_URL to the services' database")
    engine = make_engine(settings.database_url)
    try:
        has_schema = inspect(engine).has_table("alembic_version")
    except Exception as exc:  # not reachable: say so in one line
        raise NoDatabase(f"the database at {url.render_as_string(hide_password=True)} does not answer "
                         f"({type(exc).__name__})") from None
    if not has_schema:
        raise NoDatabase(f"the database at {url.render_as_string(hide_password=True)} has no Talent Radar tables "
                         "yet: `radar db upgrade` (or `radar up`) makes them")
    return make_session_factory(engine)


def _where() -> str:
    import os

    if os.environ.get("RADAR_DATABASE_URL"):
        return "from RADAR_DATABASE_URL"
    return "RADAR_DATABASE_URL is not set, so radar.db in the current folder"


def operator() -> "Principal":
    """Who runs a command, as the audit log names them: `cli:<login>` (an operator with the
    database's credentials acts as an admin)."""
    import getpass

    from services.domain.access import Principal

    try:
        login = getpass.getuser()
    except Exception:  # a container without a passwd entry
        login = "unknown"
    return Principal(f"cli:{login}", "admin", "cli")


def audited(sessions: sessionmaker[Session], action: str, target: str, detail: Optional[dict] = None) -> None:
    """Record a change made from the command line in the audit log, as the API does."""
    from services.app.access import record

    record(sessions, operator(), action, target, detail)
