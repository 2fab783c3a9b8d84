"""Score services.domain.notes.extract_note against the hand-labelled golden set.

    python benchmarks/note_extraction_eval.py

Skills and rejected skills are scored as (entry, key) pairs, a key counting once per entry.
Follow-up dates: an entry that names a date scores a hit when the extraction resolves exactly
that date; a date the extraction gives on an entry that names none is a false positive.
Prints note text (the golden set is synthetic): keep this script out of production logs.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.domain.notes import extract_note  # noqa: E402

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "unit" / "golden_notes.json"


def load() -> list[dict]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def score(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(golden: list[dict]) -> dict[str, dict]:
    """Per field: tp/fp/fn counts and the (entry index, text, what) of each miss and false positive."""
    results = {name: {"tp": 0, "fp": 0, "fn": 0, "misses": [], "false_positives": []}
               for name in ("skills", "rejected", "readiness", "follow_up_on")}
    for i, entry in enumerate(golden):
        got = extract_note(entry["text"], datetime.fromisoformat(entry["occurred_at"]))
        predicted = {
            "skills": {s.key for s in got.skills},
            "rejected": {r.key for r in got.rejected},
            "readiness": {c.kind for c in got.readiness},
            "follow_up_on": {got.follow_up_on.isoformat()} if got.follow_up_on else set(),
        }
        expected = {name: set(entry[name]) for name in ("skills", "rejected", "readiness")}
        expected["follow_up_on"] = {entry["follow_up_on"]} if entry["follow_up_on"] else set()
        for name, result in results.items():
            exp, pred = expected[name], predicted[name]
            result["tp"] += len(exp & pred)
            result["fp"] += len(pred - exp)
            result["fn"] += len(exp - pred)
            result["misses"] += [(i, entry["text"], key) for key in sorted(exp - pred)]
            result["false_positives"] += [(i, entry["text"], key) for key in sorted(pred - exp)]
    return results


def main() -> int:
    golden = load()
    results = evaluate(golden)
    print(f"golden set: {len(golden)} entries ({GOLDEN.name})\n")
    print(f"{'field':<14}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}{'f1':>7}")
    for name, r in results.items():
        p, rec, f1 = score(r["tp"], r["fp"], r["fn"])
        print(f"{name:<14}{r['tp']:>5}{r['fp']:>5}{r['fn']:>5}{p:>11.3f}{rec:>8.3f}{f1:>7.3f}")
    for name, r in results.items():
        for label, items in (("missed", r["misses"]), ("false positive", r["false_positives"])):
            for i, text, key in items:
                print(f"\n[{name}] {label}: {key!r} in #{i}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
