"""Check digits for custom recognizers: Luhn (mod 10) and IBAN (ISO 13616 mod 97)."""

from __future__ import annotations

import pytest

from maskgate.detect.checksum import CHECKS, iban_valid, luhn_valid
from maskgate.policy import Checksum


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5500000000000004",
        "79927398713",
        "490154203237518",  # an IMEI
        "00",
    ],
)
def test_luhn_accepts_numbers_with_a_right_check_digit(number):
    assert luhn_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111112",  # last digit changed
        "4111 1111 1111 1121",  # two digits swapped
        "79927398710",
        "4111.1111.1111.1111",  # only spaces and dashes are ignored
        "4111a111111111111",
        "0",
        "",
        " - ",
        "４１１１１１１１１１１１１１１１",  # full-width digits are not digits of a card number
    ],
)
def test_luhn_rejects_wrong_check_digits_and_other_characters(number):
    assert not luhn_valid(number)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "GB82 WEST 1234 5698 7654 32",
        "GB82-WEST-1234-5698-7654-32",
        "gb82west12345698765432",
        "NO9386011117947",  # the shortest length in use
        "MT84MALT011000012345MTLCAST001S",
        "DE2411111111111",  # 15 and 34 characters: the bounds of the standard
        "DE75" + "1" * 30,
    ],
)
def test_iban_accepts_accounts_passing_mod_97(iban):
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # last digit changed
        "GB28WEST12345698765432",  # check digits swapped
        "GB82 WEST 1234 5698 7654 3!",
        "GB82/WEST/1234/5698/7654/32",
        "8937040044053201300DE0",  # no country code in front
        # Right mod-97 check digits, but shorter than 15 or longer than 34 characters.
        "DE5212345678",
        "DE11" + "1" * 31,
        "",
    ],
)
def test_iban_rejects_wrong_check_digits_and_malformed_accounts(iban):
    assert not iban_valid(iban)


def test_every_checksum_of_the_rules_has_a_check():
    assert set(CHECKS) == set(Checksum)
    assert CHECKS[Checksum.LUHN]("79927398713") and not CHECKS[Checksum.IBAN]("79927398713")
