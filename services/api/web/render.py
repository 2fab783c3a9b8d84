"""Templates: autoescaped Jinja2, with a few filters for times, scores and statuses."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from schemas.events import LEAD_STATUSES, NOT_A_FIT_REASONS
from services.domain.leads import transition_problem

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def when(value: Any) -> str:
    """A time as a person reads it: '2026-11-20 10:00 UTC'."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M UTC")


def percent(value: Optional[float]) -> int:
    return 0 if value is None else max(0, min(100, round(value * 100)))


def words(status: Optional[str]) -> str:
    return (status or "").replace("_", " ")


def highlight(text: Optional[str], extracted: Optional[dict]) -> Markup:
    """The note's words with what was learnt from them marked (skills, readiness cues), escaped."""
    text = text or ""
    spans = sorted((item["start"], item["end"], kind) for kind in ("skills", "readiness", "rejected")
                   for item in (extracted or {}).get(kind, []) if isinstance(item, dict) and "start" in item)
    parts, at = [], 0
    for start, end, kind in spans:
        if start < at or end > len(text):
            continue  # overlapping or out of range: left unmarked
        parts += [escape(text[at:start]), Markup(f'<mark class="{kind}">'), escape(text[start:end]), Markup("</mark>")]
        at = end
    parts.append(escape(text[at:]))
    return Markup("").join(parts)


def signal_words(item: dict[str, Any]) -> str:
    """A signal in a line: its type and what it says."""
    detail = item.get("detail") or {}
    if item.get("type") == "promotion":
        return f"promotion: {detail.get('from_title')} → {detail.get('to_title')} at {detail.get('company')}"
    if item.get("type") == "new_skill":
        return f"new skill: {detail.get('said') or detail.get('skill')}"
    said = ", ".join(f"{words(key)} {value}" for key, value in detail.items() if value not in (None, "", []))
    return f"{words(item.get('type'))}: {said}" if said else words(item.get("type"))


def dom_id(*parts: str) -> str:
    """An HTML id from ids that may hold anything: letters, digits, '-' and '_' kept, the rest '_'."""
    return "--".join(re.sub(r"[^A-Za-z0-9_-]", "_", str(part)) for part in parts)


def can_move(current: str, wanted: str) -> bool:
    """A lead in `current` may be moved to `wanted` (a button is offered)."""
    return wanted != current and transition_problem(current, wanted) is None


def number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_ENV.filters.update(when=when, percent=percent, words=words, highlight=highlight, signal_words=signal_words,
                    dom_id=dom_id, number=number)
_ENV.globals.update(can_move=can_move, dom_id=dom_id, one_day=timedelta(days=1))
_ENV.globals.update(statuses=LEAD_STATUSES, reasons=NOT_A_FIT_REASONS)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    who = getattr(request.state, "principal", None)
    context.setdefault("today", datetime.now(timezone.utc).date())
    html = _ENV.get_template(template).render(request=request, who=who, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def fragment(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)


# No script but ours, no framing, no sniffing: a page holds personal data.
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "Cache-Control": "no-store"}
