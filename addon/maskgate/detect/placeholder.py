"""The shape of a placeholder, shared by detection, masking and restoring.

Kept in its own module so that code which only needs the shape does not import the
detection engines (Presidio and spaCy take about a second to import).
"""

from __future__ import annotations

import re

PLACEHOLDER_SHAPE = re.compile(r"\[\[([A-Z][A-Z0-9_]*?)_(\d+)\]\]")
"""Any text shaped like ``[[TYPE_N]]``, issued by us or not: such text is never detected
again. Groups: the type and the number."""
