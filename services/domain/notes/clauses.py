"""Sentences and clauses: the units a cue is confined to.

The note is split into sentences (. ! ? ; newlines, inline " - " bullets), then clauses (before
but / however / though / although / whereas / while / otherwise / yet). Each cue pattern is run
over the whole note once and its matches are grouped by the clause that holds them whole.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict

LOOK_BEHIND = 120  # chars searched before a phrase for its lead-in: keeps long notes linear


def rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.VERBOSE)


SENTENCE_END = rx(r"[.!?;]+(?=\s|$) | \n+ | \s[-–—•*]\s(?=(?-i:[A-Z]))")
BREAK_WORDS = r"(?:but|however|though|although|whereas|while|otherwise)\b"
CLAUSE_BREAK = rx(rf",?\s+(?={BREAK_WORDS}) | ,\s*(?=(?:and\s+)?yet\b)")


def split(text: str, separators: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans of `text` between the (sorted) separator spans."""
    out, pos = [], 0
    for a, b in separators:
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < len(text):
        out.append((pos, len(text)))
    return out


def by_clause(pattern: re.Pattern[str], text: str, clauses: list[tuple[int, int]],
              clause_starts: list[int]) -> dict[int, list[re.Match[str]]]:
    """Matches of one pattern over the whole note, grouped by the clause that holds each whole."""
    out: dict[int, list[re.Match[str]]] = defaultdict(list)
    for m in pattern.finditer(text):
        k = bisect_right(clause_starts, m.start()) - 1
        if k >= 0 and m.end() <= clauses[k][1]:
            out[k].append(m)
    return out
