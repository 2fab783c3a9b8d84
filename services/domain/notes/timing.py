"""Timing cues: follow-up dates and vaguer "at some point" phrases, resolved against the note's date."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Callable, Optional

from dateutil.relativedelta import relativedelta

from services.domain.notes.clauses import LOOK_BEHIND, rx
from services.domain.notes.model import ReadinessCue

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

PERIOD = rx(rf"""(?=[a-z0-9])\b(?:(?P<mod>early|mid|late|(?:the\s+)?(?:end|beginning|start)\s+of)[\s-]+)?(?:the\s+)?
    (?: (?P<iso>{_YEAR}-[01]\d-[0-3]\d)
      | (?P<month>{_MONTH})(?:\s+(?P<mday>\d{{1,2}})(?:st|nd|rd|th)?)?(?:,?\s+(?P<myear>{_YEAR}))?
      | (?P<q>[qh][1-4])(?:\s+(?P<qyear>{_YEAR})|\s*['’](?P<qyy>\d\d))?
      | (?P<season>spring|summer|autumn|fall|winter)(?:\s+(?P<syear>{_YEAR}))?
      | (?P<year>{_YEAR})
      | (?P<rel>next|this)\s+(?P<unit>year|month|quarter|week|spring|summer|autumn|fall|winter)
      | (?P<the>the)\s+(?P<the_unit>year|month|quarter)
      | (?P<newyear>new\s+year|holidays)
    )\b""")
DURATION = rx(rf"""(?=[a-z0-9])\b(?:(?P<n>{_NUM})(?:\s*(?:-|–|to|or)\s*(?:{_NUM}))?\s+(?P<unit>day|week|month|quarter|year)s?
    | (?P<half>half\s+a\s+year))(?P<from_now>\s+from\s+now)?(?:['’]?\s+time)?\b""")
VAGUE = rx(r"\b(?:at\s+some\s+point|down\s+the\s+(?:line|road)|in\s+the\s+future|later\s+this\s+year)\b")

_CONTACT = r"""(?:check(?:ing)?\s+(?:back|in)|reach(?:ing)?\s+out|follow(?:ing)?[-\s]up|circle\s+back|touch\s+base
    |reconnect|revisit|ping(?:\s+(?:her|him|them))?|contact\s+(?:her|him|them)|call\s+(?:her|him|them)|try\s+again
    |(?:come|get)\s+back|(?:talk|speak|chat)(?:\s+again)?)(?:\s+again)?(?:\s+with\s+(?:her|him|them))?(?:\s+about\s+it)?\s+"""
_LEAD_EVENT = rx(r"\b(?:after|once|not\s+(?:before|until)|until)\s+(?:[\w'’-]+\s+){1,5}?(?:in|at|around|during)\s+$")
_LEAD_AFTER = rx(r"\b(?:after|post)\s+$")
_LEAD_FROM = rx(r"""\b(?:not\s+(?:before|until|till)|no\s+earlier\s+than|until|till|from|starting(?:\s+(?:in|from))?
    |as\s+of|come)\s+$""")
_LEAD_BEFORE = rx(r"\bbefore\s+$")
_LEAD_BARE = rx(rf"""(?:(?P<contact>{_CONTACT}))?(?P<give>give\s+it\s+)?
    (?P<hold>(?:contacted|approached|pinged|called|contact|outreach|reach\s+out)(?:\s+(?:her|him|them))?\s+for\s+
        (?:(?:the\s+next|another)\s+)?)?
    (?P<prep>(?:in|by|around|during|at|over|on|within)\s+(?:(?:about|around|roughly|another|the\s+next|the\s+coming)\s+)?)?$""")
_FUTURE = rx(r"""\b(?:will|would|could|might|may|should|shall|going\s+to|gonna|plans?|planning|expects?|hop(?:e|es|ing)
    |wants?|check|reach|follow|circle|touch\s+base|reconnect|revisit|ping|contact|call|get\s+back|come\s+back|again
    |remind|available|open|free|ready|consider|considering|vest(?:s|ing)?|bonus|review|let['’]?s|asked|then|later
    |can|start|starts|notice)\b
    |['’]ll\b""")
_PAST = rx(r"""\b(?:\w+(?<!ne)(?<!ee)ed|was|were|joined|left|got|went|began|built|led|took|did|made|ran|had|became)
    \s+(?:[\w'’-]+\s+){0,4}$""")
_NEGATION = rx(r"\b(?:not|no|never|\w+n['’]t)\b")


def _period(m: re.Match[str], ref: date) -> Optional[tuple[date, date, bool]]:
    """(start, end exclusive, year fixed?) of the period a PERIOD match names, in ref's year if no year is given."""
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


def timing_cues(text: str, start: int, end: int, ref: date, periods: list[re.Match[str]],
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
            cues.append(ReadinessCue("timing", text[a:b], a, b, day))
    return cues
