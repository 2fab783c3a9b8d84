"""Interview-note extraction: skills said positively, skills negated or hedged, readiness cues.

Explainable by construction: each item carries the span of the note it came from
(`text[start:end] == surface`), and each rule is one of the small regexes of this package. Pure
and deterministic: the note's date is the only reference for relative dates.

- extract.py   `extract_note`, the entry point that ties the rules together
- model.py     the results: NoteExtraction, SkillEvidence, RejectedSkill, ReadinessCue
- clauses.py   sentences and clauses, the units a cue is confined to
- negation.py  skills said positively vs negated or hedged (the rules are explained there)
- interest.py  interest cues: "open to offers" vs "happy where she is"
- timing.py    follow-up dates ("check back in 6 months", "not before Q3") resolved against the note's date
"""
from services.domain.notes.extract import extract_note
from services.domain.notes.model import NoteExtraction, ReadinessCue, RejectedSkill, SkillEvidence

__all__ = ["extract_note", "NoteExtraction", "SkillEvidence", "RejectedSkill", "ReadinessCue"]
