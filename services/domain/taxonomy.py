"""The skill taxonomy and the one skill normaliser used everywhere.

Skills live in ``services/data/skills.json`` as ``{"name", "key", "category", "aliases"}``;
the key is the lowercased name ("C++" -> "c++", "Node.js" -> "node.js", "Go" -> "go").

``normalize_skill`` rules, tried in order; the first hit on a known name, key or alias wins:

1. Unicode NFKC + casefold, whitespace collapsed, surrounding punctuation stripped (a leading
   "." before a letter and trailing "+"/"#" are kept: ".NET", "C++", "C#").
2. Separators fold: "-", "_", ".", "/" and other punctuation become spaces ("React.js" ==
   "react js"), then spaces drop ("ReactJS" == "React JS"). Compact forms shorter than three
   characters are not indexed, so "MA" does not become "M&A".
3. A trailing version is stripped when what is left is a known skill: "Python 3", "python3.11",
   "Java 17", "Angular 2+", "C++17", "Node v18", "Terraform 1.x". Single-letter names keep
   their version ("C4" stays "c4"). Exact aliases win first, so "S3", "EC2", "K8s" and "ES6"
   (an alias of JavaScript, like ES5/ES2015) are never read as versions.
4. Unknown skills are kept, folded to lowercase words: "  Foo-Bar Toolkit!! " -> "foo bar
   toolkit" (a version suffix is kept too: "Foo 2" -> "foo 2").

Decisions: PySpark and Spark SQL are aliases of Spark (a search for Spark should find PySpark
users); AngularJS is an alias of Angular; ELT is an alias of ETL; job titles that name a skill
("data scientist") alias it.

``find_skill_mentions`` scans free text for names and aliases: case-insensitive, word-boundary
aware, leftmost-longest and non-overlapping ("Apache Kafka" is one mention of kafka). Surfaces
that are also ordinary English words ("go", "rust", "spring", "excel", "react", "node", ...)
only count when capitalised like a proper noun ("Go", "GO"); acronyms that spell a word
("rest", "sap", "rag", "bi", "safe", ...) only when their first two letters are capitals
("REST", "SAFe"). A capitalised word at the start of a sentence ("Go ahead") still matches;
that is the accepted cost. A version glued on ("Python3", "C++17") belongs to the mention,
except after a single letter ("C4", "R2" are not C or R).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

SKILLS_FILE = Path(__file__).parent / "data" / "skills.json"

# Mention-only rules (see module docstring). Entries are lowercase surfaces from skills.json.
_PROPER_NOUN_ONLY = frozenset("""
    go r c swift rust ruby dart elixir groovy bash elm lisp assembly apex solidity sass less
    react angular ember backbone node express flask rails spring phoenix bootstrap tailwind
    storybook babel electron qt unity unreal remix gatsby celery gin apollo jest mocha cypress
    selenium playwright puppeteer postman excel spark hive presto beam arrow iceberg parquet
    pulsar prefect snowflake oracle torch transformers chef puppet packer vagrant helm envoy
    consul vault nomad argo travis jenkins sentry prometheus lambda burp networking flutter
    ionic sketch framer blender illustrator lean notion intercom lever greenhouse
    workday gong amplitude asana confluence waterfall bloomberg
