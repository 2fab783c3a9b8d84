"""Interview-note extraction: skills said positively, skills negated or hedged, readiness cues.

Explainable by construction: each item carries the span of the note it came from
(`text[start:end] == surface`), and each rule is one of the small regexes below. Pure and
deterministic: the note's date is the only reference for relative dates.

Skills come from the taxonomy (`find_skill_mentions`). The note is split into sentences
(. ! ? ; newlines, inline " - " bullets), then clauses (before but / however / though /
although / whereas / while / otherwise / yet). A negation or hedge cue only reaches skills in
its own clause:
- a cue before a skill ("no", "not", "never", "-n't", "lacks", "without", "little exposure to",
  "wants to learn", "picking up", "interested in", "unfamiliar with", "weak in", ...) takes the
  first skill at most 6 words after it (no comma or colon between), then each skill joined to
  it by a list ("no Rust, Go or Terraform"). A bare comma continues the list only if an
  and/or/nor comes later in it, so "hasn't used Go, Kafka is her thing" keeps Kafka.
- a cue after a skill ("Rust: none", "Go is new to her", "Terraform, not so much") takes the
  skill at most 3 words before it, and the list that skill ends.
- a cue ending its clause in "it"/"them" ("Flink? Only read about it.") takes the last skill
  before it in this or the previous sentence.
- "X too / as well / either" takes the polarity of the skill before it in the sentence.
Not cues: "not only / not just", "no doubt / problem / issues / stranger to", "never had
problems", "never stopped". A wish or an aptitude to learn is not evidence: "no problem
picking up Go" rejects Go (the cue is "picking up"), as do "wants to", "interested in",
"curious about"; "wants to do more X" / "keep using X" presuppose experience and do not.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional

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
        follow_up = self.follow_up_on
        return {
            "skills": [asdict(s) for s in self.skills],
            "rejected": [asdict(r) for r in self.rejected],
            "readiness": [{**asdict(c), "follow_up_on": c.follow_up_on and c.follow_up_on.isoformat()}
                          for c in self.readiness],
            "follow_up_on": follow_up and follow_up.isoformat(),
        }


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.VERBOSE)


# ------------------------------------------------------------------ sentences and clauses

_SENTENCE_END = _rx(r"[.!?;]+(?=\s|$) | \n+ | \s[-–—•*]\s(?=(?-i:[A-Z]))")
_BREAK_WORDS = r"(?:but|however|though|although|whereas|while|otherwise)\b"
_CLAUSE_BREAK = _rx(rf",?\s+(?={_BREAK_WORDS}) | ,\s*(?=(?:and\s+)?yet\b)")


def _split(text: str, separators: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans of `text` between the (sorted) separator spans."""
    out, pos = [], 0
    for a, b in separators:
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < len(text):
        out.append((pos, len(text)))
    return out


# ------------------------------------------------------------------ skills

