"""maskgate: keep personal data and secrets out of OpenAI API traffic.

The detection engine can be used on its own::

    >>> import maskgate
    >>> text = "Mail Jane Roe at jane.roe@example.com"
    >>> [(d.entity_type, text[d.start : d.end]) for d in maskgate.detect(text)]
    [('PERSON', 'Jane Roe'), ('EMAIL_ADDRESS', 'jane.roe@example.com')]

`maskgate.detect` is that function, so the subpackage of the same name is reached with
from-imports (``from maskgate.detect.engine import Detector``); ``import
maskgate.detect.engine as engine`` does not work.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from maskgate.detect.types import Detection

if TYPE_CHECKING:
    from maskgate.detect.engine import Detector

__all__ = ["Detection", "default_detector", "detect"]

_lock = threading.Lock()
_default: Detector | None = None


def default_detector() -> Detector:
    """The detector built from the shipped rules, created on first use and then shared.

    Building it loads the spaCy pipeline and takes a few seconds, so it happens once
    per process; the detector is safe to use from several threads.
    """
    global _default
    with _lock:
        if _default is None:
            from maskgate.detect.engine import Detector
            from maskgate.policy import load_policy

            _default = Detector(load_policy())
        return _default


def detect(text: str) -> list[Detection]:
    """Find personal data and secrets in `text` with the shipped rules.

    Returns sorted, non-overlapping `Detection` spans (offsets, type, score, engine),
    never the detected values themselves. The first call builds the shared detector
    (see `default_detector`).
    """
    return default_detector().detect(text)
