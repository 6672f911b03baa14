"""Loopback helpers shared by the end-to-end fixtures and the benchmarks."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port that was free a moment ago (bind to 0, release)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts_connections(port: int) -> bool:
    """Whether something listens on the loopback port yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
