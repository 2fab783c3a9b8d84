"""The drafter's rules for values other than skills (see ``services.domain.drafter``): seniority,
years, places, remote, domains and excluded companies, and the rule for generic skill areas.

Domains: industry words ("fintech", "healthtech", "e-commerce", "insurtech", "SaaS", "insurers",
"retailer") anywhere but a negated phrase; a plain industry noun ("insurance", "payments", "energy")
only with a cue: "experience in payments or banking", "the insurance industry", "an automotive
supplier". Values are lowercase, as the matcher compares them with a candidate's industry.
Exclusions: "we will not consider candidates (currently) at Initech or Globex", "no candidates
from Acme", "we don't hire from Acme": the capitalised names after the phrase.
Generic areas ("backend development", "data pipelines", ...: a discipline, not a skill candidates
list) count only when named as one: an adjective ("backend systems", "frontend dev", "backend
experience") gives nothing, and work done ("building data pipelines") is nice at most.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, Optional

from services.domain import places
from services.domain.taxonomy import SkillMention

MUST, NICE, SKIP = "must", "nice", "skip"
rx = partial(re.compile, flags=re.IGNORECASE | re.VERBOSE)
RECRUITING = rx(r"\b(?:looking\s+for|need|expect|love\s+to\s+meet|hiring|seek|require|consider|want)\w*")
NEGATION = rx(r"(?:\bno\b|\bzero\b|don't\s+need|do\s+not\s+need|won't\s+need|don't\s+have\s+to|no\s+need\s+for"
               r"|not\s+needed|not\s+required|(?:don't|do\s+not)\s+expect|not\s+expected|not\s+necessary)"
               r"(?:\s+[\w/.+#-]+){0,5}?\s*$")


@dataclass(frozen=True)
class Drafted:
    """One proposed value and why: the words of the description it came from, and where."""
    value: Any  # a skill key, a level, a number of years, a place, a bool, a title, a domain, a company
    words: str  # the words of the description it came from: text[start:start + len(words)]
    start: int


# company: the clause is said about the company, not about the candidate
Clause = NamedTuple("Clause", [("start", int), ("end", int), ("kind", str), ("company", bool)])


def first_each(found: list[Drafted], key=lambda d: d.value) -> list[Drafted]:
    return list({key(d): d for d in reversed(found)}.values())[::-1]


# --- generic areas ----------------------------------------------------------------------
AREAS = frozenset({"backend development", "frontend development", "full-stack development", "web development",
                   "mobile development", "game development", "platform engineering", "data engineering",
                   "data pipelines", "data science", "devops", "site reliability engineering", "cloud computing"})
_ROLE_END = re.compile(r"(?:engineer|scientist|developer|analyst|designer|architect|manager)$")
_MODIFIES = rx(r"[ \t]+(?!(?:and|or|und|oder|&)\b)[a-z]")
_WORK_VERB = rx(r"\b(?:build|design|develop|maintain|run|operat|scal|ship|own|writ|creat)\w*\s+(?:\w+\s+){0,2}$")


def _compact(words: str) -> str:
    return re.sub(r"[^a-z0-9]", "", words.lower())


def area_kind(text: str, mention: SkillMention, clause: Clause) -> Optional[str]:
    """How a generic area may count: SKIP when only an adjective of other words, NICE when it is
    work to be done, None when named as a skill (or not an area)."""
    if mention.key not in AREAS:
        return None
    surface, key = _compact(mention.surface), _compact(mention.key)
    if key.startswith(surface) and surface != key and not _ROLE_END.search(surface) \
            and _MODIFIES.match(text, mention.end):
        return SKIP
    return NICE if _WORK_VERB.search(text, clause.start, mention.start) else None


# --- domains and excluded companies -----------------------------------------------------
_SECTORS = {"fin": "fintech", "health": "healthtech", "insur": "insurtech", "prop": "proptech", "ed": "edtech",
            "legal": "legaltech", "reg": "regtech", "ad": "adtech", "mar": "martech", "agri": "agritech",
            "clean": "cleantech", "climate": "climate tech", "bio": "biotech", "med": "medtech"}
_SECTOR = rx(r"\b(?P<s>" + "|".join(_SECTORS) + r")[\s-]?tech\b|\b(?P<e>e[\s-]?commerce)\b|(?-i:\b(?P<saas>SaaS)\b)"
              r"|\b(?P<ins>insurers?)\b|\b(?P<ret>retailers?)\b")
_INDUSTRY = (r"(?:insurance|banking|payments|healthcare|energy|utilities|retail|automotive|logistics|travel|gaming"
             r"|telecom(?:munications)?|capital\s+markets|real\s+estate|manufacturing|pharma|hospitality|aviation"
             r"|public\s+sector|mobility)")
_CHAIN = rf"{_INDUSTRY}(?:\s*(?:,|/|\bor\b|\band\b|&)\s*{_INDUSTRY})*"
_INDUSTRY_CUE = rx(rf"\b(?:experience|background|knowledge|expertise|exposure|ideally)\s+(?:in|with|of|from)"
                    rf"\s+(?:the\s+)?(?P<a>{_CHAIN})\b|\b(?P<b>{_CHAIN})(?:-\w+)?\s+(?:industry|sector|domain|space"
                    r"|market|background|experience|compan(?:y|ies)|startup|supplier|retailer|provider|firm|client)")
_ONE_INDUSTRY = rx(_INDUSTRY)


def _domain_values(m: re.Match) -> list[tuple[str, int, int]]:
    if m.lastgroup in ("a", "b"):
        return [(" ".join(i.group().lower().split()), i.start(), i.end())
                for i in _ONE_INDUSTRY.finditer(m.string, m.start(m.lastgroup), m.end(m.lastgroup))]
    value = {"e": "e-commerce", "saas": "saas", "ins": "insurance", "ret": "retail"}.get(m.lastgroup)
    return [(value or _SECTORS[m.group("s").lower()], m.start(), m.end())]


def draft_domains(text: str, clauses: list[Clause]) -> list[Drafted]:
    found, covered = [], []
    for clause in clauses:
        for pattern in (_INDUSTRY_CUE, _SECTOR):  # a cue first: "an energy retailer" is energy, not retail
            for m in pattern.finditer(text, clause.start, clause.end):
                if NEGATION.search(text, clause.start, m.start()) or any(a <= m.start() < b for a, b in covered):
                    continue
                covered.append(m.span())
                found += [Drafted(value, text[a:b], a) for value, a, b in _domain_values(m)]
    return first_each(sorted(found, key=lambda d: d.start))


_COMPANY = r"[A-Z][\w&'-]*(?:[ \t]+[A-Z][\w&'-]*){0,3}"
_EXCLUDE = rx(r"(?:(?:will\s+not|won't|do\s+not|don't|cannot|can't|can\s+not)\s+(?:consider|accept|hire|recruit"
               r"|poach|take)|\bno|\bexcluding|\bnot)\s+(?:(?:candidates|applicants|people|anyone|profiles|engineers"
               r"|employees|staff|one)\s+)?(?:who\s+(?:are|work)\s+)?(?:currently\s+)?(?:at|from|working\s+(?:at|for)"
               rf"|employed\s+(?:at|by))\s+(?-i:(?P<names>{_COMPANY}(?:\s*(?:,|\bor\b|\band\b|/)\s*{_COMPANY})*))")
_NAME = re.compile(_COMPANY)


def draft_exclusions(text: str) -> list[Drafted]:
    found = [Drafted(n.group(), n.group(), n.start()) for m in _EXCLUDE.finditer(text)
             for n in _NAME.finditer(text, m.start("names"), m.end("names"))]
    return first_each(found, key=lambda d: d.value.lower())


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
_LEVEL = r"(?:[Ss]enior|[Ss]taff|[Pp]rincipal|[Jj]unior|[Ll]ead)"
_LEVEL_IN_TEXT = re.compile(rf"\b(?P<a>{_LEVEL}(?:\s*(?:,|/|\bor\b|\band\b)\s*{_LEVEL})*)[\s-]+(?:{_ROLE_NOUN}"
                            r"|(?:role|position|level|engineer|developer|designer|scientist|analyst|architect"
                            r"|consultant)\b)|(?i:\b(?P<c>mid[\s-]level|entry[\s-]level)\b)")
_ONE_LEVEL, _WHOLE = re.compile(_LEVEL), re.compile(r".+", re.DOTALL)
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
        if clause.company and not RECRUITING.search(text[clause.start:clause.end]):
            continue
        for m in _LEVEL_IN_TEXT.finditer(text, clause.start, clause.end):
            name = "a" if m.group("a") else "c"  # "c": mid-level / entry-level, one level as written
            words = (_ONE_LEVEL if name == "a" else _WHOLE).finditer(text, m.start(name), m.end(name))
            out += [Drafted(_level_of(w.group()), w.group(), w.start()) for w in words]
    return out


def draft_seniority(text: str, clauses: list[Clause], title: Optional[Drafted]) -> list[Drafted]:
    return first_each((_title_levels(title) if title else []) or _text_levels(text, clauses))


# --- years ------------------------------------------------------------------------------
_NUMBER_WORDS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                            "thirteen fourteen fifteen".split())}
_N = r"(\d{1,2}(?:\.\d)?|" + "|".join(_NUMBER_WORDS) + ")"
_Y = r"(?:years?|yrs?\.?|jahre?n?)"
_YEARS = [rx(p) for p in (
    rf"\b{_N}\s*(?:-|–|to)\s*\d{{1,2}}\s*\+?\s*{_Y}", rf"\b{_N}\s*\+\s*{_Y}",
    rf"\b{_N}\s+{_Y}\s*(?:\+|or\s+more|or\s+longer)",
    rf"(?:at\s+least|minimum(?:\s+of)?|min\.|mind\.|mindestens|more\s+than|over)\s+{_N}\s+{_Y}",
    rf"\b{_N}\s+{_Y}['’]?\s+(?:of\s+)?(?:[\w-]+\s+){{0,3}}?(?:experience|erfahrung)",
)]


def draft_years(text: str, clauses: list[Clause]) -> Optional[Drafted]:
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
_NOT_A_PLACE_OF_WORK = rx(r"(?:trips?\s+to|team\s+weeks?\s+in|offsites?\s+in|visits?\s+to|visiting)\s+$")
_QUALIFIER_GAP = re.compile(r"^[\s,(·|/-]*$")


def _place_name(surface: str) -> str:
    folded = places.fold(surface)
    return folded.upper() if folded in ("usa", "uk") else folded.title()


def draft_places(text: str, clauses: list[Clause]) -> list[Drafted]:
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
    return first_each(found, key=lambda d: places.fold(d.value))


_REMOTE = rx(r"\b(?:fully\s+remote|100\s?%\s+remote|remote|work\s+from\s+anywhere)\b")
_PARTIAL = rx(r"\b(?:days?|tage|partially|partly|hybrid|per\s+week|pro\s+woche|a\s+week)\b")
_ON_SITE = rx(r"\b(?:hybrid|on[\s-]?site|in\s+the\s+office|office)\b")


def draft_remote(text: str, clauses: list[Clause]) -> Optional[Drafted]:
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


