"""Interest cues: open to a move ("open to offers") or not looking ("happy where she is")."""
from __future__ import annotations

import re

from services.domain.notes.clauses import LOOK_BEHIND, rx
from services.domain.notes.model import ReadinessCue

NOT_LOOKING = rx(r"""(?=[a-z'’])(?:
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
INTERESTED = rx(r"""(?=[a-z'’])(?:
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
_NEGATED_BEFORE = rx(r"\b(?:not|never|no\s+longer|\w+n['’]t)\s+(?:\w+\s+){0,2}$")


def interest_cues(text: str, start: int, not_looking: list[re.Match[str]],
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
            cues.append(ReadinessCue("interested", text[a:b], a, b, None))
    return cues + [ReadinessCue("not_looking", text[a:b], a, b, None) for a, b in negative]