# A lookahead like "(?=[a-z'’])" at the start of a pattern lets `re` skip positions fast.
_PRE_CUE = _rx(r"""(?=[a-z'’])
    \b(?: no (?!\s+(?:doubt|problems?|issues?|trouble|stranger|question|complaints?|concerns?|shortage|slouch
                     |surprise|wonder|longer|red\s+flags?)\b)
        | not (?!\s+(?:only|just|merely|simply|to\s+mention|afraid|shy)\b)
        | (?=\w+['’]t\b)\w+n['’]t (?!\s+(?:only|just|merely|simply)\b)
        | cannot | never (?!\s+(?:(?:had|has|having)\s+(?:any\s+)?(?:issues?|problems?|trouble)|stopped|quit|gave\s+up)\b)
        | neither | nor | without | zero | none | nothing\s+(?:on|in|with|around)
        | lack(?:s|ed|ing)?(?:\s+of)? | yet\s+to | except(?:\s+for)?
        | unfamiliar | weak(?:er)?\s+(?:in|on|at|with) | rusty\s+(?:in|on|with) | new\s+to
        | (?<!\ba\s)little | limited | minimal | scant | barely | hardly | shallow
        | basic\s+(?:knowledge|understanding|familiarity|exposure) | beginner | novice
        | (?:only\s+)?(?:read|heard)\s+(?:about|of|up\s+on)
        | read\s+(?:the|some)(?=[^.;,]{0,40}\b(?:docs|documentation|books?|papers?|blogs?|articles?)\b)
        | theoretical | struggled?\s+with | gaps?\s*(?::|in\b)
        | (?<!machine\s)(?<!deep\s)learn(?:ing)? | pick(?:ing)?\s+up | get(?:ting)?\s+(?:into|hands-on)
        | ramp(?:ing)?[-\s]up | brush(?:ing)?\s+up | upskill(?:ing)? | dabbl(?:e|ed|es|ing)
        | tinker(?:s|ed|ing)? | toy(?:s|ed|ing)?\s+with | play(?:s|ed|ing)?\s+(?:around\s+)?with
        | experiment(?:s|ed|ing)?\s+with | explor(?:e|ing)
        | (?:wants?|wanted|would\s+(?:like|love)|['’]d\s+(?:like|love)|keen|eager|hop(?:es|ing)|plans?|planning
           |aspires?|aiming|looking)\s+to(?!\s+(?:(?:do|use|work\s+(?:with|on)|write)\s+more|keep|continue|stay)\b)
        | interested\s+in | curious\s+about
    )(?!\w)""")

# The first branch must end its clause; the whole note is scanned at once, so "the clause
# ends here" is punctuation, a line end, or a clause-break word.
_POST_CUE = _rx(rf"""(?=[\s,:(–—-])(?:
      (?:\s*[:(–—-]\s*|\s+) (?:no|none|nope|zero|n/a|learning|basic|beginner|weak|limited|not\s+yet|never(?:\s+used)?
          |not\s+used|no\s+experience) (?=[ \t]*(?:[),.;!?\n]|$)|,?\s+{_BREAK_WORDS})
    | \s+(?:is|are|was|['’]s|would\s+be|will\s+be|remains?)\s+(?:(?:still|both|all|completely|totally|fairly|quite
         |pretty|relatively|very|a\s+bit|somewhat|a\s+little|purely|mostly|only|largely)\s+)*
         (?:new|a\s+gap|a\s+weak\s+spot|a\s+weakness|weak|limited|rusty|shaky|theoretical|shallow|thin|patchy
         |superficial|basic|not\s+(?:a|her|his|their)\s+(?:strength|thing|strong\s+suit)
         |on\s+(?:her|his|their)\s+(?:to-learn\s+|learning\s+)?list)\b
    | \s+(?:isn['’]t|aren['’]t|wasn['’]t|is\s+not|are\s+not)\b
    | ,?\s+not\s+(?:yet|so\s+much|really|much)\b
    | \s+only\s+(?:from|in|through|via)\s+(?:a\s+)?(?:\w+\s+)?(?:tutorials?|courses?|bootcamp|reading|books?|videos?)\b
    | \s+(?:is|are)\s+something\s+(?:she|he|they)\s+(?:wants?|would\s+like|hopes?|plans?)\s+to\b)""")

# A question answered with a no ("Kafka? no.", "Rust? None") is one clause, not two sentences.
_QUESTION_ANSWERED_NO = _rx(r"\?(?=[ \t]*(?:no|none|nope|not\s+yet|never)[ \t]*(?:[.,;!\n]|$))")
_INHERIT = _rx(r"\s*(?:too|as\s+well|either)\b")
_PRONOUN = _rx(r"\s*(?:[\w'’-]+\s+){0,3}?\b(?:it|them)\s*$")
_LIST_GAP = _rx(r"(?:[\s,/&+()]|\b(?:or|and|nor|either|neither|any|even|let\s+alone|much\s+less|plus|with|in|on|of)\b)*")
_CONJ = _rx(r"\b(?:or|and|nor|plus)\b|[/&+]")
_WORD = re.compile(r"[\w'’-]+")
MAX_PRE_GAP, MAX_POST_GAP = 6, 3


