"""The seniority ladder, read from job titles.

Two tracks share one scale so that a move between them compares sensibly:
individual contributors (intern .. distinguished) and management (lead .. C-level).
A title with no seniority word is `mid`.
"""
from __future__ import annotations

import re
from typing import Optional

# level -> rank on the shared scale
LADDER: dict[str, float] = {
    "intern": 0, "junior": 1, "mid": 2, "senior": 3, "lead": 3.5, "staff": 4,
    "manager": 4, "principal": 5, "senior manager": 5, "head of": 5.5,
    "distinguished": 6, "director": 6, "vp": 7, "c-level": 8,
}

# First matching pattern wins, so the more specific phrases come first.
_TITLE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (level, re.compile(pattern, re.IGNORECASE)) for level, pattern in [
        ("c-level", r"\b(chief \w+ officer|c[etfoi]o|cxo|founder|co-founder|president)\b"),
        ("vp", r"\b(svp|evp|vp|vice[- ]president)\b"),
        ("director", r"\b(director)\b"),
        ("head of", r"\bhead of\b"),
        ("senior manager", r"\b(senior|sr\.?) (engineering |product |\w+ )?manager\b"),
        ("manager", r"\b(manager|mgr)\b"),
        ("distinguished", r"\b(distinguished|fellow)\b"),
        ("principal", r"\bprincipal\b"),
        ("staff", r"\bstaff\b"),
        ("lead", r"\b(lead|tech lead|team lead)\b"),
        ("senior", r"\b(senior|sr\.?|snr)\b|\b(iii|iv)\b"),
        ("intern", r"\b(intern|internship|trainee|working student)\b"),
        ("junior", r"\b(junior|jr\.?|graduate|entry[- ]level|associate)\b|\bi\b$"),
        ("mid", r"\b(mid[- ]level|intermediate|ii)\b"),
    ]
]

_ALIASES = {
    "mid-level": "mid", "medior": "mid", "sr": "senior", "jr": "junior", "head": "head of",
    "vice president": "vp", "c level": "c-level", "executive": "c-level", "cxo": "c-level",
    "senior-manager": "senior manager",
}


def seniority_of_title(title: Optional[str]) -> Optional[str]:
    """The ladder level a title names; `mid` when it names none; None when no title."""
    if not title or not title.strip():
        return None
    for level, pattern in _TITLE_PATTERNS:
        if pattern.search(title):
            return level
    return "mid"


def normalize_level(raw: str) -> str:
    """A role spec's seniority word as a ladder level ("Senior" -> "senior", "VP" -> "vp")."""
    word = " ".join(raw.lower().replace("_", " ").split())
    word = _ALIASES.get(word, word)
    return word if word in LADDER else seniority_of_title(raw) or word


def rank(level: Optional[str]) -> Optional[float]:
    return LADDER.get(level) if level else None
