"""Charts drawn on the server as SVG numbers (no script, no inline style)."""
from __future__ import annotations

from typing import Any

FUNNEL_STEPS = ("alerts", "reviewed", "contacted", "replied", "handed_off", "interviewing", "hired")
BAR_WIDTH = 300


def funnel_bars(numbers: dict[str, Any]) -> list[dict[str, Any]]:
    """One bar per step of the funnel, as wide as its share of the alerts."""
    top = max(numbers.get("alerts") or 0, 1)
    return [{"label": step.replace("_", " "), "count": numbers.get(step) or 0,
             "width": round(BAR_WIDTH * (numbers.get(step) or 0) / top), "y": index * 28}
            for index, step in enumerate(FUNNEL_STEPS)]
