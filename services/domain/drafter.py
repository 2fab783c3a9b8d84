"""A first draft of a role spec from a job description: rule-based and explainable.

Every value is a ``Drafted``: the value, the exact words it came from and their offset (so a page
can highlight why). The rules, in the order they apply:

1. Lines. A short unbulleted line naming a known heading ("Requirements", "Nice to have", "About
   us", "What you'll do", "Dein Profil", "Wünschenswert", ...) opens a section that lasts until the
   next heading; "Label: text" ("Bonus: Jira", "Req: 5+ yrs", "Über uns: ...") gives its own line
   the label's section. The title is the first line when it reads like one, or a "Role:" line.
2. Sections: requirements -> must; nice-to-have, responsibilities and "Stack:" -> nice; company,
   benefits, title, place -> no skills. Text under no heading counts when it is a bullet or a
   fragment, or a sentence with a requirement cue ("you", "must", "experience", "we're looking
   for"); "you'll <verb>" there describes duties (nice).
3. Clauses (split at . ! ? ; brackets, "but", spaced dashes, ", ideally"): a nice cue ("nice to
   have", "bonus", "ideally", "a plus", "preferred", "advantage", "desirable", "helps", "not
   required") makes its clause nice anywhere. A sentence about the company ("We ...", "Our ..."
   without "we're looking for / need / expect") gives no skills, but an aside in a requirement
   ("(we use Splunk)") is nice; an excluding sentence ("not looking for") gives nothing.
4. Skills are the taxonomy's mentions (``find_skill_mentions``). Alternatives ("Go or Python",
   "Snowflake, dbt or similar", "such as MLflow") are nice, not must; negated skills ("no Java
   needed", "you don't need to know Kubernetes") are dropped; soft skills are left out. Must wins.
5. Seniority: ladder words in the title ("Staff level", "Tech Lead", "(Senior)" = mid or senior,
   "Engineering Manager"); else a level named with a role ("a Senior or Staff Engineer").
6. Years: "5+ years", "5 years or more", "at least seven years", "3-5 years" (3), "mindestens 3
   Jahre", outside company text and nice clauses; the largest wins.
7. Places: known cities and countries (``places``) outside company text; a country right after its
   own city ("Berlin, Germany") only qualifies it; "trips to London" and "Germany's" are not places.
8. Remote: "remote", "work from anywhere" -> True unless partial ("2 days remote per week",
   "hybrid"); else False from "hybrid" / "on-site"; else None.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, Optional

from services.domain import places
from services.domain.taxonomy import SkillMention, find_skill_mentions

MUST, NICE, SKIP = "must", "nice", "skip"
COMPANY, DUTIES, STACK, TITLE, PLACE, NEUTRAL = "company", "duties", "stack", "title", "place", "neutral"
SOFT_SKILLS = frozenset({"communication", "problem solving", "critical thinking", "time management",
                         "decision making", "conflict resolution", "strategic thinking"})


@dataclass(frozen=True)
class Drafted:
    """One proposed value and why: the words of the description it came from, and where."""
    value: Any  # a skill key, a seniority level, a number of years, a place, a bool, a title
    words: str  # the words of the description it came from: text[start:start + len(words)]
    start: int


@dataclass(frozen=True)
class Draft:
    must_have: list[Drafted]
    nice_to_have: list[Drafted]
    seniority: list[Drafted]
    min_years: Optional[Drafted]
    locations: list[Drafted]
    remote: Optional[Drafted]
    title: Optional[Drafted]

    def spec_fields(self) -> dict:
        """The drafted values, ready to merge into a RoleSpec dict."""
        values = {name: [d.value for d in getattr(self, name)]
                  for name in ("must_have", "nice_to_have", "seniority", "locations")}
        return {**values, "min_years": float(self.min_years.value) if self.min_years else None,
                "remote": bool(self.remote.value) if self.remote else False,
                "title": self.title.value if self.title else None}


_rx = partial(re.compile, flags=re.IGNORECASE | re.VERBOSE)
# --- headings ---------------------------------------------------------------------------
_HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    (TITLE, _rx(r"^(?:the\s+)?(?:role|position|job\s+title|title)$")),
    (PLACE, _rx(r"^(?:loc|location|standort|arbeitsort|where|office)$")),
    (STACK, _rx(r"^(?:our\s+|tech\s+)?stack$")),
    (MUST, _rx(r"^about\s+you$")),
    (DUTIES, _rx(r"^about\s+the\s+(?:role|job|position)$")),
    (COMPANY, _rx(r"^(?:about\b|über\s+uns|wer\s+wir|who\s+we\s+are|us$|(?:what\s+)?we\s+offer|our\s+offer|benefits"
                  r"|perks|why\s+join|what's\s+in\s+it)")),
    (NICE, _rx(r"nice|bonus|plus\b|preferred|ideally|good\s+to\s+have|desirable|wünschenswert|excited\s+if"
               r"|von\s+vorteil|advantage")),
    (MUST, _rx(r"requirement|qualification|must|you\s+bring|looking\s+for|^you(?:\s+(?:have|should\s+have|will\s+need"
               r"|need))?$|profile?$|we\s+expect|what\s+matters|required|skills|who\s+you\s+are|you'll\s+need"
               r"|anforderungen|^req$|^experience$")),
    (DUTIES, _rx(r"you'll\s+do|you\s+will\s+do|responsibilit|aufgaben|tasks|^the\s+role|in\s+this\s+role"
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
_CLAUSE_BREAK = _rx(r"\(|\)|\s[—–]\s|,?\s+but\s+|,\s*(?=and\s+if\b|ideally\b|preferably\b|even\s+though\b"
                    r"|although\b|though\b|whereas\b)")
_NICE_CUE = _rx(r"nice[\s-]to[\s-]have|would\s+be\s+nice|\bnice\s+bonus|\bbonus|\bideally|\bpreferab|\bpreferred"
                r"|\bplus\b|advantage|desirable|\bhelps\b|good\s+to\s+have|excited\s+if|not\s+required|not\s+a\s+must"
                r"|\boptional|wünschenswert|von\s+vorteil")
_RECRUITING = _rx(r"\b(?:looking\s+for|need|expect|love\s+to\s+meet|hiring|seek|require|consider|want)\w*")
_WE_FIRST = _rx(r"^\W*(?:\S+\s+){0,3}?(?:we|we're|we've|we'd|our)\b")
_EXCLUSION = _rx(r"not\s+looking\s+for|will\s+not\s+be\s+enough|isn't\s+enough|not\s+be\s+enough|we\s+don't\s+use")
_DUTY_CUE = _rx(r"\byou(?:'ll|\s+will|'d)\s+(?!need|have|bring|also\s+need)")
_MUST_CUE = _rx(r"\byou|\bmust\b|required|essential|experience|knowledge|skills|proficien|familiar|expert"
                r"|looking\s+for|\bneed|candidate")


def _company(clause: str) -> bool:
    return bool(_WE_FIRST.match(clause)) and not _RECRUITING.search(clause)


# company: the clause is said about the company, not about the candidate
Clause = NamedTuple("Clause", [("start", int), ("end", int), ("kind", str), ("company", bool)])


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
    if line.section in (COMPANY, TITLE, PLACE) or _EXCLUSION.search(sentence):
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
_NEGATION = _rx(r"(?:\bno\b|\bzero\b|don't\s+need|do\s+not\s+need|won't\s+need|don't\s+have\s+to|no\s+need\s+for"
                r"|not\s+needed)(?:\s+[\w/.+#-]+){0,5}?\s*$")
_NOT_NEEDED_AFTER = _rx(r"^\s+(?:is|are)\s+not\s+(?:needed|necessary)|^\s+isn't\s+(?:needed|necessary)")
_LIST_GAP = _rx(r"^[\s,/&]*(?:(?:and|or|oder|und|&)\s+)?$")
_OR = _rx(r"\b(?:or|oder)\b")
_OR_AFTER, _OR_BEFORE = _rx(r"\s*,?\s*(?:or|oder)\b"), _rx(r"\b(?:or|oder)\s+$")
_EXAMPLES = _rx(r"\b(?:such\s+as|like|e\.g\.|for\s+example|z\.\s?b\.)\s")


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


def _negated(text: str, mention: SkillMention, clause: Clause) -> bool:
    before, after = text[clause.start:mention.start], text[mention.end:clause.end]
    return bool(_NEGATION.search(before) or _NOT_NEEDED_AFTER.match(after))


def _draft_skills(text: str, clauses: list[Clause]) -> tuple[list[Drafted], list[Drafted]]:
    starts = [c.start for c in clauses]
    by_clause: dict[int, list[SkillMention]] = {}
    for mention in find_skill_mentions(text):
        k = bisect_right(starts, mention.start) - 1
        clause = clauses[k] if k >= 0 and mention.start < clauses[k].end else None
        if clause and clause.kind != SKIP and mention.key not in SOFT_SKILLS:
            by_clause.setdefault(clause.start, []).append(mention)
    must: dict[str, Drafted] = {}
    nice: dict[str, Drafted] = {}
    for clause in clauses:
        mentions = by_clause.get(clause.start, [])
        optional = _alternatives(text, mentions, clause)
        for i, mention in enumerate(mentions):
            if _negated(text, mention, clause):
                continue
            target = must if clause.kind == MUST and i not in optional else nice
            target.setdefault(mention.key, Drafted(mention.key, mention.surface, mention.start))
    return list(must.values()), [d for key, d in nice.items() if key not in must]


# --- seniority --------------------------------------------------------------------------
_LEVELS: list[tuple[str, str]] = [
    ("head of", r"head\s+of"), ("director", r"director"), ("vp", r"vp|vice\s+president"),
    ("manager", r"(?:engineering|team|people|development)\s+manager"), ("principal", r"principal"),
    ("staff", r"staff"), ("lead", r"(?:tech\s+|team\s+)?lead"), ("senior", r"senior|sr\.?"),
    ("mid", r"mid[\s-]level|intermediate|medior"), ("junior", r"junior|jr\.?|entry[\s-]level|graduate"),
    ("intern", r"intern|internship|working\s+student|werkstudent"),
]
_LEVEL_IN_TITLE = re.compile("|".join(rf"(?P<l{i}>\b(?:{p})\b)" for i, (_, p) in enumerate(_LEVELS)), re.IGNORECASE)
_ROLE_NOUN = (r"(?:[A-Z][\w.+#/-]*\s+){0,3}(?:Engineer|Developer|Designer|Scientist|Analyst|Manager|Consultant"
              r"|Architect|Recruiter|Researcher)")
_LEVEL_IN_TEXT = re.compile(r"\b(?P<a>Senior|Staff|Principal|Junior|Lead)(?:\s+or\s+(?P<b>Senior|Staff|Principal"
                            rf"|Lead))?\s+{_ROLE_NOUN}|(?i:\b(?P<c>mid[\s-]level|entry[\s-]level)\b)")
_OPTIONAL_SENIOR = re.compile(r"^\W*\((?:senior|sr\.?)\)", re.IGNORECASE)


def _level_of(word: str) -> str:
    return next(level for level, pattern in _LEVELS if re.fullmatch(pattern, word.strip(), re.IGNORECASE))


def _title_levels(title: Drafted) -> list[Drafted]:
    out = [Drafted(_level_of(m.group()), m.group(), title.start + m.start())
           for m in _LEVEL_IN_TITLE.finditer(title.words)]
    if _OPTIONAL_SENIOR.match(title.words):
        out.insert(0, Drafted("mid", title.words[:title.words.index(")") + 1], title.start))
    return out


def _text_levels(text: str, clauses: list[Clause]) -> list[Drafted]:
    out = []
    for clause in clauses:
        if clause.company and not _RECRUITING.search(text[clause.start:clause.end]):
            continue
        out += [Drafted(_level_of(m.group(name)), m.group(name), m.start(name))
                for m in _LEVEL_IN_TEXT.finditer(text, clause.start, clause.end) for name in "abc" if m.group(name)]
    return out


def _first_each(found: list[Drafted], key=lambda d: d.value) -> list[Drafted]:
    return list({key(d): d for d in reversed(found)}.values())[::-1]


def _draft_seniority(text: str, clauses: list[Clause], title: Optional[Drafted]) -> list[Drafted]:
    return _first_each((_title_levels(title) if title else []) or _text_levels(text, clauses))


# --- years ------------------------------------------------------------------------------
_NUMBER_WORDS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                            "thirteen fourteen fifteen".split())}
_N = r"(\d{1,2}(?:\.\d)?|" + "|".join(_NUMBER_WORDS) + ")"
_Y = r"(?:years?|yrs?\.?|jahre?n?)"
_YEARS = [_rx(p) for p in (
    rf"\b{_N}\s*(?:-|–|to)\s*\d{{1,2}}\s*\+?\s*{_Y}", rf"\b{_N}\s*\+\s*{_Y}",
    rf"\b{_N}\s+{_Y}\s*(?:\+|or\s+more|or\s+longer)",
    rf"(?:at\s+least|minimum(?:\s+of)?|min\.|mind\.|mindestens|more\s+than|over)\s+{_N}\s+{_Y}",
    rf"\b{_N}\s+{_Y}['’]?\s+(?:of\s+)?(?:[\w-]+\s+){{0,3}}?(?:experience|erfahrung)",
)]


def _draft_years(text: str, clauses: list[Clause]) -> Optional[Drafted]:
    found: list[Drafted] = []
    for clause in clauses:
        if clause.company or clause.kind == NICE:
            continue
        for pattern in _YEARS:  # a range first, so "3-5 years" is never read as "5 years"
            for m in pattern.finditer(text, clause.start, clause.end):
                if not any(d.start < m.end() and m.start() < d.start + len(d.words) for d in found):
                    number = m.group(1)
                    found.append(Drafted(float(_NUMBER_WORDS.get(number.lower(), number)), m.group(), m.start()))
    return max(found, key=lambda d: d.value, default=None)


# --- places and remote ------------------------------------------------------------------
_PLACE_SURFACES = sorted({name.title() for name in (*places.CITY_COUNTRY, *places.CITY_COUNTRY.values())} | {
    "München", "Munchen", "Zürich", "Köln", "Kraków", "Wien", "Lisboa", "Praha", "Warszawa", "Milano", "Roma",
    "Frankfurt am Main", "New York City", "NYC", "Bengaluru", "Deutschland", "United Kingdom", "Great Britain",
    "England", "Scotland", "United States", "United States of America", "US", "USA", "UK", "The Netherlands",
    "Holland", "España", "Österreich", "Schweiz", "Suisse", "Czech Republic", "Düsseldorf",
}, key=len, reverse=True)
_PLACE = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(s) for s in _PLACE_SURFACES) + r")(?![\w]|['’]s\b|-based)")
_NOT_A_PLACE_OF_WORK = _rx(r"(?:trips?\s+to|team\s+weeks?\s+in|offsites?\s+in|visits?\s+to|visiting)\s+$")
_QUALIFIER_GAP = re.compile(r"^[\s,(·|/-]*$")


def _place_name(surface: str) -> str:
    folded = places.fold(surface)
    return folded.upper() if folded in ("usa", "uk") else folded.title()


def _draft_places(text: str, clauses: list[Clause]) -> list[Drafted]:
    found: list[Drafted] = []
    for clause in clauses:
        if clause.company:
            continue
        for m in _PLACE.finditer(text, clause.start, clause.end):
            if _NOT_A_PLACE_OF_WORK.search(text[max(clause.start, m.start() - 30):m.start()]):
                continue
            name, previous = _place_name(m.group()), found[-1] if found else None
            if previous and places.CITY_COUNTRY.get(places.fold(previous.value)) == places.fold(name) \
                    and _QUALIFIER_GAP.match(text[previous.start + len(previous.words):m.start()]):
                continue  # "Berlin, Germany": the country only says which Berlin
            found.append(Drafted(name, m.group(), m.start()))
    return _first_each(found, key=lambda d: places.fold(d.value))


_REMOTE = _rx(r"\b(?:fully\s+remote|100\s?%\s+remote|remote|work\s+from\s+anywhere)\b")
_PARTIAL = _rx(r"\b(?:days?|tage|partially|partly|hybrid|per\s+week|pro\s+woche|a\s+week)\b")
_ON_SITE = _rx(r"\b(?:hybrid|on[\s-]?site|in\s+the\s+office|office)\b")


def _draft_remote(text: str, clauses: list[Clause]) -> Optional[Drafted]:
    on_site: Optional[Drafted] = None
    for clause in clauses:
        if clause.company:
            continue
        words = text[clause.start:clause.end]
        for m in _REMOTE.finditer(text, clause.start, clause.end):
            if not _PARTIAL.search(words):
                return Drafted(True, m.group(), m.start())
        hybrid = _ON_SITE.search(text, clause.start, clause.end)
        if hybrid and on_site is None:
            on_site = Drafted(False, hybrid.group(), hybrid.start())
    return on_site


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
    return Draft(must_have=must, nice_to_have=nice, seniority=_draft_seniority(text, clauses, title),
                 min_years=_draft_years(text, clauses), locations=_draft_places(text, clauses),
                 remote=_draft_remote(text, clauses), title=title)
