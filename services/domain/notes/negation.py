"""Skills said positively vs skills negated or hedged.

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
from bisect import bisect_left
from typing import Optional

from services.domain.notes.clauses import BREAK_WORDS, rx
from services.domain.taxonomy import SkillMention

# A lookahead like "(?=[a-z'’])" at the start of a pattern lets `re` skip positions fast.
PRE_CUE = rx(r"""(?=[a-z'’])
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
POST_CUE = rx(rf"""(?=[\s,:(–—-])(?:
      (?:\s*[:(–—-]\s*|\s+) (?:no|none|nope|zero|n/a|learning|basic|beginner|weak|limited|not\s+yet|never(?:\s+used)?
          |not\s+used|no\s+experience) (?=[ \t]*(?:[),.;!?\n]|$)|,?\s+{BREAK_WORDS})
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
QUESTION_ANSWERED_NO = rx(r"\?(?=[ \t]*(?:no|none|nope|not\s+yet|never)[ \t]*(?:[.,;!\n]|$))")
_INHERIT = rx(r"\s*(?:too|as\s+well|either)\b")
_PRONOUN = rx(r"\s*(?:[\w'’-]+\s+){0,3}?\b(?:it|them)\s*$")
_LIST_GAP = rx(r"(?:[\s,/&+()]|\b(?:or|and|nor|either|neither|any|even|let\s+alone|much\s+less|plus|with|in|on|of)\b)*")
_CONJ = rx(r"\b(?:or|and|nor|plus)\b|[/&+]")
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


def negated_mentions(text: str, mentions: list[SkillMention], lo: int, hi: int, end: int,
                     antecedent: Optional[int], pre: list[re.Match[str]], post: list[re.Match[str]]) -> dict[int, str]:
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


def inherit_negation(text: str, mentions: list[SkillMention], sentences: list[tuple[int, int]],
                     negated: dict[int, str]) -> None:
    """A skill followed by "too" / "as well" / "either" takes the polarity of the skill before it in the
    sentence: adds it to `negated` (mention index -> cue) if that one is there."""
    starts = [m.start for m in mentions]
    for s_start, s_end in sentences:  # "Kubernetes is new to him, Terraform too"
        in_sentence = range(bisect_left(starts, s_start), bisect_left(starts, s_end))
        for prev, cur in zip(in_sentence, in_sentence[1:]):
            if prev in negated and cur not in negated and _INHERIT.match(text, mentions[cur].end):
                negated[cur] = negated[prev]