def _list_chain(text: str, local: list[SkillMention], anchor: int, step: int) -> list[int]:
    """Mentions joined to local[anchor] by a list, walking forward (step=+1) or backward (-1)."""
    j = anchor
    while 0 <= j + step < len(local):
        a, b = sorted((j, j + step))
        if not _LIST_GAP.fullmatch(text, local[a].end, local[b].start):
            break
        j += step
    idx = list(range(min(anchor, j), max(anchor, j) + 1))
    conj = [bool(_CONJ.search(text, local[a].end, local[a + 1].start)) for a in idx[:-1]]
    ok = [c or any(conj[n + 1:]) for n, c in enumerate(conj)]  # a bare comma needs a later and/or
    if False not in ok:
        return idx
    if step > 0:
        return idx[:ok.index(False) + 1]
    return idx[len(ok) - ok[::-1].index(False):]


def _negated(text: str, mentions: list[SkillMention], lo: int, hi: int, end: int, antecedent: Optional[int],
             pre: list[re.Match[str]], post: list[re.Match[str]]) -> dict[int, str]:
    """Index of each mention that a cue of this clause reaches -> the cue's words.

    mentions[lo:hi] are the clause's own, `end` is where the clause ends, `antecedent` the last
    mention before the clause in this or the previous sentence.
    """
    local = mentions[lo:hi]
    starts = [m.start for m in local]
    out: dict[int, str] = {}
    used: list[tuple[int, int]] = []

    def in_a_mention(a: int, b: int) -> bool:
        k = bisect_left(starts, b) - 1
        return k >= 0 and local[k].end > a

    for cue in pre:
        if in_a_mention(*cue.span()):
            continue
        first = bisect_left(starts, cue.end())
        if first == len(local):
            if _PRONOUN.match(text, cue.end(), end):
                before = bisect_left(starts, cue.start())
                target = lo + before - 1 if before else antecedent
                if target is not None:
                    out.setdefault(target, cue.group())
            continue
        gap = text[cue.end():local[first].start]
        if "," in gap or ":" in gap or len(_WORD.findall(gap)) > MAX_PRE_GAP:
            continue
        used.append(cue.span())
        for k in _list_chain(text, local, first, +1):
            out.setdefault(lo + k, cue.group())
    for cue in post:
        last = bisect_left(starts, cue.start()) - 1
        if last < 0 or in_a_mention(*cue.span()) or any(a < cue.end() and cue.start() < b for a, b in used):
            continue
        gap = text[local[last].end:cue.start()]
        if "," in gap or ":" in gap or len(_WORD.findall(gap)) > MAX_POST_GAP:
            continue
        for k in _list_chain(text, local, last, -1):
            out.setdefault(lo + k, cue.group().strip(" ,:(–—-\t\n"))
    return out


# ------------------------------------------------------------------ interest

