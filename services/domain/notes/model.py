"""What an interview note yields: skills said, skills negated or hedged, readiness cues.

Each item carries the span of the note it came from: `text[start:end] == surface`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Optional


@dataclass(frozen=True)
class SkillEvidence:
    key: str
    surface: str
    start: int
    end: int


@dataclass(frozen=True)
class RejectedSkill:
    key: str
    surface: str
    start: int
    end: int
    cue: str


@dataclass(frozen=True)
class ReadinessCue:
    kind: str  # "interested" | "not_looking" | "timing"
    surface: str
    start: int
    end: int
    follow_up_on: Optional[date]


@dataclass(frozen=True)
class NoteExtraction:
    skills: tuple[SkillEvidence, ...]
    rejected: tuple[RejectedSkill, ...]
    readiness: tuple[ReadinessCue, ...]  # in text order

    @property
    def follow_up_on(self) -> Optional[date]:
        dates = [c.follow_up_on for c in self.readiness if c.follow_up_on]
        return min(dates) if dates else None

    def to_dict(self) -> dict[str, Any]:
        follow_up = self.follow_up_on
        return {
            "skills": [asdict(s) for s in self.skills],
            "rejected": [asdict(r) for r in self.rejected],
            "readiness": [{**asdict(c), "follow_up_on": c.follow_up_on and c.follow_up_on.isoformat()}
                          for c in self.readiness],
            "follow_up_on": follow_up and follow_up.isoformat(),
        }
