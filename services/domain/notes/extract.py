"""The entry point: run every cue pattern over the note, then apply them clause by clause."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime

from services.domain.notes.clauses import CLAUSE_BREAK, SENTENCE_END, by_clause, split
from services.domain.notes.interest import INTERESTED, NOT_LOOKING, interest_cues
from services.domain.notes.model import NoteExtraction, ReadinessCue, RejectedSkill, SkillEvidence
from services.domain.notes.negation import POST_CUE, PRE_CUE, QUESTION_ANSWERED_NO, inherit_negation, negated_mentions
from services.domain.notes.timing import DURATION, PERIOD, VAGUE, timing_cues
from services.domain.taxonomy import find_skill_mentions


def extract_note(text: str, occurred_at: datetime) -> NoteExtraction:
    text = QUESTION_ANSWERED_NO.sub(":", text)  # "Kafka? no." reads as "Kafka: no." (same length)
    ref = occurred_at.date()
    mentions = find_skill_mentions(text)
    starts = [m.start for m in mentions]
    sentence_ends = [m.span() for m in SENTENCE_END.finditer(text)]
    sentences = split(text, sentence_ends)
    clauses = split(text, sorted(sentence_ends + [m.span() for m in CLAUSE_BREAK.finditer(text)]))
    sentence_starts = [s[0] for s in sentences]
    sentence_of = [bisect_right(sentence_starts, c_start) - 1 for c_start, _ in clauses]
    clause_starts = [c[0] for c in clauses]
    found = {name: by_clause(rx, text, clauses, clause_starts) for name, rx in (
        ("pre", PRE_CUE), ("post", POST_CUE), ("not_looking", NOT_LOOKING), ("interested", INTERESTED),
        ("period", PERIOD), ("duration", DURATION), ("vague", VAGUE))}

    negated: dict[int, str] = {}
    readiness: list[ReadinessCue] = []
    for k, (c_start, c_end) in enumerate(clauses):
        lo, hi = bisect_left(starts, c_start), bisect_left(starts, c_end)
        while hi > lo and mentions[hi - 1].end > c_end:  # a multi-word skill split by a line break
            hi -= 1
        if found["pre"].get(k) or found["post"].get(k):
            n = sentence_of[k]
            previous = sentences[n - 1][0] if n else 0
            antecedent = lo - 1 if lo and mentions[lo - 1].start >= previous else None
            negated.update(negated_mentions(text, mentions, lo, hi, c_end, antecedent,
                                            found["pre"][k], found["post"][k]))
        readiness += interest_cues(text, c_start, found["not_looking"][k], found["interested"][k])
        if found["period"].get(k) or found["duration"].get(k) or found["vague"].get(k):
            readiness += timing_cues(text, c_start, c_end, ref,
                                     found["period"][k], found["duration"][k], found["vague"][k])
    inherit_negation(text, mentions, sentences, negated)  # "Kubernetes is new to him, Terraform too"
    return NoteExtraction(
        skills=tuple(SkillEvidence(m.key, m.surface, m.start, m.end)
                     for i, m in enumerate(mentions) if i not in negated),
        rejected=tuple(RejectedSkill(m.key, m.surface, m.start, m.end, negated[i])
                       for i, m in enumerate(mentions) if i in negated),
        readiness=tuple(sorted(readiness, key=lambda c: (c.start, c.end))),
    )