_NOT_LOOKING = _rx(r"""(?=[a-z'’])(?:
      \b(?:not|isn['’]t|aren['’]t|never|no\s+longer)\s+(?:(?:really|currently|actively|at\s+all|at\s+the\s+moment
          |right\s+now|particularly|very|that|even)\s+)*
          (?:looking\b(?!\s+into\b)(?!\s+at\s+(?!the\s+moment\b|present\b))
          |interested\b(?!\s+in\s+(?!(?:a\s+|the\s+)?(?:move|moving|change|new|roles?|opportunit|leaving|offers
             |talking|hearing|the\s+role|this\s+role)))
          |open\s+to\s+(?:offers|a\s+move|moving|new|opportunities|a\s+change|leaving|talking)
          |considering\s+(?:a\s+move|moving|leaving|offers|a\s+change)
          |keen\s+(?:on|to)\s+(?:a\s+move|move|moving|leave|leaving)
          |thinking\s+(?:about|of)\s+(?:a\s+move|moving|leaving)|ready\s+to\s+(?:move|leave)|the\s+right\s+time)
    | \b(?:wouldn['’]t|would\s+not|won['’]t|will\s+not)\s+(?:consider|entertain|be\s+open|move|leave)\b
    | \b(?:happy|content|settled|comfortable)\s+(?:where\s+(?:she|he|they)\s+(?:is|are)|where\s+(?:she|he|they)['’](?:s|re)
          |in\s+(?:her|his|their)\s+(?:current\s+)?(?:role|job|team|position)|at\s+(?-i:[A-Z])[\w&.-]*\b(?!\s+to\b)
          |(?:to\s+)?stay(?:ing)?(?:\s+put)?)
    | \b(?:(?:just|recently)\s+(?:got\s+|been\s+|was\s+)?|was\s+|got\s+)promoted\b
    | \bpromoted\s+(?:in|last|this|recently|a\s+few)\b | \bjust\s+(?:joined|started\s+(?:at|a\s+new))\b
    | \b(?:seems|is|feels|looks)\s+(?:very\s+|quite\s+|pretty\s+|fairly\s+)?(?:settled|content)\b
    | \bcommitted\s+to\s+(?:her|his|their|the)\s+(?:current\s+)?(?:team|role|company|employer|manager|project|mission)\b
    | \b(?:not|isn['’]t|aren['’]t)\s+(?:really\s+)?(?:on|in)\s+the\s+market\b | \boff\s+the\s+market\b
    | \bstaying\s+put\b | \b(?:wants?|plans?|intends?)\s+to\s+stay\b(?!\s+an?\b)
    | \bno\s+(?:interest|intention|plans?)\s+(?:in|of|to)\s+(?:moving|leaving|a\s+move|changing|move|leave)\b
    )""")
_INTERESTED = _rx(r"""(?=[a-z'’])(?:
      \bopen\s+to\s+(?:offers|new\s+(?:opportunities|roles|challenges|things)|opportunities
          |(?:a|the\s+idea\s+of\s+a)\s+(?:move|change|chat|conversation)|moving|hearing\s+(?:more|about)|conversations?
          |talking|chatting|exploring|the\s+right\s+(?:role|opportunity)|interesting\s+(?:roles|opportunities))\b
    | \bactively\s+(?:looking|searching|interviewing|exploring)\b | \binterviewing\s+(?:elsewhere|with\s+others|around)\b
    | \b(?:interested|up\s+for|keen)\s+(?:in|on)\s+(?:a\s+move|a\s+change|moving|new\s+(?:roles|opportunities)
          |hearing\s+more|the\s+role|this\s+role|the\s+(?:position|opportunity)|opportunities|talking|a\s+conversation
          |leaving)\b
    | \b(?:would|['’]d)\s+(?:consider|be\s+open|entertain|be\s+interested|be\s+keen|be\s+happy\s+to\s+(?:talk|chat))\b
    | \bkeen\s+to\s+(?:talk|chat|hear\s+more|meet|move|explore\s+(?:options|opportunities))\b
    | \b(?:exploring|testing)\s+(?:the\s+market|options|opportunities)\b
    | \blooking\s+(?:around|for\s+(?:a|her|his|their)\s+(?:next|new)\s+(?:role|challenge|step|move|job)
          |for\s+a\s+change|for\s+something\s+new)\b
    | \bready\s+(?:for\s+a\s+(?:move|change)|to\s+(?:move|leave|make\s+a\s+move))\b
    | \b(?:considering|thinking\s+about)\s+(?:a\s+move|moving|leaving|a\s+change)\b
    | \bwants?\s+to\s+(?:leave|move\s+on|make\s+a\s+move|switch\s+jobs)\b
    | \b(?:(?:would|['’]d)\s+(?:like|love)|wants?|keen)\s+to\s+(?:hear\s+more\b|(?:learn|know)\s+more\s+about
          \s+(?:the|this|our|your)\s+(?:role|position|opportunity|team|company)\b)
    | \bhappy\s+to\s+(?:talk|chat|interview|meet)\b
    )""")
_NEGATED_BEFORE = _rx(r"\b(?:not|never|no\s+longer|\w+n['’]t)\s+(?:\w+\s+){0,2}$")
LOOK_BEHIND = 120  # chars searched before a phrase for its lead-in: keeps long notes linear


