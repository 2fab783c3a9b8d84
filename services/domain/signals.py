"""A signal as the detectors and note extraction find it: its type and what it is about."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DetectedSignal:
    type: str
    detail: dict[str, Any]
