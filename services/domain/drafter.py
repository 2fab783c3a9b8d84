"""A first draft of a role spec from a job description: rule-based and explainable.

Every value is a ``Drafted``: the value, the exact words it came from and their offset (so a page
can highlight why). The rules, in the order they apply:

1. Lines. A short unbulleted line naming a known heading ("Requirements", "Nice to have", "About
   us", "What you'll do", "Dein Profil", "Wünschenswert", ...) opens a section that lasts until the
   next heading; "Label: text" ("Bonus: Jira", "Req: 5+ yrs", "Über uns: ...") gives its own line
   the label's section. The title is the first line when it reads like one, or a "Role:" line.
2. Sections: requirements -> must; nice-to-have, responsibilities and "Stack:" -> nice; company,
   benefits, title, place and negated headings ("Not required:", "You don't need") -> no skills.
   Text under no heading counts when it is a bullet or a fragment, or a sentence with a
   requirement cue ("you", "must", "experience", "we're looking for"); "you'll <verb>" there
   describes duties (nice).
3. Clauses (split at . ! ? ; brackets, "but", spaced dashes, ", ideally"): a nice cue ("nice to
   have", "bonus", "ideally", "a plus", "preferred", "advantage", "desirable", "helps", "not a
   must") makes its clause nice anywhere. A sentence about the company ("We ...", "Our ..."
   without "we're looking for / need / expect") gives no skills, but an aside in a requirement
   ("(we use Splunk)") is nice; an excluding sentence ("not looking for") gives nothing.
4. Skills are the taxonomy's mentions (``find_skill_mentions``). Alternatives ("Go or Python",
   "Snowflake, dbt or similar", "such as MLflow") are nice, not must; negated skills ("no Java
   needed", "you don't need Go or Kafka", "not required: X", "we don't expect X", "X is not
   needed"; a whole list at once) are dropped, unless "not required, but a plus" (nice); soft
   skills are left out. Generic areas ("backend development") only count named as a skill: not as
   an adjective ("backend systems"), and work done ("building data pipelines") is nice at most
   (``drafter_rules.area_kind``). Must wins.
5. Seniority: ladder words in the title ("Staff level", "Tech Lead", "(Senior)" = mid or senior,
   "Engineering Manager"); else every level named with a role ("a Senior or Staff Engineer", "a
   senior or staff role").
6. Years: "5+ years", "5 years or more", "at least seven years", "3-5 years" (3), "mindestens 3
   Jahre", outside company text and nice clauses; the largest wins.
7. Places: known cities and countries (``places``) outside company text; a country right after its
   own city ("Berlin, Germany") only qualifies it; "trips to London" and "Germany's" are not places.
8. Remote: "remote", "work from anywhere" -> True unless partial ("2 days remote per week",
   "hybrid"); else False from "hybrid" / "on-site"; else None.
9. Domains (industry words: "fintech", "e-commerce", "experience in payments") and excluded
   companies ("we will not consider candidates currently at Initech"): ``drafter_rules``.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

from services.domain import drafter_rules as rules
from services.domain.drafter_rules import MUST, NICE, SKIP, Clause, Drafted, rx
from services.domain.taxonomy import SkillMention, find_skill_mentions

__all__ = ["Draft", "Drafted", "draft_role"]
COMPANY, DUTIES, STACK, TITLE, PLACE, NEUTRAL = "company", "duties", "stack", "title", "place", "neutral"
UNWANTED = "unwanted"  # "Not required:", "You don't need": what follows gives nothing
SOFT_SKILLS = frozenset({"communication", "problem solving", "critical thinking", "time management",
                         "decision making", "conflict resolution", "strategic thinking"})


@dataclass(frozen=True)
class Draft:
    must_have: list[Drafted]
    nice_to_have: list[Drafted]
    seniority: list[Drafted]
    min_years: Optional[Drafted]
    locations: list[Drafted]
    remote: Optional[Drafted]
    title: Optional[Drafted]
    domains: list[Drafted] = field(default_factory=list)
    exclude_companies: list[Drafted] = field(default_factory=list)

    def spec_fields(self) -> dict:
        """The drafted values, ready to merge into a RoleSpec dict."""
        values = {name: [d.value for d in getattr(self, name)]
                  for name in ("must_have", "nice_to_have", "seniority", "locations", "domains", "exclude_companies")}
        return {**values, "min_years": float(self.min_years.value) if self.min_years else None,
                "remote": bool(self.remote.value) if self.remote else False,
                "title": self.title.value if self.title else None}


# --- headings ---------------------------------------------------------------------------
_HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    (TITLE, rx(r"^(?:the\s+)?(?:role|position|job\s+title|title)$")),
    (PLACE, rx(r"^(?:loc|location|standort|arbeitsort|where|office)$")),
    (STACK, rx(r"^(?:our\s+|tech\s+)?stack$")),
    (MUST, rx(r"^about\s+you$")),
    (DUTIES, rx(r"^about\s+the\s+(?:role|job|position)$")),
    (COMPANY, rx(r"^(?:about\b|über\s+uns|wer\s+wir|who\s+we\s+are|us$|(?:what\s+)?we\s+offer|our\s+offer|benefits"
                  r"|perks|why\s+join|what's\s+in\s+it)")),
    (NICE, rx(r"nice|bonus|plus\b|preferred|ideally|good\s+to\s+have|desirable|wünschenswert|excited\s+if"
               r"|von\s+vorteil|advantage")),
    (UNWANTED, rx(r"^(?:not\s+(?:required|needed|necessary|expected)|no\s+need(?:\s+for)?|(?:what\s+)?(?:you|we)"
                   r"\s+(?:don't|do\s+not|won't)\s+(?:need|expect|require)(?:\s+from\s+you)?)$")),
    (MUST, rx(r"requirement|qualification|must|you\s+bring|looking\s+for|^you(?:\s+(?:have|should\s+have|will\s+need"
               r"|need))?$|profile?$|we\s+expect|what\s+matters|required|skills|who\s+you\s+are|you'll\s+need"
               r"|anforderungen|^req$|^experience$")),
    (DUTIES, rx(r"you'll\s+do|you\s+will\s+do|responsibilit|aufgaben|tasks|^the\s+role|in\s+this\s+role"
                 r"|your\s+(?:job|mission)|day\s+to\s+day")),
]
_BULLET = re.compile(r"^[\s\-–—•*·→>+]+")
_LABEL = re.compile(r"^([^:\n]{1,40}):[ \t]*")
_NOT_A_TITLE = re.compile(r"(?i)\W*(?:we|our|hey|hi)\b|.*[.!?:]\s*$|(?:\S+\s+){14}")
_TITLE_CUT = re.compile(r"\s+[–—|·-]\s+|\s*\|\s*")


def _heading_kind(label: str) -> Optional[str]:
    folded = " ".join(label.lower().replace("’", "'").strip(" \t:").split())
    if not folded or len(folded.split()) > 6 or folded[-1] in ".!?":
        return None
    return next((kind for kind, pattern in _HEADINGS if pattern.search(folded)), None)


Line = NamedTuple("Line", [("start", int), ("end", int), ("section", str), ("bullet", bool)])


def _lines(text: str) -> list[Line]:
    """The content lines of the text, each with the section it belongs to."""
    out, section, first = [], NEUTRAL, True
    for match in re.finditer(r"[^\n]+", text):
        start, end, raw = match.start(), match.end(), match.group()
        bullet = _BULLET.match(raw)
        start += bullet.end() if bullet else 0
        body = text[start:end]
        if not body.strip():
            continue
        label = _LABEL.match(body)
        kind = _heading_kind(label.group(1)) if label and not bullet else None
        if kind and body[label.end():].strip():
            out.append(Line(start + label.end(), end, kind, False))
        elif kind or (not bullet and _heading_kind(body)):
            section = kind or _heading_kind(body)
        elif first and not _NOT_A_TITLE.match(body):
            out.append(Line(start, end, TITLE, False))
        else:
            out.append(Line(start, end, section, bool(bullet)))
        first = False
    return out


# --- clauses and their kind -------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"„(A-ZÄÖÜ])|;\s*")
_CLAUSE_BREAK = rx(r"\(|\)|\s[—–]\s|,?\s+but\s+|,\s*(?=and\s+if\b|ideally\b|preferably\b|even\s+though\b"
                    r"|although\b|though\b|whereas\b)")
_NICE_CUE = rx(r"nice[\s-]to[\s-]have|would\s+be\s+nice|\bnice\s+bonus|\bbonus|\bideally|\bpreferab|\bpreferred"
                r"|\bplus\b|advantage|desirable|\bhelps\b|good\s+to\s+have|excited\s+if|not\s+a\s+must"
                r"|\boptional|wünschenswert|von\s+vorteil")
_WE_FIRST = rx(r"^\W*(?:\S+\s+){0,3}?(?:we|we're|we've|we'd|our)\b")
_EXCLUSION = rx(r"not\s+looking\s+for|will\s+not\s+be\s+enough|isn't\s+enough|not\s+be\s+enough|we\s+don't\s+use")
_DUTY_CUE = rx(r"\byou(?:'ll|\s+will|'d)\s+(?!need|have|bring|also\s+need)")
_MUST_CUE = rx(r"\byou|\bmust\b|required|essential|experience|knowledge|skills|proficien|familiar|expert"
                r"|looking\s+for|\bneed|candidate")


def _company(clause: str) -> bool:
    return bool(_WE_FIRST.match(clause)) and not rules.RECRUITING.search(clause)


def _spans(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int, bool, int]]:
    """Pieces of text[start:end] between matches of pattern: (start, end, opened by "(", group); the
    pieces on either side of a bracket share a group ("Kubernetes (AKS) is desirable")."""
    out, pos, bracket, group = [], start, False, 0
    for match in pattern.finditer(text, start, end):
        out.append((pos, match.start(), bracket, group))
        mark = match.group().strip()
        pos, bracket, group = match.end(), mark == "(", group + (mark not in "()")
    out.append((pos, end, bracket, group))
    return [piece for piece in out if text[piece[0]:piece[1]].strip()]


def _clause_kind(line: Line, sentence: str, clause: str, bracketed: bool) -> str:
    if line.section in (COMPANY, TITLE, PLACE, UNWANTED) or _EXCLUSION.search(sentence):
        return SKIP
    if _NICE_CUE.search(clause):
        return NICE
    if _company(clause):
        return NICE if bracketed and line.section in (MUST, NEUTRAL) else SKIP
    if _company(sentence) and not bracketed:
        return SKIP
    if line.section == NEUTRAL:
        fragment = line.bullet or len(sentence.split()) <= 6
        return NICE if _DUTY_CUE.search(sentence) else MUST if fragment or _MUST_CUE.search(sentence) else SKIP
    return {MUST: MUST, NICE: NICE, DUTIES: NICE, STACK: NICE}[line.section]


def _clauses(text: str, lines: list[Line]) -> list[Clause]:
    out = []
    for line in lines:
        for s_start, s_end, _, _ in _spans(text, line.start, line.end, _SENTENCE_END):
            sentence = text[s_start:s_end]
            sentence_company = line.section == COMPANY or _company(sentence)
            pieces = _spans(text, s_start, s_end, _CLAUSE_BREAK)
            for c_start, c_end, bracketed, group in pieces:
                clause = text[c_start:c_end] if bracketed else " ".join(
                    text[a:b] for a, b, br, g in pieces if g == group and not br)
                kind = _clause_kind(line, sentence, clause, bracketed)
                out.append(Clause(c_start, c_end, kind, sentence_company or _company(clause)))
    return out


# --- skills -----------------------------------------------------------------------------
_NOT_NEEDED_AFTER = rx(r"^(?:[\s,]+(?!(?:is|are|must|be|should|will|need)\b)[\w/+#.-]+){0,4}?\s+(?:is|are)"
                        r"(?:\s+not|n't)\s+(?:needed|necessary|required|expected)")
_BUT_NICE = rx(r"[^.!?\n]*?not\s+(?:needed|necessary|required)\W*(?:but|though)\s+(?:\w+\s+){0,4}?(?:nice|a\s+plus"
                r"|bonus|help|advantage|desirable|welcome)")
_LIST_GAP = rx(r"^[\s,/&]*(?:(?:and|or|oder|und|&)\s+)?$")
_OR = rx(r"\b(?:or|oder)\b")
_OR_AFTER, _OR_BEFORE = rx(r"\s*,?\s*(?:or|oder)\b"), rx(r"\b(?:or|oder)\s+$")
_EXAMPLES = rx(r"\b(?:such\s+as|like|e\.g\.|for\s+example|z\.\s?b\.)\s")


def _chains(text: str, mentions: list[SkillMention]) -> list[list[int]]:
    """Indices of mentions joined into one list ("Go, Kafka and Flink")."""
    chains: list[list[int]] = []
    for i, mention in enumerate(mentions):
        joined = chains and _LIST_GAP.match(text[mentions[i - 1].end:mention.start])
        chains[-1].append(i) if joined else chains.append([i])
    return chains


def _alternatives(text: str, mentions: list[SkillMention], clause: Clause) -> set[int]:
    """Mentions offered as one option among others: "Go or Python", "X or similar", "such as X"."""
    out: set[int] = set()
    for chain in _chains(text, mentions):
        first, last = mentions[chain[0]], mentions[chain[-1]]
        before, after = text[clause.start:first.start], text[last.end:clause.end]
        if _OR.search(text, first.start, last.end) or _OR_AFTER.match(after) or _OR_BEFORE.search(before) \
                or _EXAMPLES.search(before):
            out.update(chain)
    return out


def _negated(text: str, mentions: list[SkillMention], clause: Clause) -> dict[int, bool]:
    """Mentions ruled out ("no Java needed", "you don't need Go or Kafka", "React is not required"),
    a whole list at once; True when softened ("not required, but a plus": nice)."""
    out: dict[int, bool] = {}
    for chain in _chains(text, mentions):
        first, last = mentions[chain[0]], mentions[chain[-1]]
        if rules.NEGATION.search(text, clause.start, first.start) or _NOT_NEEDED_AFTER.match(text[last.end:clause.end]):
            out.update(dict.fromkeys(chain, bool(_BUT_NICE.match(text, last.end))))
    return out


def _target(text: str, clause: Clause, mention: SkillMention, optional: bool, soft: Optional[bool]) -> str:
    """Where one mention goes: MUST, NICE or SKIP."""
    if soft is not None:
        return NICE if soft else SKIP
    area = rules.area_kind(text, mention, clause)
    return area or (MUST if clause.kind == MUST and not optional else NICE)


def _mentions_by_clause(text: str, clauses: list[Clause]) -> dict[int, list[SkillMention]]:
    starts = [c.start for c in clauses]
    by_clause: dict[int, list[SkillMention]] = {}
    for mention in find_skill_mentions(text):
        k = bisect_right(starts, mention.start) - 1
        clause = clauses[k] if k >= 0 and mention.start < clauses[k].end else None
        if clause and clause.kind != SKIP and mention.key not in SOFT_SKILLS:
            by_clause.setdefault(clause.start, []).append(mention)
    return by_clause


def _draft_skills(text: str, clauses: list[Clause]) -> tuple[list[Drafted], list[Drafted]]:
    by_clause = _mentions_by_clause(text, clauses)
    found: dict[str, dict[str, Drafted]] = {MUST: {}, NICE: {}, SKIP: {}}
    for clause in clauses:
        mentions = by_clause.get(clause.start, [])
        optional, negated = _alternatives(text, mentions, clause), _negated(text, mentions, clause)
        for i, mention in enumerate(mentions):
            target = _target(text, clause, mention, i in optional, negated.get(i))
            found[target].setdefault(mention.key, Drafted(mention.key, mention.surface, mention.start))
    must, nice = found[MUST], found[NICE]
    return list(must.values()), [d for key, d in nice.items() if key not in must]


# --- title and the whole draft ----------------------------------------------------------
def _draft_title(text: str, lines: list[Line]) -> Optional[Drafted]:
    line = next((line for line in lines if line.section == TITLE), None)
    if line is None:
        return None
    words = text[line.start:line.end]
    lead = re.match(r"[^\w(]*", words).end()  # an emoji or a stray mark before the title
    cut = _TITLE_CUT.search(words, lead)
    title = words[lead:cut.start() if cut else len(words)].strip()
    return Drafted(title, title, line.start + lead)


def draft_role(text: str) -> Draft:
    """A draft role spec from a job description; every value says which words it came from."""
    lines = _lines(text)
    clauses = _clauses(text, lines)
    must, nice = _draft_skills(text, clauses)
    title = _draft_title(text, lines)
    return Draft(must_have=must, nice_to_have=nice, seniority=rules.draft_seniority(text, clauses, title),
                 min_years=rules.draft_years(text, clauses), locations=rules.draft_places(text, clauses),
                 remote=rules.draft_remote(text, clauses), title=title, domains=rules.draft_domains(text, clauses),
                 exclude_companies=rules.draft_exclusions(text))
