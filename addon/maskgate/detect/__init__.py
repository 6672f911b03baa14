"""Detection of personal data and secrets in text.

`Detector` (in `maskgate.detect.engine`) combines Presidio for personal data with
detect-secrets and the policy's own patterns for credentials, and returns clean,
non-overlapping `Detection` spans. It is imported on first use, because importing
Presidio and spaCy takes about a second and most users of this package only need
`Detection` or `PLACEHOLDER_SHAPE`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maskgate.detect.placeholder import PLACEHOLDER_SHAPE
from maskgate.detect.types import Detection

if TYPE_CHECKING:
    from maskgate.detect.engine import Detector

__all__ = ["PLACEHOLDER_SHAPE", "Detection", "Detector"]


def __getattr__(name: str) -> object:
    if name == "Detector":
        from maskgate.detect.engine import Detector

        return Detector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