def _interest(text: str, start: int, not_looking: list[re.Match[str]],
              interested: list[re.Match[str]]) -> list[ReadinessCue]:
    negative = [m.span() for m in not_looking]
    cues = []
    for m in interested:
        a, b = m.span()
        if any(x < b and a < y for x, y in negative):
            continue
        neg = _NEGATED_BEFORE.search(text, max(start, a - LOOK_BEHIND), a)  # "isn't actively looking"
        if neg:
            negative.append((neg.start(), b))
        else:
            cues.append(ReadinessCue("interested", WEIGHTS["interested"], text[a:b], a, b, None))
    return cues + [ReadinessCue("not_looking", WEIGHTS["not_looking"], text[a:b], a, b, None) for a, b in negative]


# ------------------------------------------------------------------ timing
#
# A follow-up date is resolved against the note's date and is always after it:
# - "in/within N days|weeks|months|quarters|years", "N months from now", "give it a year":
#   note date + N units (a couple = 2, a few = 3, several = 4, half a year = 6 months;
#   a range "3-6 months" or "a month or two" takes its lower bound).
# - a month, quarter (Q1-Q4), half (H1/H2) or season (northern hemisphere: spring = March,
#   summer = June, autumn = September, winter = December) named without a year: its next
#   occurrence, i.e. the first such date after the note ("in March" written in March = next year).
# - "in/by/from/until/not before/not until <period>": the period's first day; "early/mid/late/
#   end of" move into it (month: 1st/15th/21st/last day; longer periods: the first day of the
#   month 0, 1/2 or 3/4 of the way in, or of the last month: "end of Q3" = Sep 1, "late 2026" =
#   Oct 1, "end of the year" = Dec 1).
# - "after <period>": the day after it ends ("after the summer" = Sep 1, "after Q3" = Oct 1,
#   "after March 15" = Mar 16, "after the holidays" = Jan 1).
# - "after/once/until <event> in <period>": the period's first day, the event's earliest date
#   ("after her vesting in Q3" = Jul 1, "after the bonus in March" = Mar 1).
# - next week = +7 days; next month/quarter/year = its first day; "the new year" = Jan 1.
# A bare "in March" / "in 6 months" needs a contact verb before it ("check back", "reach out")
# or a forward-looking word in its clause, and no past-tense verb just before it ("promoted in
# March", "shipped it in 6 months" are not follow-ups).

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"""jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?
    |nov(?:ember)?|dec(?:ember)?"""
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2, "few": 3, "several": 4}
_NUM = r"\d{1,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+couple(?:\s+of)?|couple\s+of|a\s+few|few|several"
_YEAR = r"(?:19|20)\d\d"

_PERIOD = _rx(rf"""(?=[a-z0-9])\b(?:(?P<mod>early|mid|late|(?:the\s+)?(?:end|beginning|start)\s+of)[\s-]+)?(?:the\s+)?
    (?: (?P<iso>{_YEAR}-[01]\d-[0-3]\d)
      | (?P<month>{_MONTH})(?:\s+(?P<mday>\d{{1,2}})(?:st|nd|rd|th)?)?(?:,?\s+(?P<myear>{_YEAR}))?
      | (?P<q>[qh][1-4])(?:\s+(?P<qyear>{_YEAR})|\s*['’](?P<qyy>\d\d))?
      | (?P<season>spring|summer|autumn|fall|winter)(?:\s+(?P<syear>{_YEAR}))?
      | (?P<year>{_YEAR})
      | (?P<rel>next|this)\s+(?P<unit>year|month|quarter|week|spring|summer|autumn|fall|winter)
      | (?P<the>the)\s+(?P<the_unit>year|month|quarter)
      | (?P<newyear>new\s+year|holidays)
    )\b""")
_DURATION = _rx(rf"""(?=[a-z0-9])\b(?:(?P<n>{_NUM})(?:\s*(?:-|–|to|or)\s*(?:{_NUM}))?\s+(?P<unit>day|week|month|quarter|year)s?
    | (?P<half>half\s+a\s+year))(?P<from_now>\s+from\s+now)?(?:['’]?\s+time)?\b""")
_VAGUE = _rx(r"\b(?:at\s+some\s+point|down\s+the\s+(?:line|road)|in\s+the\s+future|later\s+this\s+year)\b")

