"""Builders of wire messages shared by the tests."""
from __future__ import annotations

import itertools
import json
from typing import Any, Optional

from services.adapters.kafka.records import RawRecord
from services.config import TOPICS

_offsets = itertools.count()


def profile_event(event_id: str, candidate_id: str, occurred_at: str = "2026-11-20T10:00:00Z",
                  source: str = "linkedin", **profile: Any) -> dict[str, Any]:
    return {"event_id": event_id, "candidate_id": candidate_id, "source": source, "occurred_at": occurred_at,
            "profile": profile}


def position(title: str, company: str, start: str = "2023-01", industry: str = "fintech",
             reports: Optional[int] = None, end: Optional[str] = None) -> dict[str, Any]:
    return {"title": title, "company": company, "industry": industry, "start": start, "end": end,
            "direct_reports": reports}


def role_spec(role_id: str, **fields: Any) -> dict[str, Any]:
    spec = {"event_id": f"{role_id}-v{next(_offsets)}", "role_id": role_id, "status": "open",
            "title": "Senior Data Engineer", "must_have": ["Python", "Kafka"], "nice_to_have": ["Flink"]}
    spec.update(fields)
    return spec


def note(event_id: str, candidate_id: str, text: str, occurred_at: str = "2026-11-21T15:30:00Z",
         kind: str = "interview") -> dict[str, Any]:
    return {"event_id": event_id, "candidate_id": candidate_id, "kind": kind, "occurred_at": occurred_at,
            "text": text, "author": "lead@example.com"}


def raw(topic: str, value: Any, key: Optional[str] = None) -> RawRecord:
    """A record as the worker would see it (logical topic name, fake position)."""
    payload = value if isinstance(value, (bytes, type(None))) else json.dumps(value).encode()
    return RawRecord(topic=TOPICS.physical(topic), partition=0, offset=next(_offsets),
                     key=key.encode() if key else None, value=payload)


def bearer(database_url: str, role: str = "admin", name: Optional[str] = None) -> dict[str, str]:
    """An Authorization header with a fresh API key of `role` in that database."""
    import uuid

    from services.adapters.store.db import make_engine, make_session_factory
    from services.app.access import create_key

    engine = make_engine(database_url)
    try:
        key = create_key(make_session_factory(engine), name or f"test-{role}-{uuid.uuid4().hex[:8]}", role)
    finally:
        engine.dispose()
    return {"Authorization": f"Bearer {key}"}
