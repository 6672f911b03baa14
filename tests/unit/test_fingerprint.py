"""Fingerprints tell equal values apart from different ones without being guessable offline."""

from __future__ import annotations

import hashlib

from maskgate.fingerprint import FINGERPRINT_HEX, fingerprint


def test_equal_values_share_a_fingerprint_and_different_ones_do_not():
    assert fingerprint("Dana Whitfield") == fingerprint("Dana Whitfield")
    assert fingerprint("Dana Whitfield") != fingerprint("Dana Whitfeld")
    assert len(fingerprint("x")) == FINGERPRINT_HEX and int(fingerprint("x"), 16) >= 0


def test_a_fingerprint_is_no_plain_hash_of_the_value():
    value = "+1 415 555 0132"
    plain = [
        hashlib.blake2b(value.encode(), digest_size=FINGERPRINT_HEX // 2).hexdigest(),
        hashlib.sha256(value.encode()).hexdigest()[:FINGERPRINT_HEX],
    ]
    assert fingerprint(value) not in plain


def test_lone_surrogates_are_fingerprinted_rather_than_refused():
    assert len(fingerprint("\ud800 broken")) == FINGERPRINT_HEX