_CONTACT = r"""(?:check(?:ing)?\s+(?:back|in)|reach(?:ing)?\s+out|follow(?:ing)?[-\s]up|circle\s+back|touch\s+base
    |reconnect|revisit|ping(?:\s+(?:her|him|them))?|contact\s+(?:her|him|them)|call\s+(?:her|him|them)|try\s+again
    |(?:come|get)\s+back|(?:talk|speak|chat)(?:\s+again)?)(?:\s+again)?(?:\s+with\s+(?:her|him|them))?(?:\s+about\s+it)?\s+"""
_LEAD_EVENT = _rx(r"\b(?:after|once|not\s+(?:before|until)|until)\s+(?:[\w'’-]+\s+){1,5}?(?:in|at|around|during)\s+$")
_LEAD_AFTER = _rx(r"\b(?:after|post)\s+$")
_LEAD_FROM = _rx(r"""\b(?:not\s+(?:before|until|till)|no\s+earlier\s+than|until|till|from|starting(?:\s+(?:in|from))?
    |as\s+of|come)\s+$""")
_LEAD_BEFORE = _rx(r"\bbefore\s+$")
_LEAD_BARE = _rx(rf"""(?:(?P<contact>{_CONTACT}))?(?P<give>give\s+it\s+)?
    (?P<hold>(?:contacted|approached|pinged|called|contact|outreach|reach\s+out)(?:\s+(?:her|him|them))?\s+for\s+
        (?:(?:the\s+next|another)\s+)?)?
    (?P<prep>(?:in|by|around|during|at|over|on|within)\s+(?:(?:about|around|roughly|another|the\s+next|the\s+coming)\s+)?)?$""")
_FUTURE = _rx(r"""\b(?:will|would|could|might|may|should|shall|going\s+to|gonna|plans?|planning|expects?|hop(?:e|es|ing)
    |wants?|check|reach|follow|circle|touch\s+base|reconnect|revisit|ping|contact|call|get\s+back|come\s+back|again
    |remind|available|open|free|ready|consider|considering|vest(?:s|ing)?|bonus|review|let['’]?s|asked|then|later
    |can|start|starts|notice)\b
    |['’]ll\b""")
_PAST = _rx(r"""\b(?:\w+(?<!ne)(?<!ee)ed|was|were|joined|left|got|went|began|built|led|took|did|made|ran|had|became)
    \s+(?:[\w'’-]+\s+){0,4}$""")
_NEGATION = _rx(r"\b(?:not|no|never|\w+n['’]t)\b")


