"""Short keyed fingerprints of detected values.

A fingerprint lets a person see that two detections hold the same value without seeing
it. A plain hash would not do: the values are short and guessable (names, phone numbers,
card numbers), so anyone holding a saved flow could hash candidates until one matches.
The fingerprint is therefore an HMAC under a random key made once per process and never
stored, logged or shown: fingerprints compare within one proxy run only, and a saved flow
cannot be brute-forced offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

FINGERPRINT_HEX = 8
"""Hex characters kept: enough to tell a request's values apart, too few to identify one."""

_KEY = secrets.token_bytes(32)


def fingerprint(value: str) -> str:
    """The first `FINGERPRINT_HEX` hex digits of HMAC-SHA256(`value`) under this process's key."""
    # Request text may hold lone surrogates (a JSON `\ud800` escape): hash them rather than fail.
    data = value.encode("utf-8", "surrogatepass")
    return hmac.new(_KEY, data, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]
