"""Seeded query streams for the monitoring tests: template questions by topic.

``quillmate`` questions are about the ``live_server.CORPUS`` product (installing, pricing,
security, support); ``gardening`` (growing tomatoes) and ``astronomy`` are topics the corpus
does not cover.
"""

from __future__ import annotations

import random

TOPICS: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "quillmate": (
        [
            "How do I install Quillmate on {os}?",
            "What are the system requirements to run Quillmate on {os}?",
            "How much does the {plan} plan of Quillmate cost?",
            "Does the {plan} plan include {feature}?",
            "Can I get a refund for the {plan} plan?",
            "How are notes encrypted in Quillmate {where}?",
            "How often does Quillmate rotate {secret}?",
            "How do I report a security vulnerability in Quillmate {where}?",
            "When is Quillmate support available for {who}?",
            "How long does Quillmate keep deleted notes {where}?",
            "Which port does Quillmate need open for {who}?",
            "How do I upgrade Quillmate on {os}?",
            "Is there a Quillmate discount for {who}?",
        ],
        {
            "os": ["Linux", "Ubuntu servers", "macOS", "a Debian machine", "our Linux box"],
            "plan": ["Starter", "Team", "Enterprise", "annual"],
            "feature": ["single sign-on", "audit exports", "100 GB of storage",
                        "a support engineer"],
            "where": ["at rest", "in transit", "on the server", "in backups", "today"],
            "secret": ["encryption keys", "its keys", "the AES keys"],
            "who": ["enterprise customers", "schools", "charities", "small teams", "clients"],
        },
    ),
    "gardening": (
        [
            "When should I plant {plant} in {season}?",
            "How often should I water {plant} during {season}?",
            "How do I prune {plant} for a better harvest?",
            "What soil pH do {plant} prefer in a {bed}?",
            "How do I protect {plant} from {pest}?",
            "Which fertiliser is best for {plant} in a {bed}?",
            "How deep should I sow {plant} seeds in {season}?",
            "Why are the leaves of my {plant} turning yellow in {season}?",
            "How do I get rid of {pest} on my {plant}?",
            "Can I grow {plant} in a {bed} on a balcony?",
        ],
        {
            "plant": ["tomatoes", "tomato plants", "cherry tomatoes", "tomato seedlings",
                      "beefsteak tomatoes", "plum tomatoes"],
            "season": ["spring", "autumn", "early summer", "winter", "a dry summer"],
            "bed": ["raised bed", "clay garden", "container", "greenhouse", "sandy border"],
            "pest": ["aphids", "blight", "whitefly", "blossom end rot", "hornworms"],
        },
    ),
    "astronomy": (
        [
            "How far away is {body} from {body2}?",
            "Why does {body} appear {look} in the night sky?",
            "Can I see {body} with {scope}?",
            "What is the surface temperature of {body}?",
            "How long does {body} take to orbit {body2}?",
            "When is the best time to observe {body} with {scope}?",
        ],
        {
            "body": ["Mars", "Jupiter", "the Moon", "Saturn", "Venus", "the Andromeda galaxy"],
            "body2": ["the Sun", "Earth", "the Milky Way centre"],
            "look": ["red", "so bright", "to twinkle", "orange"],
            "scope": ["a small telescope", "binoculars", "the naked eye"],
        },
    ),
}


def question(topic: str, rng: random.Random) -> str:
    templates, slots = TOPICS[topic]
    template = rng.choice(templates)
    return template.format(**{k: rng.choice(v) for k, v in slots.items()})


def pool(topic: str, size: int, seed: int = 0) -> list[str]:
    """``size`` distinct questions of one topic (deterministic for a seed)."""
    rng = random.Random(f"{topic}:{seed}")
    out: dict[str, None] = {}
    attempts = 0
    while len(out) < size and attempts < size * 200:
        out[question(topic, rng)] = None
        attempts += 1
    return list(out)