def _period(m: re.Match[str], ref: date) -> Optional[tuple[date, date, bool]]:
    """(start, end exclusive, year fixed?) of the period a _PERIOD match names, in ref's year if no year is given."""
    g = m.groupdict()
    if g["iso"]:
        start = date.fromisoformat(g["iso"])
        return start, start + timedelta(days=1), True
    if g["month"]:
        start = date(int(g["myear"] or ref.year), _MONTHS.index(g["month"][:3].lower()) + 1, 1)
        if g["mday"]:
            if not 1 <= int(g["mday"]) <= 31:
                return None
            start += relativedelta(day=int(g["mday"]))
            return start, start + timedelta(days=1), bool(g["myear"])
        return start, start + relativedelta(months=1), bool(g["myear"])
    if g["q"]:
        n, months = int(g["q"][1]), 6 if g["q"][0] in "hH" else 3
        if n * months > 12:
            return None
        year = int(g["qyear"]) if g["qyear"] else 2000 + int(g["qyy"]) if g["qyy"] else ref.year
        start = date(year, (n - 1) * months + 1, 1)
        return start, start + relativedelta(months=months), bool(g["qyear"] or g["qyy"])
    if g["season"]:
        start = date(int(g["syear"] or ref.year), _SEASONS[g["season"].lower()], 1)
        return start, start + relativedelta(months=3), bool(g["syear"])
    if g["year"]:
        return date(int(g["year"]), 1, 1), date(int(g["year"]) + 1, 1, 1), True
    if g["newyear"]:
        if g["newyear"].lower() == "holidays":
            return date(ref.year, 12, 20), date(ref.year + 1, 1, 1), False
        return date(ref.year + 1, 1, 1), date(ref.year + 1, 1, 1), True
    unit = (g["unit"] or g["the_unit"]).lower()
    step = 1 if g["rel"] and g["rel"].lower() == "next" else 0
    if unit == "week":
        start = ref + timedelta(days=7 * step)
        return start, start + timedelta(days=1), True
    if unit in _SEASONS:  # "next summer" is the next occurrence, "this summer" this year's
        start = date(ref.year, _SEASONS[unit], 1)
        return start, start + relativedelta(months=3), not step
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    first = date(ref.year, (ref.month - 1) // months * months + 1, 1)
    start = first + relativedelta(months=months * step)
    return start, start + relativedelta(months=months), True


def _anchor(start: date, end: date, mod: Optional[str]) -> date:
    """Where early / mid / late / end of put a date inside a period; no modifier: its start."""
    mod = mod.lower().split()[-2] if mod and " " in mod else (mod or "").lower()
    months = (end.year - start.year) * 12 + end.month - start.month
    if months == 1 and start.day == 1:
        return {"mid": start.replace(day=15), "late": start.replace(day=21),
                "end": start + relativedelta(day=31)}.get(mod, start)
    offset = {"mid": months // 2, "late": months * 3 // 4, "end": months - 1}.get(mod, 0)
    return start + relativedelta(months=offset)


def _resolve_period(m: re.Match[str], ref: date, after: bool) -> Optional[date]:
    found = _period(m, ref)
    if found is None:
        return None
    start, end, fixed = found
    for years in (0,) if fixed else (0, 1, 2):  # the next occurrence after the note
        shift = relativedelta(years=years)
        day = end + shift if after else _anchor(start + shift, end + shift, m["mod"])
        if day > ref:
            return day
    return None


def _resolve_duration(m: re.Match[str], ref: date) -> Optional[date]:
    if m["half"]:
        return ref + relativedelta(months=6)
    raw = m["n"].lower()
    n = int(raw) if raw.isdigit() else _NUMBERS[[w for w in raw.split() if w != "of"][-1]]
    unit = m["unit"].lower()
    if n == 0:
        return None
    if unit in ("day", "week"):
        return ref + timedelta(days=n * (7 if unit == "week" else 1))
    return ref + relativedelta(months=n * {"month": 1, "quarter": 3, "year": 12}[unit])


def _safe(resolve: Callable[..., Optional[date]], *args: Any) -> Optional[date]:
    try:
        return resolve(*args)
    except (ValueError, OverflowError):  # an invalid ISO date, a year past 9999
        return None


def _timing(text: str, start: int, end: int, ref: date, periods: list[re.Match[str]],
            durations: list[re.Match[str]], vague: list[re.Match[str]]) -> list[ReadinessCue]:
    def lead(rx: re.Pattern[str], at: int) -> Optional[re.Match[str]]:
        return rx.search(text, max(start, at - LOOK_BEHIND), at)

    def forward_looking(at: int) -> bool:
        return bool(_FUTURE.search(text, start, end)) and not lead(_PAST, at)

    found: list[tuple[int, int, Optional[date]]] = []
    for m in periods:
        if intro := lead(_LEAD_EVENT, m.start()):
            found.append((intro.start(), m.end(), _safe(_resolve_period, m, ref, False)))
        elif intro := lead(_LEAD_AFTER, m.start()):
            found.append((intro.start(), m.end(), _safe(_resolve_period, m, ref, True)))
        elif intro := lead(_LEAD_FROM, m.start()) or (
                lead(_LEAD_BEFORE, m.start()) if _NEGATION.search(text, start, m.start()) else None):
            found.append((intro.start(), m.end(), _safe(_resolve_period, m, ref, False)))  # ^ "not ... before March"
        else:
            intro = lead(_LEAD_BARE, m.start())
            sure = intro["contact"] or m["rel"] or m["the"] or m["newyear"] or (
                m["myear"] or m["qyear"] or m["qyy"] or m["syear"] or m["year"] or m["iso"])
            if (intro["contact"] or intro["prep"] or m["rel"] or m["mod"]) and (sure or forward_looking(intro.start())):
                found.append((intro.start(), m.end(), _safe(_resolve_period, m, ref, False)))
    for m in durations:
        intro = lead(_LEAD_BARE, m.start())
        hold = intro["hold"] and _NEGATION.search(text, start, intro.start())  # "not to be contacted for 6 months"
        if intro["contact"] or intro["give"] or hold or m["from_now"] or (intro["prep"] and forward_looking(intro.start())):
            found.append((intro.start(), m.end(), _safe(_resolve_duration, m, ref)))
    found = [f for f in found if f[2] is not None]  # a date phrase in the past resolves to None
    found += [(m.start(), m.end(), None) for m in vague]
    cues: list[ReadinessCue] = []
    for a, b, day in sorted(found, key=lambda f: (f[0], -f[1])):
        if not cues or a >= cues[-1].end:  # overlapping phrases: keep the earlier, longer one
            cues.append(ReadinessCue("timing", 0.0, text[a:b], a, b, day))
    return cues


# ------------------------------------------------------------------ entry point

def _by_clause(rx: re.Pattern[str], text: str, clauses: list[tuple[int, int]],
               clause_starts: list[int]) -> dict[int, list[re.Match[str]]]:
    """Matches of one pattern over the whole note, grouped by the clause that holds each whole."""
    out: dict[int, list[re.Match[str]]] = defaultdict(list)
    for m in rx.finditer(text):
        k = bisect_right(clause_starts, m.start()) - 1
        if k >= 0 and m.end() <= clauses[k][1]:
            out[k].append(m)
    return out


def extract_note(text: str, occurred_at: datetime) -> NoteExtraction:
    text = _QUESTION_ANSWERED_NO.sub(":", text)  # "Kafka? no." reads as "Kafka: no." (same length)
    ref = occurred_at.date()
    mentions = find_skill_mentions(text)
    starts = [m.start for m in mentions]
    sentence_ends = [m.span() for m in _SENTENCE_END.finditer(text)]
    sentences = _split(text, sentence_ends)
    clauses = _split(text, sorted(sentence_ends + [m.span() for m in _CLAUSE_BREAK.finditer(text)]))
    sentence_starts = [s[0] for s in sentences]
    sentence_of = [bisect_right(sentence_starts, c_start) - 1 for c_start, _ in clauses]
    clause_starts = [c[0] for c in clauses]
    found = {name: _by_clause(rx, text, clauses, clause_starts) for name, rx in (
        ("pre", _PRE_CUE), ("post", _POST_CUE), ("not_looking", _NOT_LOOKING), ("interested", _INTERESTED),
        ("period", _PERIOD), ("duration", _DURATION), ("vague", _VAGUE))}

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
            negated.update(_negated(text, mentions, lo, hi, c_end, antecedent, found["pre"][k], found["post"][k]))
        readiness += _interest(text, c_start, found["not_looking"][k], found["interested"][k])
        if found["period"].get(k) or found["duration"].get(k) or found["vague"].get(k):
            readiness += _timing(text, c_start, c_end, ref, found["period"][k], found["duration"][k], found["vague"][k])
    for s_start, s_end in sentences:  # "Kubernetes is new to him, Terraform too"
        in_sentence = range(bisect_left(starts, s_start), bisect_left(starts, s_end))
        for prev, cur in zip(in_sentence, in_sentence[1:]):
            if prev in negated and cur not in negated and _INHERIT.match(text, mentions[cur].end):
                negated[cur] = negated[prev]
    return NoteExtraction(
        skills=tuple(SkillEvidence(m.key, m.surface, m.start, m.end)
                     for i, m in enumerate(mentions) if i not in negated),
        rejected=tuple(RejectedSkill(m.key, m.surface, m.start, m.end, negated[i])
                       for i, m in enumerate(mentions) if i in negated),
        readiness=tuple(sorted(readiness, key=lambda c: (c.start, c.end))),
    )