""".split()) | {"after effects"}
_ACRONYM_ONLY = frozenset("rest sap rag bi elk safe sas sem jax bq".split())

_VERSION = re.compile(r"^(?P<base>.+?)[\s\-_@]*v?\d+(?:\.(?:\d+|x))*\+?$")
_EDGES = re.compile(r"^(?:[^\w.]|\.(?!\w)|_)+|(?:[^\w+#]|_)+$")
_TOKEN = re.compile(r"[^\W_]+[+#]*")


@dataclass(frozen=True)
class SkillMention:
    key: str
    surface: str
    start: int
    end: int


def _fold(text: str) -> str:
    # casefold and NFKC can each undo the other's normal form; iterate to a fixpoint so the
    # normaliser stays idempotent on exotic input.
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    return text


def _light(raw: str) -> str:
    return _EDGES.sub("", " ".join(_fold(raw).split()))


def _loose(text: str) -> str:
    return " ".join(_TOKEN.findall(text))


def _forms(text: str) -> list[str]:
    """The lookup forms of an already light-folded string, strictest first."""
    loose = _loose(text)
    forms = [text, loose]
    compact = loose.replace(" ", "")
    if len(compact) >= 3:
        forms.append(compact)
    return forms


def _load() -> tuple[dict[str, dict], dict[str, str]]:
    skills = json.loads(SKILLS_FILE.read_text(encoding="utf-8"))
    by_key: dict[str, dict] = {}
    index: dict[str, str] = {}
    for skill in skills:
        key = skill["key"]
        if key in by_key or _light(key) != key:
            raise ValueError(f"skills.json: duplicate or non-canonical key {key!r}")
        by_key[key] = skill
    # Two passes so a skill's own light forms (its key, "c++", ".net") beat another skill's
    # looser forms; any remaining clash between two skills is a data error.
    for strict in (True, False):
        for skill in skills:
            for surface in (skill["key"], skill["name"], *skill["aliases"]):
                forms = _forms(_light(surface))
                for form in forms[:1] if strict else forms[1:]:
                    if index.setdefault(form, skill["key"]) != skill["key"]:
                        raise ValueError(f"skills.json: {form!r} maps to {index[form]!r} and {skill['key']!r}")
    return by_key, index


_SKILLS, _INDEX = _load()
_LABELS = sorted((skill["name"] for skill in _SKILLS.values()), key=str.lower)


def _lookup(text: str) -> Optional[str]:
    for form in _forms(text):
        if form in _INDEX:
            return _INDEX[form]
    return None


@lru_cache(maxsize=65536)
def normalize_skill(raw: str) -> str:
    """Canonical key of a raw skill string; unknown skills come back folded, never dropped."""
    light = _light(raw)
    loose = _loose(light)
    found = _lookup(light)
    # Versions are tried on both forms so that re-normalising an unknown result finds nothing new.
    for text in (light, loose):
        if found:
            break
        version = _VERSION.match(text)
        if version and len(base := version["base"]) >= 2 and (base[-1].isalpha() or base[-1] in "+#"):
            found = _lookup(base)
    return found or loose or light


def skill_label(key: str) -> str:
    skill = _SKILLS.get(key)
    return skill["name"] if skill else key


def skill_labels() -> list[str]:
    """Every skill's name, sorted (the role editor suggests from them)."""
    return _LABELS


def skill_category(key: str) -> Optional[str]:
    skill = _SKILLS.get(key)
    return skill["category"] if skill else None


def is_known_skill(key: str) -> bool:
    return key in _SKILLS


def canonical_skills(raws: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated in first-seen order; entries with nothing left are dropped."""
    return list(dict.fromkeys(key for key in map(normalize_skill, raws) if key))


# --- mentions in free text -------------------------------------------------------------

def _mention_fold(text: str) -> str:
    return re.sub(r"[\s-]+", " ", text.lower())


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many words, factored as a character trie so matching never tries
    alternatives one by one; greedy optional tails make the longest word win."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def atom(ch: str) -> str:
        if ch == " ":
            return r"[\s-]+"
        return f"[{ch.upper()}{ch}]" if ch.isalpha() else re.escape(ch)

    def walk(node: dict) -> str:
        ends = "" in node
        branches = [atom(ch) + walk(child) for ch, child in node.items() if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return walk(trie)


def _mention_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for key, skill in _SKILLS.items():
        for surface in (skill["name"], key, *skill["aliases"]):
            surface = _mention_fold(" ".join(surface.split()))
            if not surface.isascii() or index.setdefault(surface, key) != key:
                raise ValueError(f"skills.json: bad or ambiguous surface {surface!r}")
    unknown = (_PROPER_NOUN_ONLY | _ACRONYM_ONLY) - index.keys()
    if unknown:
        raise ValueError(f"taxonomy: ambiguity rules name unknown surfaces {sorted(unknown)}")
    return index


_SURFACES = _mention_index()
_GLUE = frozenset("&-'\u2019")
_MENTION = re.compile(
    r"(?<![\w.])(?P<skill>" + _trie_pattern(_SURFACES) + r")(?P<version>v?\d+(?:\.\d+)*\+?)?(?![\w+#]|\.\w)"
)


def find_skill_mentions(text: str) -> list[SkillMention]:
    """Every known skill named in ``text``, leftmost-longest, non-overlapping, by start."""
    mentions = []
    for match in _MENTION.finditer(text):
        said = match["skill"]
        surface = said.lower()
        if surface not in _SURFACES:
            surface = _mention_fold(surface)
        if surface in _PROPER_NOUN_ONLY and not said[0].isupper():
            continue
        if surface in _ACRONYM_ONLY and not said[:2].isupper():
            continue
        start, end = match.span()
        # A lone letter glued to a version or to "&", "-", "'" is not C or R: "C4", "R&D", "C-level".
        if len(surface) == 1 and (match["version"] or text[start - 1:start] in _GLUE or text[end:end + 1] in _GLUE):
            continue
        mentions.append(SkillMention(_SURFACES[surface], match[0], start, end))
    return mentions
