"""Which failures are worth retrying, and how to speak of a failure without personal data.

A database error is transient when retrying can fix it: the connection was lost, a lock
or statement timed out, a deadlock was broken, the pool was exhausted. Everything else
(a value that does not fit, a constraint, a bug) fails the same way every time, so the
record that causes it is isolated and dead-lettered instead of retried forever.

Exception messages can carry the values that caused them (SQLAlchemy prints statement
parameters; a KeyError prints its key), so what goes into logs and dead-letter reasons is
the kind of failure and where it happened, never the message text of an arbitrary error.
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc

_TRANSIENT_DB = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
_PROJECT_ROOT = Path(__file__).resolve().parents[1]


def is_transient(error: BaseException) -> bool:
    if isinstance(error, _TRANSIENT_DB):
        return True
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


def failure_reason(error: BaseException) -> str:
    """One line for a dead letter: what refused the record, never the record's values."""
    if isinstance(error, sa_exc.DBAPIError):
        # The driver's first line names the rule ("value too long for type character
        # varying(40)"); the statement and its parameters follow on later lines.
        first_line = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
        return f"the database refused it: {first_line[:200]}"
    return f"processing failed: {type(error).__name__} at {where(error)} (a defect; see the worker log)"


def where(error: BaseException) -> str:
    """The innermost frame of the project's own code: "services/pipeline.py:212"."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if _is_ours(f.filename)] or frames
    if not ours:
        return "unknown place"
    frame = ours[-1]
    return f"{_relative(frame.filename)}:{frame.lineno}"


def log_fields(error: BaseException) -> dict[str, Any]:
    """What a log line may say of an error: its type, where, and the stack of frames
    (file, line, function), without the message text."""
    frames = traceback.extract_tb(error.__traceback__)
    return {
        "error": type(error).__name__,
        "where": where(error),
        "frames": [f"{_relative(f.filename)}:{f.lineno} {f.name}" for f in frames[-12:]],
    }


def _is_ours(filename: str) -> bool:
    try:
        Path(filename).resolve().relative_to(_PROJECT_ROOT)
    except ValueError:
        return False
    return ".venv" not in filename and "site-packages" not in filename


def _relative(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(_PROJECT_ROOT))
    except ValueError:
        return Path(filename).name
