"""Bounds of every inbound field, declared once.

The wire models (`schemas.events`) validate against these numbers and the store's columns
(`services.adapters.store.models`) are sized from the same names, so that a value that passes
validation always fits its column, on SQLite (which enforces nothing) and on PostgreSQL
(which refuses what does not fit). A test checks every pair.

Besides lengths, every string of an inbound message must be storable text: no NUL
(PostgreSQL cannot store it in text or JSON) and no lone UTF-16 surrogate (it is not
Unicode text and cannot be encoded as UTF-8); and a message may not nest deeper than
MAX_DEPTH levels. `storable_problem` finds the first such problem, with its path.
"""
from __future__ import annotations

from typing import Any, Optional

# -- identifiers ------------------------------------------------------------------------
ID_MAX = 200                 # event_id, candidate_id, role_id

# -- profile-events ---------------------------------------------------------------------
SOURCE_MAX = 64
NAME_MAX = 200
HEADLINE_MAX = 500
LOCATION_MAX = 120
COMPANY_MAX = 200
TITLE_MAX = 200
INDUSTRY_MAX = 100
SKILL_MAX = 100              # one skill as a producer writes it
SKILL_KEY_MAX = 120          # a skill after normalisation (NFKC can lengthen text)
SKILLS_MAX_ITEMS = 500
POSITIONS_MAX_ITEMS = 100
DIRECT_REPORTS_MAX = 1_000_000

# -- interview-notes --------------------------------------------------------------------
AUTHOR_MAX = 200
NOTE_TEXT_MAX = 50_000

# -- role-specs -------------------------------------------------------------------------
ROLE_TITLE_MAX = 200
OWNER_MAX = 200
ROLE_TERM_MAX = 120          # one must-have, location, domain, seniority or company
ROLE_LIST_MAX_ITEMS = 100
DESCRIPTION_MAX = 20_000

# -- lead-events ------------------------------------------------------------------------
ACTOR_MAX = 200              # who made a change (an e-mail address, a name, a key's name)
ASSIGNEE_MAX = 200
LEAD_NOTE_MAX = 2_000

# -- internal (radar-timers) ------------------------------------------------------------
TIMER_DETAIL_MAX_KEYS = 20
TIMER_TEXT_MAX = 300

# -- derived columns --------------------------------------------------------------------
ORIGIN_MAX = len("profile:") + SOURCE_MAX   # candidate_skills.origin: "profile:<source>" or "note"
EVIDENCE_MAX = 300

# -- the shape of a message -------------------------------------------------------------
MAX_DEPTH = 16               # nested objects and lists; a position is 4 levels deep


def storable_problem(data: Any, max_depth: int = MAX_DEPTH) -> Optional[str]:
    """The first reason `data` (parsed JSON) cannot be taken, as "path: problem", or None.

    Walks iteratively, so no input can exhaust the interpreter's stack. Never repeats the
    offending value: dead-letter reasons end up in logs, which must not carry personal data.
    A node's path is kept as (parent's path, key) and spelled out only for a problem.
    """
    stack: list[tuple[Any, Optional[tuple], int]] = [(data, None, 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return f"{_spelled(path)}: {problem}"
            continue
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        if depth > max_depth:
            return f"{_spelled(path)}: nested deeper than {max_depth} levels"
        children = []
        for key, child in items:
            if isinstance(key, str) and (problem := _text_problem(key)):
                return f"{_spelled(path)}: a field name {problem}"
            if isinstance(child, (str, dict, list)):
                children.append((child, (path, key), depth + 1))
        stack.extend(reversed(children))
    return None


def _spelled(path: Optional[tuple]) -> str:
    """(((None, "profile"), "positions"), 0) -> "profile.positions.0"; the root is "(message)"."""
    keys = []
    while path is not None:
        path, key = path
        keys.append(str(key))
    return ".".join(reversed(keys)) or "(message)"


def _text_problem(text: str) -> Optional[str]:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # only a lone surrogate cannot be encoded
            return "contains a lone UTF-16 surrogate, which is not Unicode text"
    return None
