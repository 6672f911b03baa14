"""Which TLS connections mitmproxy decrypts, compared with the hosts the rules guard.

mitmproxy tunnels a connection it does not decrypt, and maskgate never sees what goes
through a tunnel: a guarded host left out of `allow_hosts` (or caught by `ignore_hosts`)
sends its requests unmasked. `maskgate run` and `web` have maskgate keep `allow_hosts`
equal to the guarded hosts, whichever rules are in service; in every set-up a guarded
host that would be tunnelled is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence


def allow_hosts_for(hosts: Iterable[str]) -> str:
    """An `allow_hosts` pattern matching exactly these hosts, on any port.

    Anchored on both sides: `api.openai.com.example.net:443` must not match.
    """
    return "^(?:" + "|".join(re.escape(h) for h in hosts) + r"):\d+$"


def tunnelled(hosts: Iterable[str], allow_hosts: Sequence[str], ignore_hosts: Sequence[str]) -> list[str]:
    """The hosts mitmproxy would pass through undecrypted on port 443, as it decides: a
    connection is decrypted when `allow_hosts` is empty or matches, and `ignore_hosts` does not."""

    def matches(patterns: Sequence[str], host: str) -> bool:
        return any(re.search(p, f"{host}:443", re.IGNORECASE) for p in patterns)

    return [h for h in hosts if (allow_hosts and not matches(allow_hosts, h)) or matches(ignore_hosts, h)]
