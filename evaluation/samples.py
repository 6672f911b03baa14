"""One labelled text of the evaluation set, whatever produced it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a sample is for, which decides how it is scored."""

    PII = "pii"
    """Text with personal data; its spans are scored per type."""
    SECRET = "secret"
    """Text with planted secrets; scored by recall per provider."""
    CLEAN_CODE = "clean-code"
    CLEAN_LOG = "clean-log"
    CLEAN_PROSE = "clean-prose"
    """Clean samples hold nothing to find: every detection is a false alarm."""
    HARD_NEGATIVE = "hard-negative"
    """Secret look-alikes (git SHAs, UUIDs, lockfile hashes, base64 images): nothing to find."""


class Split(StrEnum):
    DEV = "dev"
    """May be looked at and tuned on."""
    HELDOUT = "heldout"
    """Never tuned on: the figures the README reports."""


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    entity_type: str
    """maskgate's type name (PERSON, EMAIL_ADDRESS, OPENAI_API_KEY, ...)."""


@dataclass(frozen=True, slots=True)
class Sample:
    id: str
    text: str
    spans: tuple[Span, ...]
    kind: Kind
    split: Split
    source: str
    """Template, generator or provider that made it (e.g. `support-ticket`, `github`)."""
