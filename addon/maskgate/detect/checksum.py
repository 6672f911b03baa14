"""Check digits that a custom recognizer's match must satisfy (``checksum`` in the rules).

A format such as "16 digits" also matches order numbers and timestamps; the check digits
tell a real card or account number from a number of the same shape. Both checks take
the whole text a recognizer matched: spaces and dashes, which people put between digit
groups, are ignored, and any other character fails the check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from maskgate.policy import Checksum

_SEPARATORS = str.maketrans("", "", " -")
_DIGITS = re.compile(r"[0-9]{2,}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
"""Country code, two check digits, and a national account number: 15 to 34 characters
in all (Norway's are the shortest, the standard allows up to 34)."""


def _compact(text: str) -> str:
    return text.translate(_SEPARATORS)


def luhn_valid(text: str) -> bool:
    """True when `text` is two or more digits whose Luhn (mod 10) check digit is right."""
    digits = _compact(text)
    if not _DIGITS.fullmatch(digits):
        return False
    total = 0
    # From the right, every second digit is doubled; a two-digit product counts as its digit sum.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """True when `text` is shaped like an IBAN and passes the ISO 13616 mod-97 check.

    The first four characters move to the end, each letter becomes a number (A=10 ...
    Z=35), and the resulting integer must leave remainder 1 when divided by 97. Letters
    may be written in lower case, as they often are when copied.
    """
    iban = _compact(text).upper()
    if not _IBAN.fullmatch(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


CHECKS: Mapping[Checksum, Callable[[str], bool]] = {Checksum.LUHN: luhn_valid, Checksum.IBAN: iban_valid}
"""The check function for each checksum the rules can name."""
