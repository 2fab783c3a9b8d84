"""Charts drawn on the server as SVG numbers (no script, no inline style): each chart is a
list of shapes with their label, value and geometry, rendered by templates/chart_*.html."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional, Sequence

FUNNEL_STEPS = ("alerts", "reviewed", "contacted", "replied", "handed_off", "interviewing", "hired")
BAR_WIDTH = 150
ROW = 28
COLUMNS_HEIGHT = 120


def hbars(items: Sequence[tuple[str, float]], top: Optional[float] = None, unit: str = "") -> list[dict[str, Any]]:
    """Horizontal bars, one per (label, value), as wide as the value's share of `top` (default:
    the largest value)."""
    top = max([top or 0, *(value for _, value in items), 1e-9])
    return [{"label": label, "value": value, "text": f"{value:g}{unit}", "width": round(BAR_WIDTH * value / top),
             "y": index * ROW} for index, (label, value) in enumerate(items)]


def funnel_bars(numbers: dict[str, Any]) -> list[dict[str, Any]]:
    """One bar per step of the funnel, as wide as its share of the alerts."""
    return hbars([(step.replace("_", " "), numbers.get(step) or 0) for step in FUNNEL_STEPS],
                 top=numbers.get("alerts") or 0)


def response_bars(by_signal: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The response rate (replied of contacted) of leads by the signal that triggered their alert."""
    rates = [(signal.replace("_", " "), round(100 * numbers["response_rate"]))
             for signal, numbers in sorted(by_signal.items()) if numbers.get("response_rate") is not None]
    return hbars(rates, top=100, unit=" %")


def day_columns(per_day: Sequence[tuple[date, int]]) -> list[dict[str, Any]]:
    """Vertical columns, one a day, as tall as the day's share of the busiest day."""
    top = max([1, *(count for _, count in per_day)])
    width = 8
    return [{"label": day.isoformat(), "value": count, "x": index * (width + 2),
             "height": round(COLUMNS_HEIGHT * count / top), "y": COLUMNS_HEIGHT - round(COLUMNS_HEIGHT * count / top),
             "width": width, "tick": index in (0, len(per_day) - 1), "last": index == len(per_day) - 1}
            for index, (day, count) in enumerate(per_day)]
