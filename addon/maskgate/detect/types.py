"""The value every detector returns, kept free of the detected text itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected span of a text.

    The span is given by offsets only: the detected value is never stored here, so a
    `Detection` can be logged, shown or saved without leaking what it points at.
    """

    start: int
    end: int
    entity_type: str
    score: float
    engine: str
    """Which engine found it: ``presidio``, ``detect-secrets`` or ``pattern``."""
    recognizer: str = ""
    """The recognizer, plugin or rule id inside that engine."""
    secret: bool = False
    """True for credentials (keys, tokens, passwords), False for personal data."""
