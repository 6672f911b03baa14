"""A small, predictable detector for tests of everything around detection."""

from __future__ import annotations

import re

from maskgate.detect.types import Detection

_RULES = [
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"), "EMAIL_ADDRESS", False),
    (re.compile(r"\b(?:Jane Doe|John O'Neil|Zoë Müller|Ann)\b"), "PERSON", False),
    (re.compile(r"\bsk-proj-[A-Za-z0-9]{20,}"), "OPENAI_API_KEY", True),
    (re.compile(r"\b4111 ?1111 ?1111 ?1111\b"), "CREDIT_CARD", False),
    (re.compile(r"(?<=password: )\S+"), "PASSWORD", True),
    (re.compile(r'(?<="api_key": ")(?:[^"\\]|\\.)+'), "API_KEY", True),
]


def fake_detect(text: str) -> list[Detection]:
    """Regex detections, non-overlapping, in text order."""
    found = []
    for pattern, entity_type, secret in _RULES:
        for m in pattern.finditer(text):
            engine = "pattern" if secret else "presidio"
            found.append(Detection(m.start(), m.end(), entity_type, 0.9, engine, "fake", secret))
    return sorted(found, key=lambda d: d.start)
