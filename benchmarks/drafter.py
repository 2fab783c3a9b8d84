"""Score services.domain.drafter.draft_role against the hand-written job descriptions.

    python benchmarks/drafter.py

Must-haves, nice-to-haves, domains and excluded companies (case-insensitive) are scored as micro
precision/recall over (file, value) pairs;
seniority (as a set), min_years, locations (as a set of places, compared the way the matcher
compares them: ``places.fold``) and remote as the share of files drafted exactly right.
Also prints each file's misses and false positives, and the mean drafting time per description.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.domain import places  # noqa: E402
from services.domain.drafter import draft_role  # noqa: E402

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden" / "job_descriptions"
SKILL_FIELDS = ("must_have", "nice_to_have", "domains", "exclude_companies")
EXACT_FIELDS = ("seniority", "min_years", "locations", "remote")


def load() -> list[tuple[str, dict]]:
    return [(path.name, json.loads(path.read_text(encoding="utf-8"))) for path in sorted(GOLDEN.glob("*.json"))]


def comparable(field: str, value):
    if field == "seniority":
        return frozenset(value)
    if field == "locations":
        return frozenset(places.fold(place) for place in value)
    if field == "min_years":
        return None if value is None else float(value)
    return bool(value)


def evaluate(golden: list[tuple[str, dict]]) -> dict:
    """Counts per skill field, exact hits per other field, and per-file differences."""
    result = {"skills": {f: {"tp": 0, "fp": 0, "fn": 0} for f in SKILL_FIELDS},
              "exact": {f: 0 for f in EXACT_FIELDS}, "files": len(golden), "diffs": []}
    for name, entry in golden:
        got, want = draft_role(entry["text"]).spec_fields(), entry["expected"]
        diff = {}
        for field in SKILL_FIELDS:
            exp, pred = ({str(v).lower() for v in values} for values in (want.get(field, []), got.get(field, [])))
            counts = result["skills"][field]
            counts["tp"] += len(exp & pred)
            counts["fp"] += len(pred - exp)
            counts["fn"] += len(exp - pred)
            if exp != pred:
                diff[field] = {"missed": sorted(exp - pred), "false positives": sorted(pred - exp)}
        for field in EXACT_FIELDS:
            if comparable(field, got[field]) == comparable(field, want[field]):
                result["exact"][field] += 1
            else:
                diff[field] = {"expected": want[field], "drafted": got[field]}
        if diff:
            result["diffs"].append((name, diff))
    return result


def precision_recall(counts: dict) -> tuple[float, float]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def mean_time(golden: list[tuple[str, dict]], rounds: int = 20) -> float:
    texts = [entry["text"] for _, entry in golden]
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            draft_role(text)
    return (time.perf_counter() - start) / (rounds * len(texts))


def main() -> int:
    golden = load()
    result = evaluate(golden)
    print(f"golden set: {len(golden)} job descriptions ({GOLDEN.relative_to(GOLDEN.parents[2])})\n")
    print(f"{'field':<18}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}")
    for field, counts in result["skills"].items():
        p, r = precision_recall(counts)
        print(f"{field:<18}{counts['tp']:>5}{counts['fp']:>5}{counts['fn']:>5}{p:>11.3f}{r:>8.3f}")
    print()
    for field, hits in result["exact"].items():
        print(f"{field:<18} accuracy {hits / result['files']:.3f} ({hits}/{result['files']})")
    print(f"\nmean drafting time: {mean_time(golden) * 1e3:.2f} ms per description")
    for name, diff in result["diffs"]:
        print(f"\n{name}")
        for field, what in diff.items():
            print(f"  {field}: " + "; ".join(f"{k} {v}" for k, v in what.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
