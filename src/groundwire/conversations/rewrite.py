"""The deterministic follow-up rewriter: a follow-up question -> a standalone query.

No model, no I/O, microseconds per call; the fallback whenever no LLM is configured (or the
LLM rewrite fails). Contract of ``rewrite_followup(question, previous)``:

* ``previous`` is the previous turn's *standalone* query (its own rewrite), so a chain of
  follow-ups keeps the subject of the first question; None on the first turn.
* A question that stands on its own is returned unchanged (method ``none``). It is treated as
  a follow-up (method ``rules``) when it has **anaphora** (it, they, this, those, he, his, ...),
  opens **elliptically** ("and ...", "what about ...", "how about ...", "same for ...") or is
  **very short** (at most two content words).
* Anaphora means the *referent* is missing: the previous query's named entities (runs of
  capitalised words) replace the first subject pronoun, or are appended when there is none
  to replace; without entities, its content words are appended. Ellipsis and very short
  questions miss the *predicate*: the previous entities and content words are appended
  ("what about Enterprise?" after "what does the Team plan cost?" -> "what about
  Enterprise? Team plan cost"). A new entity in the follow-up may be a new subject or the
  thing asked about ("and the MVP?"); the rules cannot tell, so the old subject is kept: an
  extra term costs retrieval less than a lost one.
* Nothing already in the question is added again; the result is at most ``MAX_QUERY_CHARS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from groundwire.text import WORD_WITH_APOSTROPHE

MAX_QUERY_CHARS = 2000
METHOD_NONE = "none"
METHOD_RULES = "rules"

# Pronouns whose referent is outside the question (possessives included).
SUBJECT_PRONOUNS = frozenset({"it", "they", "he", "she", "this", "that", "these", "those"})
ANAPHORA = SUBJECT_PRONOUNS | frozenset({
    "its", "them", "their", "theirs", "him", "his", "her", "hers", "there", "one", "ones",
})
POSSESSIVES = frozenset({"its", "their", "theirs", "his"})
# The pronouns a referent can stand in for ("there" and "one" are only appended to).
REPLACEABLE = SUBJECT_PRONOUNS | POSSESSIVES | frozenset({"them", "him", "her"})
_EXISTENTIAL = frozenset({"is", "are", "was", "were", "have", "has", "had", "be", "been"})
_VERBS_AFTER_THAT = frozenset({
    "is", "was", "are", "were", "does", "did", "do", "has", "have", "had", "will", "can",
    "could", "would", "should", "mean", "means", "happen", "happened", "cost", "costs", "one",
})
ELLIPTICAL_OPENERS = ("and ", "what about ", "how about ", "same for ", "and for ", "also ",
                      "what else", "anything else", "how so", "why so", "why not", "or ")
QUESTION_WORDS = frozenset({
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "does", "did", "do",
    "is", "are", "was", "were", "can", "could", "should", "would", "will", "tell", "about",
    "much", "many", "also", "else", "anything", "something", "please", "same", "more",
    "name", "give", "list", "explain", "describe", "mean", "means", "called",
})
ENTITY_JOINERS = frozenset({"of", "the", "de", "and", "for", "von", "van", "la", "du", "del"})
_WORD = WORD_WITH_APOSTROPHE


@dataclass(frozen=True, slots=True)
class Rewrite:
    """``query``: what retrieval uses; ``method``: ``none`` (the question as asked),
    ``rules`` or ``llm``; ``added``: the terms taken from the conversation."""

    query: str
    method: str
    added: tuple[str, ...] = ()


@cache
def stopwords() -> frozenset[str]:
    """English stop words (bm25s's list, imported on first use) and question words."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | QUESTION_WORDS | ANAPHORA


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry meaning (not stop or question words, 2+ letters, not
    pure numbers... numbers are kept: years and quantities are content), in order, once."""
    stop = stopwords()
    seen: dict[str, None] = {}
    for word in _WORD.findall(text):
        lowered = word.lower().strip("'-")
        if len(lowered) > 1 and lowered not in stop and lowered.removesuffix("'s") not in stop:
            seen.setdefault(word.strip("'-").removesuffix("'s"), None)
    return list(seen)


def entities(text: str) -> list[str]:
    """Runs of capitalised words (joined by of/the/de/... inside a run), minus stop words at
    their edges: ``"When did Super Bowl 50 take place?"`` -> ``["Super Bowl 50"]``."""
    stop = stopwords()
    runs: list[list[str]] = []
    current: list[str] = []
    for word in _WORD.findall(text):
        bare = word.removesuffix("'s")
        capital = bare[:1].isupper() and bare.lower() not in stop
        if capital or (current and (bare.isdigit() or bare.lower() in ENTITY_JOINERS)):
            current.append(bare)
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    found: dict[str, None] = {}
    for run in runs:
        while run and run[-1].lower() in ENTITY_JOINERS:
            run = run[:-1]
        if run:
            found.setdefault(" ".join(run), None)
    return list(found)


def anaphors(question: str) -> list[tuple[int, int, str]]:
    """The anaphoric pronouns of ``question`` as (start, end, lower-cased word), in order.
    "that" counts only as a pronoun (last word, or before a verb: "when was that?", "what
    does that mean?"), not as a conjunction ("who said that the war ended?"); "there" not
    when existential ("there are ...")."""
    found = []
    matches = list(_WORD.finditer(question))
    for i, match in enumerate(matches):
        word = match.group().lower()
        if word not in ANAPHORA:
            continue
        following = matches[i + 1].group().lower() if i + 1 < len(matches) else None
        if word == "that" and following is not None and following not in _VERBS_AFTER_THAT:
            continue
        if word == "there" and following in _EXISTENTIAL:
            continue  # "there are ...": existential, not a place referred to
        found.append((match.start(), match.end(), word))
    return found


def is_followup(question: str) -> bool:
    """Whether ``question`` leans on the conversation (see the module docstring)."""
    return bool(anaphors(question)) or _elliptical(question)


def _elliptical(question: str) -> bool:
    lowered = " ".join(question.lower().split())
    return lowered.startswith(ELLIPTICAL_OPENERS) or len(content_words(question)) <= 2


def rewrite_followup(question: str, previous: str | None) -> Rewrite:
    """The standalone query for ``question`` after the standalone query ``previous``."""
    question = " ".join(question.split())
    if not previous or not question or not is_followup(question):
        return Rewrite(question, METHOD_NONE)
    present = {w.lower() for w in _WORD.findall(question)}
    pronouns = anaphors(question)
    elliptical = _elliptical(question) if not pronouns else \
        " ".join(question.lower().split()).startswith(ELLIPTICAL_OPENERS)
    previous_entities = entities(previous)
    carried = [e for e in previous_entities if not {w.lower() for w in e.split()} <= present]
    query = question
    added: list[str] = []
    appended: list[str] = []
    replaceable = [p for p in pronouns if p[2] in REPLACEABLE]
    if replaceable and carried:
        start, end, word = replaceable[0]
        referent = carried.pop(0)
        replacement = f"{referent}'s" if word in POSSESSIVES else referent
        query = question[:start] + replacement + question[end:]
        added.append(referent)
    appended += carried
    if elliptical or not previous_entities:
        taken = {w.lower() for term in added + appended for w in term.split()}
        appended += [w for w in content_words(previous)
                     if w.lower() not in present and w.lower() not in taken]
    if not added and not appended:
        return Rewrite(question, METHOD_NONE)
    if appended:
        query = f"{query.rstrip()} {' '.join(appended)}"
    added += appended
    return Rewrite(query[:MAX_QUERY_CHARS], METHOD_RULES, tuple(added))


def standalone_chain(questions: list[str]) -> list[Rewrite]:
    """Each question of a conversation rewritten after the previous one's rewrite (how the
    rules see a whole ``messages`` list of a chat completion)."""
    rewrites: list[Rewrite] = []
    previous: str | None = None
    for question in questions:
        rewrite = rewrite_followup(question, previous)
        rewrites.append(rewrite)
        previous = rewrite.query
    return rewrites
