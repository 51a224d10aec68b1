"""Instruction-like text aimed at a model: the finding type, the phrase rules and
``find_instructions``. Contract and limits: ``safety.injection``."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

MIN_SCORE = 0.5
EXCERPT_CHARS = 160


@dataclass(frozen=True, slots=True)
class InjectionFinding:
    """One suspicious span; see the module docstring for ``kind`` and ``score``."""

    kind: str
    start: int
    end: int
    excerpt: str
    score: float


# --------------------------------------------------------------------------- instructions

_VERB = (r"(?:ignore|disregard|forget|override|bypass|skip|drop|abandon|discard|set\s+aside|"
         r"put\s+aside|stop\s+following|stop\s+obeying|no\s+longer\s+follow)")
_ALL = r"(?:all|any|every|each)"
_PRIOR = r"(?:previous|prior|above|earlier|preceding|foregoing|former|original|initial|old)"
_RULES = (r"(?:instructions?|prompts?|rules|directives?|guidelines|guidance|guardrails|"
          r"constraints|directions|commands|programming|restrictions)")
_TO_MODEL = r"(?:AI|assistant|LLM|language model|chat ?bot|GPT|ChatGPT|Claude|Gemini|copilot)"
_SP = r"[\s,]+"

_VERBS = ("ignore", "disregard", "forget", "override", "bypass", "skip", "drop", "abandon",
          "discard", "aside", "stop", "no longer")
_MODEL_WORDS = ("ai", "assistant", "llm", "language model", "chat", "gpt", "claude", "gemini",
                "copilot")

# (name, pattern, score, hints). Patterns are case-insensitive unless they carry (?-i:...);
# a rule runs only when one of its lower-case ``hints`` occurs in the lower-cased text (a
# substring test is far cheaper than a regex scan).
_INSTRUCTION_RULES: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("override_all", rf"\b{_VERB}{_SP}(?:{_ALL}{_SP})(?:of{_SP})?(?:the{_SP}|your{_SP}|my{_SP})?"
                     rf"(?:{_PRIOR}{_SP})?{_RULES}", 0.9,
     _VERBS),
    ("override_your", rf"\b{_VERB}{_SP}(?:your|the{_SP}(?:ai|assistant|model)'?s?)"
                      rf"{_SP}(?:{_PRIOR}{_SP}|system{_SP}|safety{_SP})?{_RULES}", 0.85,
     _VERBS),
    ("override_prior", rf"\b{_VERB}{_SP}(?:the{_SP}|these{_SP}|those{_SP})?{_PRIOR}{_SP}"
                       rf"(?:{_RULES}|messages|context|conversation)", 0.6,
     _VERBS),
    ("system_prompt", rf"\b(?:{_VERB}|reveal|print|show|repeat|output|leak|display|disclose|"
                      r"dump|tell me|give me|what is|what are|write out|spell out)"
                      rf"{_SP}(?:me{_SP})?(?:your|the){_SP}(?:full{_SP}|complete{_SP}|"
                      r"entire{_SP}|exact{_SP}|verbatim{_SP})?(?:system|developer|hidden|"
                      r"secret|initial|original|internal|pre-?prompt)[\s-]*(?:prompt|message|"
                      r"instructions?|rules|configuration)", 0.9,
     ("system", "developer", "hidden", "secret", "initial", "original",
      "internal", "prompt")),
    ("reveal_instructions", rf"\b(?:reveal|print|repeat|output|leak|disclose|dump){_SP}"
                            rf"(?:me{_SP})?your{_SP}(?:{_RULES}|prompt)", 0.75,
     ("reveal", "print", "repeat", "output", "leak", "disclose", "dump")),
    ("override_told", rf"\b{_VERB}\s+(?:everything|anything|all|what|whatever|every\s+(?:rule|"
                      r"instruction)|each\s+(?:rule|instruction))\s+(?:(?:rules?|instructions?)"
                      r"\s+)?(?:that\s+)?you\s+(?:were|have\s+been|'ve\s+been|are|got)\s+"
                      r"(?:told|given|instructed|taught|programmed)", 0.85,
     _VERBS),
    ("context_dump", r"\b(?:print|output|reveal|show|repeat|dump|leak|list|echo)\b[^.\n]{0,40}?"
                     r"\b(?:your\s+context(?:\s+window)?|(?:the|your)\s+system\s+(?:message|"
                     r"prompt)|your\s+(?:hidden|initial|original)\s+instructions)", 0.8,
     ("context", "system", "instructions")),
    ("no_policy", r"\b(?:pretend|imagine|assume|act\s+as\s+if|behave\s+as\s+if)\s+(?:that\s+)?"
                  r"you\s+(?:have|had|are\s+under)\s+no\s+(?:content\s+polic(?:y|ies)|"
                  r"restrictions|rules|filters|guidelines|limits|limitations|ethic|moral|safety)",
     0.85, ("pretend", "imagine", "assume", "as if")),
    ("model_reading", rf"\b(?:{_TO_MODEL}|model|bot)s?\s+(?:that\s+is\s+|which\s+is\s+)?"
                      r"(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|ingesting|"
                      r"crawling|indexing)\s+(?:this|these)\b", 0.75,
     _MODEL_WORDS + ("model", "bot")),
    ("exfil_url_user", r"https?://\S*[?&]\S*[^.\n]{0,80}?\b(?:the\s+)?user'?s?\s+(?:question|"
                       r"query|message|input|prompt|conversation|data|e-?mail|password|name)"
                       r"|\buser'?s?\s+(?:question|query|message|input|prompt|conversation|data|"
                       r"e-?mail|password)[^.\n]{0,80}?https?://\S*[?&]", 0.8,
     ("http",)),
    ("when_summarising", r"\bwhen\s+(?:you\s+are\s+|you're\s+)?(?:summari[sz]ing|describing|"
                         r"reading|answering\s+questions\s+about)\s+(?:this|the)\s+(?:page|"
                         r"document|text|article|passage|content|site|file)\b[^.\n]{0,40}?"
                         r"\b(?:tell|inform|assure)\s+the\s+(?:reader|user)s?\b", 0.75,
     ("when",)),
    ("address_model", rf"\b(?:attention|dear|hey|hi|hello|note\s+to|message\s+to|notice\s+to)"
                      rf"\s+(?:the\s+|any\s+|all\s+)?(?:{_TO_MODEL}|model|bot)s?\s*[:,!]", 0.75,
     _MODEL_WORDS + ("model", "bot")),
    ("override_above", rf"\b{_VERB}\s+(?:everything|anything|all|the\s+text|the\s+content|"
                       r"what\s+(?:was|is)\s+written)\s+(?:above|before|prior|preceding|earlier)",
     0.8, _VERBS),
    ("real_instructions", r"\byour\s+(?:real|actual|true|new|updated|secret)\s+(?:instructions|"
                          r"orders|task|objective|directives?)\s+(?:are|is|:)", 0.8,
     ("your",)),
    ("bracket_role", r"(?m)^[ \t]*[\[(](?:system|assistant|admin|developer)[\])]", 0.7,
     ("system", "assistant", "admin", "developer")),
    ("safety_off", r"\b(?:safety|content)\s+(?:mode|filters?|polic(?:y|ies)|guidelines|"
                   r"restrictions)\s+(?:is|are|have\s+been|has\s+been)\s+(?:now\s+)?(?:off|"
                   r"disabled|lifted|removed|suspended)\s+for\s+(?:this|the|your)\s+"
                   r"(?:conversation|chat|session|assistant|model|response)", 0.8,
     ("safety", "content")),
    ("regardless_user", r"\bregardless\s+of\s+what\s+the\s+user\s+(?:asks|says|wants|requests|"
                        r"types|writes)", 0.75, ("regardless",)),
    ("hide_note", r"\bdo\s+not\s+(?:mention|reveal|disclose|acknowledge|repeat)\s+(?:this|these)"
                  r"\s+(?:note|instructions?|message|text|comment|hidden)", 0.75,
     ("do not",)),
    ("new_task", r"(?:^|[\n.!?]\s*)(?:new|updated|real|actual|true)\s+(?:system\s+)?(?:task|"
                 r"objective|directive|orders)\s*:", 0.7, ("task", "objective", "directive",
                                                          "orders")),
    ("no_rules_ai", rf"\byou(?:'re|\s+are)\s+(?:now\s+)?an?\s+(?:\w+\s+)?(?:{_TO_MODEL}|model|"
                    r"bot)\s+(?:with\s+no|without(?:\s+any)?)\s+(?:rules|restrictions|filters|"
                    r"limits|guidelines|ethics|content\s+polic)", 0.85, ("you",)),
    ("override_vendor", rf"\b{_VERB}\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:OpenAI|Anthropic|"
                        r"Google|Microsoft|content|usage)\s+(?:polic(?:y|ies)|guidelines|rules|"
                        r"filters?|terms)", 0.85, _VERBS),
    ("override_safety", rf"\b{_VERB}\s+(?:all\s+|any\s+|the\s+|your\s+)?safety\s+"
                        r"(?:guidelines|filters?|policies|training|measures)", 0.6, _VERBS),
    ("treat_as_system", r"\btreat\s+(?:the\s+)?(?:following|this|next)\s+(?:text|message|"
                        r"content|input|line)?\s*as\s+(?:coming\s+)?(?:from|written\s+by|"
                        r"issued\s+by)\s+(?:the\s+)?(?:system|developer|administrator|admin|"
                        r"operator)", 0.8, ("treat",)),
    ("list_access", r"\b(?:list|show|print|dump|output|reveal)\s+(?:all|every|each)\s+(?:the\s+|"
                    r"of\s+the\s+)?(?:documents|files|data|records|emails|secrets)\s+you\s+"
                    r"(?:can|have)\s+(?:access|see|read)", 0.8, ("you can", "you have")),
    ("prior_void", rf"\b{_PRIOR}\s+(?:{_RULES})\s+(?:is|are)\s+(?:now\s+)?(?:void|null|"
                   r"cancell?ed|revoked|invalid|no\s+longer\s+(?:valid|in\s+effect))", 0.6,
     ("void", "null", "cancel", "revoked", "invalid", "no longer")),
    ("hidden_prompt", r"\byour\s+(?:hidden|secret|internal)\s+(?:system\s+)?(?:prompt|"
                      r"instructions|rules)", 0.75, ("hidden", "secret", "internal")),
    ("you_the_model", rf"\byou,?\s+the\s+(?:{_TO_MODEL}|model|bot)\b", 0.75,
     _MODEL_WORDS + ("model", "bot")),
    ("stop_being", rf"\bstop\s+being\s+(?:an?\s+)?(?:{_TO_MODEL}|model|helpful|harmless)\b", 0.75,
     ("stop being",)),
    ("repeat_above", rf"\brepeat{_SP}(?:the{_SP}|all{_SP})?(?:words|text|everything)"
                     rf"{_SP}above\b", 0.75,
     ("repeat",)),
    ("persona", r"\byou\s+are\s+now\s+(?:DAN\b|(?:a|an|my)\s+(?:\w+\s+){0,3}?(?:AI|assistant|"
                r"model|chat ?bot|bot|persona|character)\b|in\s+(?:developer|god|dan|jailbreak|"
                r"unrestricted)\s+mode|jailbroken|free\b|no\s+longer\s+(?:bound|restricted|an?\s+"
                r"AI)|unrestricted|unfiltered|uncensored)", 0.9,
     ("now",)),
    ("dan", r"\b(?:do\s+anything\s+now|(?:DAN|developer|god)\s+mode\s+(?:enabled|activated|on)|"
            r"jailbreak\s+mode|enable\s+(?:DAN|developer)\s+mode)\b", 0.85,
     ("anything", "mode")),
    ("act_as", r"\b(?:act|behave|respond)\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|"
               r"uncensored|jailbroken|evil|amoral)\b", 0.85,
     ("unrestricted", "unfiltered", "uncensored", "jailbroken", "evil", "amoral")),
    ("ai_must", rf"\bas\s+an?\s+{_TO_MODEL}(?:\s+language)?(?:\s+model)?\s*,?\s+you\s+"
                r"(?:must|should|will|shall|are\s+(?:required|instructed|obliged))\b", 0.8,
     ("as a",)),
    ("note_to_model", rf"\b(?:note|message|instructions?|attention|important|reminder)\s+"
                      rf"(?:to|for)\s+(?:the\s+|any\s+|all\s+)?{_TO_MODEL}s?\b", 0.75,
     _MODEL_WORDS),
    ("to_model_reader", rf"\bif\s+you\s+are\s+an?\s+{_TO_MODEL}\b", 0.75,
     ("if you are",)),
    ("from_now_on", r"\bfrom\s+now\s+on,?\s+you\s+(?:will|must|shall|are\s+going\s+to)\s+"
                    r"(?:only\s+|always\s+|never\s+)?(?:answer|respond|reply|act|behave|pretend|"
                    r"roleplay|role-play|speak|obey|ignore|be\s+(?:an?\s+)?(?:\w+\s+)?(?:AI|bot|"
                    r"assistant|model))\b", 0.7,
     ("now",)),
    ("new_instructions", r"(?:^|\n)\s*(?:new|updated|real|actual|true)\s+(?:system\s+)?"
                         r"instructions?\s*:", 0.7,
     ("instruction",)),
    ("hide_from_user", r"\bdo\s+not\s+(?:tell|inform|mention|reveal|show|disclose)\s+"
                       r"(?:this\s+|it\s+|anything\s+)?(?:to\s+)?the\s+user\b", 0.8,
     ("the user",)),
    ("role_tag", r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|"
                 r"start_header_id|end_header_id|begin_of_text)\|>|\[/?INST\]|<</?SYS>>", 0.95,
     ("<|", "inst]", "<<sys", "<</sys")),
    ("markdown_role", r"(?m)^[ \t]*#{2,}[ \t]*(?:instruction|system|response|input)s?[ \t]*:", 0.75,
     ("##",)),
    ("line_role", r"(?m)^[ \t]*(?-i:SYSTEM|ASSISTANT|System\s+prompt)[ \t]*:[ \t]*\S", 0.6,
     ("system", "assistant")),
    ("exfil_send", r"\b(?:send|post|exfiltrate|forward|upload|transmit|append|encode|include|"
                   r"embed|leak)\s+(?:the\s+|all\s+|your\s+|this\s+|any\s+)*(?:conversation|chat|"
                   r"chat\s+history|system\s+prompt|previous\s+messages|user'?s?\s+(?:(?:last|"
                   r"latest|previous|entire|full|whole)\s+)?(?:data|messages?|input|credentials|"
                   r"password|email|question)|secrets?|api\s+keys?|credentials|passwords?|tokens?|"
                   r"session)\b[^.\n]{0,80}?(?:https?://|\burl\b|\blink\b|\bimage\b|"
                   r"\bwebhook\b|\bendpoint\b|\bto\s+[\w.+-]+@[\w-]+\.\w)", 0.85,
     ("http", "url", "link", "image", "webhook", "endpoint", "@")),
    ("exfil_image", r"!\[[^\]\n]{0,100}\]\(\s*https?://[^)\s]{1,300}[?&][^)\s]*"
                    r"(?:\{|%7B|\$|data=|q=|secret|token|conversation|chat|history|prompt|"
                    r"user|msg|content)", 0.8,
     ("![",)),
)


@functools.cache
def _compiled_rules() -> tuple[tuple[re.Pattern[str], float, tuple[str, ...]], ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), score, hints)
                 for _, pattern, score, hints in _INSTRUCTION_RULES)


def _excerpt(text: str) -> str:
    collapsed = " ".join(text.split())
    if len(collapsed) <= EXCERPT_CHARS:
        return collapsed
    return collapsed[:EXCERPT_CHARS - 1] + "…"


def find_instructions(text: str) -> list[InjectionFinding]:
    """Instruction-like spans aimed at a model, scoring at least :data:`MIN_SCORE`.

    Overlapping rule matches merge into one finding whose score is the best rule's plus 0.05
    for each further rule (at most 1.0).
    """
    if not text:
        return []
    hits: list[tuple[int, int, float]] = []
    low = text.lower()
    for pattern, score, hints in _compiled_rules():
        if not any(h in low for h in hints):
            continue
        for m in pattern.finditer(text):
            if m.end() > m.start():
                hits.append((m.start(), m.end(), score))
    hits.sort()
    merged: list[list[Any]] = []  # [start, end, [scores]]
    for start, end, score in hits:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].append(score)
        else:
            merged.append([start, end, [score]])
    out: list[InjectionFinding] = []
    for start, end, scores in merged:
        best = max(scores) + 0.05 * (len(scores) - 1)
        score = round(min(best, 1.0), 3)
        if score >= MIN_SCORE:
            out.append(InjectionFinding("instruction", start, end, _excerpt(text[start:end]),
                                        score))
    return out
