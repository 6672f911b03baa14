"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import pytest

import maskgate
from maskgate.detect.engine import Detector


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The detector built from the shipped rules, built once per session: loading the
    spaCy pipeline takes seconds. It is the same instance `maskgate.detect` uses."""
    shared = maskgate.default_detector()
    shared.warm_up()
    return shared
