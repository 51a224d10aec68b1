"""Prompt-injection signals in documents: instruction-like text aimed at a model, and text a
human reader of an HTML page would not see.

Contract::

    find_instructions(text) -> list[InjectionFinding]   # sorted by start, disjoint
    find_hidden_html(html) -> list[InjectionFinding]    # sorted by start

``InjectionFinding.kind`` is one of:

* ``"instruction"`` — text addressed to a model: overrides ("ignore all previous
  instructions"), system-prompt extraction ("reveal your system prompt"), persona jailbreaks
  ("you are now DAN"), chat-template role tags (``<|im_start|>system``, ``[INST]``,
  ``### Instruction:``, ``SYSTEM:`` at a line start) and exfiltration requests (send the
  conversation to a URL, markdown images whose URL carries data).
* ``"hidden_html"`` — an element whose text is present in the page but not shown: inline or
  ``<style>`` (simple ``.class``/``#id``/tag selectors) ``display:none``,
  ``visibility:hidden``, ``font-size:0``, ``opacity:0``, ``color:transparent``, text colour
  equal to its own or nearest ancestor's background (or white with no background at all),
  off-screen positioning, zero-size overflow, ``scale(0)``, clip-rect "screen-reader only"
  text, the ``hidden`` attribute, ``aria-hidden="true"`` with text.
* ``"html_comment"`` — an HTML comment holding instruction-like text.

``score`` is in 0..1: ``find_instructions`` returns only matches scoring at least
:data:`MIN_SCORE`; several signals on overlapping text raise the score. ``find_hidden_html``
returns every hidden element with text; UI patterns (``display:none`` menus, ``hidden``,
screen-reader-only text) score 0.5, ``aria-hidden`` text 0.4, tricks that only make sense to
hide text from people (``font-size:0``, white-on-white, off-screen, ``opacity:0``) 0.7, and
any hidden text that is itself instruction-like at least 0.9. Consumers that report every
finding as a problem should keep ``score >= 0.7``: real pages hide menus and dialogs.
``excerpt`` is at most :data:`EXCERPT_CHARS` characters of the matched (or hidden) text,
whitespace collapsed. For HTML, ``start``/``end`` are offsets into the given ``html`` string
from the element's opening tag to the end of its last text.

Limits, measured (benchmarks/injection_detection.py): the rules are phrase patterns. They
catch the common and published phrasings with no false alarm on 7,250 SciFact/SQuAD
documents, but paraphrased or role-play attacks they were not written for mostly get through
(a fresh, hand-written round of 10 such attacks: 1 caught before the rules were extended).
Treat a clean result as "no known pattern", not as "safe".

This module is the entry point; the code lives in ``safety.injection_rules`` (the phrase
rules and ``find_instructions``) and ``safety.injection_html`` (``find_hidden_html``).
"""

from __future__ import annotations

from groundwire.safety.injection_html import find_hidden_html
from groundwire.safety.injection_rules import (
    EXCERPT_CHARS,
    MIN_SCORE,
    InjectionFinding,
    find_instructions,
)

__all__ = [
    "EXCERPT_CHARS",
    "MIN_SCORE",
    "InjectionFinding",
    "find_hidden_html",
    "find_instructions",
]
