"""Interview-note extraction: skills said positively, skills negated or hedged, readiness cues.

Explainable by construction: every item carries the exact span of the note it came from
(`text[start:end] == surface`), and every rule is a small regex below.

Skills come from the taxonomy (`find_skill_mentions`). The note is split into clauses
(at . ! ? ; newlines, and before but / however / though / although / whereas / while);
a negation or hedge cue only reaches skills in its own clause:
- a cue before a skill ("no", "not", "never", "-n't", "lacks", "without", "little exposure
  to", "wants to learn", "picking up", "interested in", "unfamiliar with", "weak in", ...)
  takes the first skill at most 6 words after it, then every skill joined to that one by
  a list ("no Rust, Go or Terraform"). A comma alone continues the list only if an
  or/and/nor follows later in it, so "hasn't used Go, Kafka is her thing" keeps Kafka.
- a cue after a skill ("Rust: none", "Go is new to her", "Terraform, not so much") takes
  the skill at most 3 words before it, and the list that skill ends.
- "X too / as well / either" inherits the polarity of the skill before it in the sentence.
Not cues: "not only / not just", "no doubt / problem / issues / stranger to", "never had
problems". A wish or an ability to learn is not evidence: "no problem picking up Go"
rejects Go (the cue is "picking up").

Timing cues resolve to a follow-up date relative to the note's date (see `_resolve`).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Optional

from dateutil.relativedelta import relativedelta

from services.readiness import WEIGHTS
from services.taxonomy import SkillMention, find_skill_mentions


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
    weight: float
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
        readiness = [{**asdict(c), "follow_up_on": c.follow_up_on.isoformat() if c.follow_up_on else None}
                     for c in self.readiness]
        follow_up = self.follow_up_on
        return {"skills": [asdict(s) for s in self.skills], "rejected": [asdict(r) for r in self.rejected],
                "readiness": readiness, "follow_up_on": follow_up.isoformat() if follow_up else None}


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.VERBOSE)


# ---------------------------------------------------------------- clauses

_SENTENCE_END = _rx(r"[.!?;]+(?=\s|$) | \n+ | \s[-–—•*]\s(?=[A-Z])")
_CLAUSE_BREAK = _rx(r",?\s+(?=(?:but|however|though|although|whereas|while|otherwise)\b) | ,\s*(?=(?:and\s+)?yet\b)")


def _spans(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for m in pattern.finditer(text, start, end):
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = max(pos, m.end())
    if pos < end:
        out.append((pos, end))
    return out


def _sentences(text: str) -> list[tuple[int, int]]:
    return _spans(_SENTENCE_END, text, 0, len(text))


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return _spans(_CLAUSE_BREAK, text, start, end)


# ---------------------------------------------------------------- skills: cues

_PRE_CUE = _rx(r"""
    \b(?: no (?!\s+(?:doubt|problems?|issues?|trouble|stranger|question|complaints?|concerns?|shortage|slouch
                     |surprise|wonder|longer|red\s+flags?)\b)
        | not (?!\s+(?:only|just|merely|simply|to\s+mention|afraid|shy)\b)
        | \w+n['’]t (?!\s+(?:only|just|merely|simply)\b)
        | cannot | never (?!\s+(?:had|has|having)\s+(?:any\s+)?(?:issues?|problems?|trouble)\b)
        | neither | nor | without | zero | none | nothing\s+(?:on|in|with|around)
        | lack(?:s|ed|ing)?(?:\s+of)? | yet\s+to | except(?:\s+for)?
        | unfamiliar | weak(?:er)?\s+(?:in|on|at|with) | rusty\s+(?:in|on|with) | new\s+to
        | (?<!\ba\s)little | limited | minimal | scant | barely | hardly | shallow
        | basic\s+(?:knowledge|understanding|familiarity|exposure) | beginner | novice
        | (?:only\s+)?(?:read|heard)\s+(?:about|of) | theoretical | struggled?\s+with | gaps?\s*(?::|in\b)
        | (?<!machine\s)(?<!deep\s)learn(?:ing)? | pick(?:ing)?\s+up | get(?:ting)?\s+(?:into|hands-on)
        | ramp(?:ing)?[-\s]up | brush(?:ing)?\s+up | upskill(?:ing)? | dabbl(?:e|ed|es|ing)
        | tinker(?:s|ed|ing)? | toy(?:s|ed|ing)?\s+with | play(?:s|ed|ing)?\s+(?:around\s+)?with
        | experiment(?:s|ed|ing)?\s+with | explor(?:e|ing)
        | (?:wants?|wanted|would\s+(?:like|love)|['’]d\s+(?:like|love)|keen|eager|hop(?:es|ing)|plans?|planning
           |aspires?|aiming|looking)\s+to
        | interested\s+in | curious\s+about
    )\b""")

_POST_CUE = _rx(r"""
      (?:\s*[:(–—-]\s*|\s+) (?:no|none|nope|zero|n/a|learning|basic|beginner|weak|limited|not\s+yet) (?=\s*(?:[),.;!?]|$))
    | \s+(?:is|are|was|['’]s|would\s+be|will\s+be|remains?)\s+(?:(?:still|both|all|completely|totally|fairly|quite
         |pretty|relatively|very|a\s+bit|somewhat|a\s+little)\s+)*
         (?:new|a\s+gap|a\s+weak\s+spot|a\s+weakness|weak|limited|rusty|shaky|theoretical
         |not\s+(?:a|her|his|their)\s+(?:strength|thing|strong\s+suit)|on\s+(?:her|his|their)\s+(?:to-learn\s+|learning\s+)?list)\b
    | \s+(?:isn['’]t|aren['’]t|wasn['’]t|is\s+not|are\s+not)\b
    | ,?\s+not\s+(?:yet|so\s+much|really|much)\b
    | \s+only\s+(?:from|in|through|via)\s+(?:a\s+)?(?:\w+\s+)?(?:tutorials?|courses?|bootcamp|reading|books?|videos?)\b
    | \s+(?:is|are)\s+something\s+(?:she|he|they)\s+(?:wants?|would\s+like|hopes?|plans?)\s+to\b""")

_INHERIT = _rx(r"\s*(?:too|as\s+well|either)\b")
_LIST_GAP = _rx(r"(?:[\s,/&+()]|\b(?:or|and|nor|either|neither|any|even|let\s+alone|much\s+less|plus|with|in|on|of)\b)*")
_CONJ = _rx(r"\b(?:or|and|nor|plus)\b|[/&+]")
_WORD = re.compile(r"[\w'’-]+")
MAX_PRE_GAP, MAX_POST_GAP = 6, 3


def _list_chain(text: str, mentions: list[SkillMention], i: int, step: int) -> list[int]:
    """Indices of `mentions` joined to mentions[i] by a list, walking forward (+1) or back (-1)."""
    chain, gaps = [i], []
    j = i + step
    while 0 <= j < len(mentions):
        a, b = (mentions[j - step], mentions[j]) if step > 0 else (mentions[j], mentions[j - step])
        gap = text[a.end:b.start]
        if not _LIST_GAP.fullmatch(gap):
            break
        chain.append(j)
        gaps.append(gap)
        j += step
    ordered = gaps if step > 0 else gaps[::-1]
    # a comma-only gap joins the list only if a conjunction comes later in it
    keep = len(gaps)
    for n, gap in enumerate(gaps):
        later = ordered[n + 1:] if step > 0 else ordered[:len(gaps) - n - 1]
        if not _CONJ.search(gap) and not any(_CONJ.search(g) for g in (later if step > 0 else ordered[len(gaps) - n:])):
            keep = n
            break
    return chain[:keep + 1]


def _negated(text: str, mentions: list[SkillMention], start: int, end: int) -> dict[int, str]:
    """Index of each mention in this clause that a negation/hedge cue reaches -> cue surface."""
    inside = [i for i, m in enumerate(mentions) if m.start >= start and m.end <= end]
    if not inside:
        return {}
    local = [mentions[i] for i in inside]
    out: dict[int, str] = {}
    taken: list[tuple[int, int]] = []

    def overlaps_mention(a: int, b: int) -> bool:
        return any(m.start < b and a < m.end for m in local)

    for cue in _PRE_CUE.finditer(text, start, end):
        if overlaps_mention(cue.start(), cue.end()):
            continue
        first = next((k for k, m in enumerate(local) if m.start >= cue.end()), None)
        if first is None:
            continue
        gap = text[cue.end():local[first].start]
        if "," in gap or ":" in gap and not cue.group().endswith(":") or len(_WORD.findall(gap)) > MAX_PRE_GAP:
            continue
        taken.append(cue.span())
        for k in _list_chain(text, local, first, +1):
            out.setdefault(inside[k], cue.group())
    for cue in _POST_CUE.finditer(text, start, end):
        if any(a < cue.end() and cue.start() < b for a, b in taken) or overlaps_mention(cue.start(), cue.end()):
            continue
        last = next((k for k in range(len(local) - 1, -1, -1) if local[k].end <= cue.start()), None)
        if last is None:
            continue
        gap = text[local[last].end:cue.start()]
        if "," in gap or len(_WORD.findall(gap)) > MAX_POST_GAP:
            continue
        for k in _list_chain(text, local, last, -1):
            out.setdefault(inside[k], cue.group().strip(" ,:(–—-"))
    return out


# ---------------------------------------------------------------- readiness

_NUM = r"(?:\d{1,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+couple(?:\s+of)?|couple\s+of|a\s+few|few|several)"
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2, "few": 3, "several": 4}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_PERIOD = rf"""(?:(?P<mod>early|mid|late|(?:the\s+)?(?:end|beginning|start)\s+of)[\s-]+)?(?:the\s+)?
    (?: (?P<month>{_MONTH})(?:\s+(?P<mday>\d{{1,2}})(?:st|nd|rd|th)?)?(?:,?\s+(?P<myear>(?:19|20)\d\d))?
      | (?P<q>[qh][1-4])(?:\s*['’]?(?P<qyear>(?:19|20)?\d\d)\b)?
      | (?P<season>spring|summer|autumn|fall|winter)(?:\s+(?P<syear>(?:19|20)\d\d))?
      | (?P<year>(?:19|20)\d\d)
      | (?P<rel>next|this)\s+(?P<relunit>year|month|quarter|week|spring|summer|autumn|fall|winter)
      | (?P<newyear>new\s+year|holidays)
    )\b"""
_DURATION = rf"""(?P<n>{_NUM}|half\s+a)(?:\s*(?:-|–|to|or)\s*{_NUM})?\s+(?P<unit>day|week|month|quarter|year)s?"""
_CONTACT = r"""(?:check(?:ing)?\s+(?:back|in)|reach(?:ing)?\s+out|follow(?:ing)?[-\s]up|circle\s+back|touch\s+base
    |reconnect|revisit|ping(?:\s+(?:her|him|them))?|contact\s+(?:her|him|them)|call\s+(?:her|him|them)|try\s+again
    |(?:come|get)\s+back|(?:talk|speak|chat)(?:\s+again)?)"""

_TIMING = _rx(rf"""
      (?P<after_event>(?:after|once|when|not\s+(?:before|until)|until)\s+(?:the\s+|her\s+|his\s+|their\s+)?
          (?:[\w'’-]+\s+){{1,4}}?(?:in|at|around|during)\s+{_PERIOD})
    | (?P<after>(?:after|post)\s+{_PERIOD})
    | (?P<from>(?:not\s+(?:before|until|till)|no\s+earlier\s+than|until|till|from|starting(?:\s+(?:in|from))?|as\s+of
          |come)\s+{_PERIOD})
    | (?P<before>before\s+{_PERIOD})
    | (?P<bare>(?:{_CONTACT}\s+(?:again\s+)?(?:with\s+(?:her|him|them)\s+)?)?(?:in|by|around|during|at|over|for)?\s*{_PERIOD})
    | (?P<dur>(?:{_CONTACT}\s+(?:again\s+)?(?:with\s+(?:her|him|them)\s+)?)?
          (?:(?:in|within|give\s+it)\s+(?:about\s+|around\s+|roughly\s+|another\s+|the\s+next\s+)?{_DURATION}(?:['’]?\s+time)?
          |{_DURATION}\s+from\s+now))
    | (?P<vague>at\s+some\s+point|down\s+the\s+(?:line|road)|in\s+the\s+future|later\s+this\s+year)
    """)
_FUTURE = _rx(r"""\b(?:will|would|could|might|may|should|shall|going\s+to|gonna|plans?|planning|expects?|hop(?:e|es|ing)
    |wants?|check|reach|follow|circle|touch\s+base|reconnect|revisit|ping|contact|call|get\s+back|come\s+back|again
    |remind|available|open|free|ready|consider|considering|vest(?:s|ing)?|bonus|review|let['’]?s|asked|then|later)\b
    |['’]ll\b""")
_PAST = _rx(r"\b(?:\w+ed|was|were|joined|left|got|went|began|built|led|took|did|made|ran|had|became|grew)\s+(?:[\w'’-]+\s+){0,4}$")
_NEGATION_BEFORE = _rx(r"\b(?:not|no|never|\w+n['’]t)\b")

_NOT_LOOKING = _rx(r"""
      \b(?:not|isn['’]t|aren['’]t|never|no\s+longer)\s+(?:(?:really|currently|actively|at\s+all|at\s+the\s+moment
          |right\s+now|particularly|very|that|even)\s+)*
          (?:looking\b(?!\s+(?:at|into)\b)|interested\b(?!\s+in\s+(?!(?:a\s+|the\s+)?(?:move|moving|change|new|roles?
             |opportunit|leaving|offers|talking|hearing|the\s+role|this\s+role)))
          |open\s+to\s+(?:offers|a\s+move|moving|new|opportunities|a\s+change|leaving|talking)
          |considering\s+(?:a\s+move|moving|leaving|offers|a\s+change)|keen\s+(?:on|to)\s+(?:a\s+move|move|moving|leave|leaving)
          |thinking\s+(?:about|of)\s+(?:a\s+move|moving|leaving)|ready\s+to\s+(?:move|leave)|the\s+right\s+time)
    | \b(?:wouldn['’]t|would\s+not|won['’]t|will\s+not)\s+(?:consider|entertain|be\s+open|move|leave)\b
    | \b(?:happy|content|settled|comfortable)\s+(?:where\s+(?:she|he|they)\s+(?:is|are)|where\s+(?:she|he|they)['’](?:s|re)
          |in\s+(?:her|his|their)\s+(?:current\s+)?(?:role|job|team|position)|at\s+[A-Z][\w&.-]*|(?:to\s+)?stay(?:ing)?(?:\s+put)?)
    | \b(?:just|recently)\s+(?:got\s+|been\s+|was\s+)?promoted\b | \bjust\s+(?:joined|started\s+(?:at|a\s+new))\b
    | \bcommitted\s+to\s+(?:her|his|their|the)\s+(?:current\s+)?(?:team|role|company|employer|manager|project|mission)\b
    | \bstaying\s+put\b | \b(?:wants?|plans?|intends?)\s+to\s+stay\b
    | \bno\s+(?:interest|intention|plans?)\s+(?:in|of|to)\s+(?:moving|leaving|a\s+move|changing|move|leave)\b
    """)
_INTERESTED = _rx(r"""
      \bopen\s+to\s+(?:offers|new\s+(?:opportunities|roles|challenges|things)|opportunities|(?:a|the\s+idea\s+of\s+a)\s+
          (?:move|change|chat|conversation)|moving|hearing\s+(?:more|about)|conversations?|talking|chatting|exploring
          |the\s+right\s+(?:role|opportunity)|interesting\s+(?:roles|opportunities))
    | \bactively\s+(?:looking|searching|interviewing|exploring)\b | \binterviewing\s+(?:elsewhere|with\s+others|around)\b
    | \b(?:interested|up\s+for|keen)\s+(?:in|on)\s+(?:a\s+move|a\s+change|moving|new\s+(?:roles|opportunities)|hearing\s+more
          |the\s+role|this\s+role|the\s+(?:position|opportunity)|opportunities|talking|a\s+conversation|leaving)\b
    | \bwould\s+(?:consider|be\s+open|entertain|be\s+interested|be\s+keen|be\s+happy\s+to\s+(?:talk|chat))\b
    | \bkeen\s+to\s+(?:talk|chat|hear\s+more|meet|move|explore\s+(?:options|opportunities))\b
    | \b(?:exploring|testing)\s+(?:the\s+market|options|opportunities)\b
    | \blooking\s+(?:around|for\s+(?:a|her|his|their)\s+(?:next|new)\s+(?:role|challenge|step|move|job)|for\s+a\s+change
          |for\s+something\s+new)\b
    | \bready\s+(?:for|to\s+make)\s+a\s+(?:move|change)\b | \b(?:considering|thinking\s+about)\s+(?:a\s+move|moving|leaving|a\s+change)\b
    | \bwants?\s+to\s+(?:leave|move\s+on|make\s+a\s+move|switch\s+jobs)\b | \bhappy\s+to\s+(?:talk|chat|interview|meet)\b
    """)


def _month_end(d: date) -> date:
    return d + relativedelta(day=31)


def _period(m: re.Match[str], ref: date) -> Optional[tuple[Optional[int], date, int, Optional[str]]]:
    """The named period as (explicit year or None, start in ref's year, length in months, modifier)."""
    g = m.groupdict()
    mod = (g["mod"] or "").lower().replace("the ", "").split()[0] if g["mod"] else None
    if g["month"]:
        month = _MONTHS.index(g["month"][:3].lower()) + 1
        year = int(g["myear"]) if g["myear"] else None
        start = date(year or ref.year, month, 1)
        if g["mday"]:
            day = int(g["mday"])
            if not 1 <= day <= 31:
                return None
            return year, start + relativedelta(day=day), 0, None
        return year, start, 1, mod
    if g["q"]:
        n, half = int(g["q"][1]), g["q"][0].lower() == "h"
        if half and n > 2:
            return None
        qyear = g["qyear"]
        year = (int(qyear) + (2000 if len(qyear) == 2 else 0)) if qyear else None
        length = 6 if half else 3
        return year, date(year or ref.year, (n - 1) * length + 1, 1), length, mod
    if g["season"]:
        year = int(g["syear"]) if g["syear"] else None
        return year, date(year or ref.year, _SEASONS[g["season"].lower()], 1), 3, mod
    if g["year"]:
        return int(g["year"]), date(int(g["year"]), 1, 1), 12, mod
    if g["newyear"]:
        if g["newyear"].lower() == "holidays":
            return None, date(ref.year, 12, 20), 0, None  # ends on Jan 1: treated as a point then
        return ref.year + 1, date(ref.year + 1, 1, 1), 0, None
    unit = g["relunit"].lower()
    this = g["rel"].lower() == "this"
    if unit == "year":
        return ref.year + (0 if this else 1), date(ref.year + (0 if this else 1), 1, 1), 12, mod
    if unit == "month":
        start = ref.replace(day=1) + relativedelta(months=0 if this else 1)
        return start.year, start, 1, mod
    if unit == "quarter":
        start = date(ref.year, (ref.month - 1) // 3 * 3 + 1, 1) + relativedelta(months=0 if this else 3)
        return start.year, start, 3, mod
    if unit == "week":
        return ref.year, ref + timedelta(days=0 if this else 7), 0, None
    return None, date(ref.year, _SEASONS[unit], 1), 3, mod  # "next/this summer" = its next occurrence


def _anchor(start: date, length: int, mod: Optional[str], after: bool) -> date:
    """The date a period phrase points at; see the README table."""
    if after:
        if start.month == 12 and start.day == 20 and length == 0:  # "after the holidays"
            return date(start.year + 1, 1, 1)
        return start + (relativedelta(months=length) if length else timedelta(days=1))
    if length == 1:
        return {None: start, "early": start, "beginning": start, "start": start, "mid": start.replace(day=15),
                "late": start.replace(day=21), "end": _month_end(start)}[mod]
    offset = {None: 0, "early": 0, "beginning": 0, "start": 0, "mid": length // 2,
              "late": length * 3 // 4, "end": length - 1}[mod] if length else 0
    return start + relativedelta(months=offset)


def _resolve(m: re.Match[str], ref: date) -> Optional[date]:
    """Follow-up date for a timing match, strictly after the note's date.

    A named month/quarter/season without a year is its next occurrence. "in/by/from/not
    before/until <period>" and "after <event> in <period>" -> the period's start (with
    early/mid/late/end of: see `_anchor`); "after <period>" -> the day after it ends;
    "in N units" -> the note's date + N units (a couple = 2, a few = 3, several = 4,
    ranges take the lower bound).
    """
    kind = m.lastgroup
    if kind == "vague":
        return None
    if kind == "dur":
        raw = re.sub(r"\s+", " ", m.group("n").lower())
        n = 6 if raw == "half a" else int(raw) if raw.isdigit() else _NUMBERS[raw.split()[-1] if raw.split()[-1] != "of" else raw.split()[-2]]
        unit = m.group("unit").lower()
        if unit == "half a":
            unit = "month"
        months = {"month": n, "quarter": 3 * n, "year": 12 * n}.get(unit, 0)
        if raw == "half a":
            months = {"year": 6, "month": 0}.get(unit, 0)
            days = {"week": 3, "day": 0, "month": 15}.get(unit, 0)
            return ref + relativedelta(months=months, days=days) if months or days else None
        days = {"day": n, "week": 7 * n}.get(unit, 0)
        return ref + relativedelta(months=months, days=days) if n else None
    parsed = _period(m, ref)
    if parsed is None:
        return None
    year, start, length, mod = parsed
    after = kind == "after"
    if year is not None:
        found = _anchor(start, length, mod, after)
        return found if found > ref else None
    for bump in range(3):  # the next occurrence
        found = _anchor(start + relativedelta(years=bump), length, mod, after)
        if found > ref:
            return found
    return None


def _timing_cues(text: str, start: int, end: int, ref: date) -> list[tuple[int, int, Optional[date]]]:
    out = []
    for m in _TIMING.finditer(text, start, end):
        kind, s, e = m.lastgroup, m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        if s >= e:
            continue
        if kind in ("bare", "dur"):
            has_contact = re.match(_CONTACT, text[s:e], re.I | re.X)
            is_relative = m.group("rel") if kind == "bare" else None
            if kind == "bare" and not (m.group("mod") or is_relative or m.group("newyear") or
                                       re.match(r"(?:in|by|around|during|at|over|for)\b", text[s:e], re.I)):
                if not has_contact:
                    continue
            if not has_contact and not is_relative and not m.group(0).lower().endswith("from now"):
                clause = text[start:end]
                if not _FUTURE.search(clause) or _PAST.search(text[start:s]):
                    continue
        if kind == "before" and not _NEGATION_BEFORE.search(text[start:s]):
            continue
        resolved = _resolve(m, ref)
        if resolved is None and kind != "vague":
            continue
        out.append((s, e, resolved))
    return out


def _readiness(text: str, start: int, end: int, ref: date) -> list[ReadinessCue]:
    cues: list[ReadinessCue] = []
    negative = [m.span() for m in _NOT_LOOKING.finditer(text, start, end)]
    for a, b in negative:
        cues.append(ReadinessCue("not_looking", WEIGHTS["not_looking"], text[a:b], a, b, None))
    for m in _INTERESTED.finditer(text, start, end):
        a, b = m.span()
        if any(x < b and a < y for x, y in negative):
            continue
        neg = re.search(r"\b(?:not|never|no\s+longer|\w+n['’]t)\s+(?:\w+\s+){0,2}$", text[start:a], re.I)
        if neg:
            a = start + neg.start()
            cues.append(ReadinessCue("not_looking", WEIGHTS["not_looking"], text[a:b], a, b, None))
        else:
            cues.append(ReadinessCue("interested", WEIGHTS["interested"], text[a:b], a, b, None))
    for a, b, when in _timing_cues(text, start, end, ref):
        cues.append(ReadinessCue("timing", 0.0, text[a:b], a, b, when))
    return cues


# ---------------------------------------------------------------- entry point

def _drop_overlaps(cues: Iterable[ReadinessCue]) -> list[ReadinessCue]:
    kept: list[ReadinessCue] = []
    for cue in sorted(cues, key=lambda c: (c.kind, c.start, -(c.end - c.start))):
        if not any(k.kind == cue.kind and k.start < cue.end and cue.start < k.end for k in kept):
            kept.append(cue)
    return sorted(kept, key=lambda c: (c.start, c.end, c.kind))


def extract_note(text: str, occurred_at: datetime) -> NoteExtraction:
    ref = occurred_at.date()
    mentions = find_skill_mentions(text)
    negated: dict[int, str] = {}
    readiness: list[ReadinessCue] = []
    for s_start, s_end in _sentences(text):
        for c_start, c_end in _clauses(text, s_start, s_end):
            negated.update(_negated(text, mentions, c_start, c_end))
            readiness.extend(_readiness(text, c_start, c_end, ref))
        # "X too / as well / either" takes the polarity of the skill before it in the sentence
        in_sentence = [i for i, m in enumerate(mentions) if m.start >= s_start and m.end <= s_end]
        for prev, cur in zip(in_sentence, in_sentence[1:]):
            if cur not in negated and prev in negated and _INHERIT.match(text, mentions[cur].end):
                negated[cur] = negated[prev]
    skills = tuple(SkillEvidence(m.key, m.surface, m.start, m.end) for i, m in enumerate(mentions) if i not in negated)
    rejected = tuple(RejectedSkill(m.key, m.surface, m.start, m.end, negated[i])
                     for i, m in enumerate(mentions) if i in negated)
    return NoteExtraction(skills, rejected, tuple(_drop_overlaps(readiness)))
