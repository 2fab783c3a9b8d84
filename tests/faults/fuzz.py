"""Adversarial inputs, invalid by construction, and good events, valid by construction.

Every bad input breaks one rule of the contract or of the bounds in a way no lenient
reading can accept, so the expected number of dead letters is exactly the number of bad
inputs; every good event makes one new candidate relevant to the fault role, so the
expected alerts are exactly the good events.
"""
from __future__ import annotations

import json
import random
from typing import Callable, Optional

from schemas import bounds as B

Record = tuple[str, Optional[bytes], Optional[bytes]]  # (logical topic, key, value)
ROLE_SKILL = "Python"


def good_profile(candidate_id: str, event_id: Optional[str] = None) -> dict:
    return {"event_id": event_id or f"g-{candidate_id}", "candidate_id": candidate_id, "source": "linkedin",
            "occurred_at": "2026-11-20T10:00:00Z",
            "profile": {"skills": [ROLE_SKILL], "location": "Berlin, Germany",
                        "positions": [{"title": "Engineer", "company": "Northwind", "start": "2024-01"}]}}


def good_record(candidate_id: str) -> Record:
    return "profile-events", candidate_id.encode(), json.dumps(good_profile(candidate_id)).encode()


def _note(cid: str, text: str = "Strong in Kafka.") -> dict:
    return {"event_id": f"n-{cid}", "candidate_id": cid, "kind": "screen", "occurred_at": "2026-11-21T10:00:00Z",
            "text": text}


def _profile_with(cid: str, **profile) -> bytes:
    event = good_profile(cid, f"b-{cid}")
    event["profile"].update(profile)
    return json.dumps(event).encode()


def _nested(depth: int) -> bytes:
    return b'{"event_id": "x", "deep": ' + b"[" * depth + b"]" * depth + b"}"


# Each maker takes (rng, a fresh id) and returns one invalid record.
MAKERS: dict[str, Callable[[random.Random, str], Record]] = {
    "source too long": lambda r, c: ("profile-events", c.encode(), json.dumps(
        dict(good_profile(c, f"b-{c}"), source="s" * r.randint(B.SOURCE_MAX + 1, 300))).encode()),
    "company too long": lambda r, c: ("profile-events", c.encode(), _profile_with(
        c, positions=[{"title": "Engineer", "company": "c" * r.randint(B.COMPANY_MAX + 1, 5000)}])),
    "location too long": lambda r, c: ("profile-events", c.encode(), _profile_with(
        c, location="l" * r.randint(B.LOCATION_MAX + 1, 5000))),
    "skill too long": lambda r, c: ("profile-events", c.encode(), _profile_with(c, skills=["k" * (B.SKILL_MAX + 1)])),
    "too many skills": lambda r, c: ("profile-events", c.encode(), _profile_with(
        c, skills=["Go"] * (B.SKILLS_MAX_ITEMS + 1))),
    "candidate_id too long": lambda r, c: ("profile-events", None, json.dumps(
        good_profile("c" * r.randint(B.ID_MAX + 1, 2000))).encode()),
    "NUL in a name": lambda r, c: ("profile-events", c.encode(), _profile_with(c, name="Ada\x00Lovelace")),
    "NUL in a note": lambda r, c: ("interview-notes", c.encode(), json.dumps(_note(c, "Kafka\x00")).encode()),
    "lone surrogate id": lambda r, c: ("profile-events", None, json.dumps(good_profile(c + "\udfff")).encode()),
    "control character in id": lambda r, c: ("profile-events", None, json.dumps(good_profile(c[:2] + "\x07" + c[2:])).encode()),
    "note text too long": lambda r, c: ("interview-notes", c.encode(), json.dumps(
        _note(c, "word " * (B.NOTE_TEXT_MAX // 5 + 1))).encode()),
    "author too long": lambda r, c: ("interview-notes", c.encode(), json.dumps(
        dict(_note(c), author="a" * (B.AUTHOR_MAX + 1))).encode()),
    "deep nesting (parser)": lambda r, c: ("profile-events", None, b"[" * r.randint(5_000, 100_000)),
    "deep nesting (object)": lambda r, c: ("profile-events", None, _nested(r.randint(B.MAX_DEPTH + 1, 5_000))),
    "malformed JSON": lambda r, c: ("profile-events", c.encode(), json.dumps(good_profile(c))[: r.randint(1, 60)]
                                    .encode()),
    "not UTF-8": lambda r, c: ("profile-events", c.encode(), bytes(r.randrange(128, 256) for _ in range(40))),
    "not an object": lambda r, c: ("interview-notes", c.encode(), json.dumps([_note(c)]).encode()),
    "null value": lambda r, c: ("interview-notes", c.encode(), None),  # (a profile-events one is an erasure)
    "skills not a list": lambda r, c: ("profile-events", c.encode(), _profile_with(c, skills="Python")),
    "bad date": lambda r, c: ("profile-events", c.encode(), json.dumps(
        dict(good_profile(c, f"b-{c}"), occurred_at="yesterday")).encode()),
    "bad month": lambda r, c: ("profile-events", c.encode(), _profile_with(
        c, positions=[{"title": "Engineer", "company": "A", "start": "2024-13"}])),
    "negative years": lambda r, c: ("profile-events", c.encode(), _profile_with(c, years_experience=-3)),
    "unknown note kind": lambda r, c: ("interview-notes", c.encode(), json.dumps(dict(_note(c), kind="chat")).encode()),
    "empty id": lambda r, c: ("profile-events", c.encode(), json.dumps(dict(good_profile(c), event_id="")).encode()),
    "long key, bad value": lambda r, c: ("profile-events", b"k" * r.randint(201, 5000), b"{"),
    "huge escaped value": lambda r, c: ("profile-events", None, b'"' * r.randint(600_000, 900_000)),
}
RARE = {"huge escaped value": 0.01, "deep nesting (parser)": 0.02}  # big ones, kept few


def adversarial(rng: random.Random, count: int, id_prefix: str = "f") -> list[tuple[str, Record]]:
    """`count` bad records as (kind, record), kinds drawn evenly but for the heavy ones."""
    kinds = list(MAKERS)
    weights = [RARE.get(kind, 1.0) for kind in kinds]
    out = []
    for index in range(count):
        kind = rng.choices(kinds, weights)[0]
        out.append((kind, MAKERS[kind](rng, f"{id_prefix}-bad-{index}")))
    return out


def mixed(rng: random.Random, bad: int, good: int, id_prefix: str = "f") -> tuple[list[Record], list[str], list[str]]:
    """Bad and good records shuffled together; returns (records, good candidate ids, bad kinds)."""
    bad_records = adversarial(rng, bad, id_prefix)
    goods = [f"{id_prefix}-good-{i}" for i in range(good)]
    records = [record for _, record in bad_records] + [good_record(cid) for cid in goods]
    rng.shuffle(records)
    return records, goods, [kind for kind, _ in bad_records]
