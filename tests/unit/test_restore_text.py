"""Placeholders the model altered (spaces, case, markdown escapes, single brackets) are
restored when the id is ours, in whole texts, in JSON text and piece by piece alike; those
of redacted values stay as the model wrote them, and are counted apart."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskgate.restore.text import (
    IN_JSON_STRING,
    IN_TEXT,
    MAX_SPACES,
    IncrementalRestorer,
    PlaceholderForms,
    PlaceholderTails,
    RestoreTally,
    json_string_escape,
    restore_text,
)
from maskgate.vault import Vault

USER_WRITTEN = "[[PERSON_1]]"
"""Placeholder-shaped text from the user's own request: reserved, so ours start at PERSON_2."""

VALUES = [
    ("Jane Doe", "PERSON"),  # [[PERSON_2]]
    ("Zoë Müller", "PERSON"),  # [[PERSON_3]]
    ("jane.doe@example.org", "EMAIL_ADDRESS"),  # [[EMAIL_ADDRESS_1]]
    ('p"w\\d€', "PASSWORD"),  # [[PASSWORD_1]]
]
REDACTED = ("tok-3xY9", "TOKEN")  # [[TOKEN_1]], never restored


def make_vault() -> Vault:
    vault = Vault(reserved={USER_WRITTEN})
    for value, entity_type in VALUES:
        vault.placeholder_for(value, entity_type, secret=entity_type == "PASSWORD")
    vault.placeholder_for(*REDACTED, secret=True, restore=False)
    return vault


def restore(text: str, vault: Vault | None = None) -> tuple[str, RestoreTally]:
    tally = RestoreTally()
    return restore_text(text, vault or make_vault(), tally), tally


# --- whole texts ---


@pytest.mark.parametrize(
    "form",
    [
        "[[PERSON_2]]",
        "[[ PERSON_2 ]]",
        "[[PERSON_2 ]]",
        "[[  PERSON_2]]",
        "[[\tPERSON_2\t]]",
        "[[person_2]]",
        "[[Person_2]]",
        "\\[\\[PERSON_2\\]\\]",
        "\\[\\[PERSON_2]]",
        "[[PERSON_2\\]\\]",
        "[PERSON_2]",
        "\\[PERSON_2\\]",
        "[ person_2 ]",
        "\\[\\[ Person_2  \\]\\]",
    ],
)
def test_every_accepted_form_of_our_id_is_restored(form):
    text, tally = restore(f"Dear {form}, hi")
    assert text == "Dear Jane Doe, hi"
    assert tally.restored == {"[[PERSON_2]]": 1} and tally.unresolved == {}


@pytest.mark.parametrize(
    "form",
    [
        "[[ PERSON_9 ]]",
        "[[person_9]]",
        "\\[\\[PERSON_9\\]\\]",
        "[PERSON_9]",
        "[NOTOURS_1]",
        "[[ notours_1]]",
        "[[person_1]]",  # the user's own placeholder, altered: still theirs
        "[PERSON_1]",
    ],
)
def test_altered_forms_of_other_ids_stay_and_are_not_counted(form):
    assert restore(f"see {form}.") == (f"see {form}.", RestoreTally())


def test_only_the_exact_shape_of_an_unknown_id_is_counted():
    text, tally = restore("[[PERSON_9]] [[NOTOURS_1]] [[ PERSON_9 ]] [[PERSON_1]]")
    assert text == "[[PERSON_9]] [[NOTOURS_1]] [[ PERSON_9 ]] [[PERSON_1]]"
    assert tally.unresolved == {"[[PERSON_9]]": 1, "[[NOTOURS_1]]": 1}
    assert tally.restored == {}


@pytest.mark.parametrize(
    "text",
    [
        "PERSON_2 wrote",
        "person_2",
        "[[PERSON_2",
        "PERSON_2]]",
        f"[[{' ' * (MAX_SPACES + 1)}PERSON_2]]",
        "[[PERSON _2]]",
        "x = [[1, 2], [3]]",
        "arr[PERSON_9] = arr[i] + m[[j]]",
        "[[PERSON_2\n]]",
    ],
)
def test_text_that_is_no_accepted_form_of_ours_stays(text):
    assert restore(text) == (text, RestoreTally())


def test_unbalanced_brackets_restore_the_balanced_form_inside():
    assert restore("[[PERSON_2] [PERSON_2]]")[0] == "[Jane Doe Jane Doe]"


def test_single_brackets_in_code_are_restored_only_for_our_ids():
    text, _ = restore("arr[PERSON_2] + arr[PERSON_9] + arr[i]")
    assert text == "arrJane Doe + arr[PERSON_9] + arr[i]"


def test_markdown_escapes_are_consumed_but_a_backslash_before_a_canonical_form_is_kept():
    assert restore("\\[\\[EMAIL_ADDRESS_1\\]\\]")[0] == "jane.doe@example.org"
    assert restore("C:\\Users\\[[PERSON_2]]")[0] == "C:\\Users\\Jane Doe"
    assert restore("\\\\[PERSON_2]")[0] == "\\Jane Doe"  # an escaped backslash, then the form


def test_a_single_bracket_form_followed_by_a_parenthesis_stays_a_link():
    text, tally = restore("[PERSON_2](mailto:x) [ email_address_1 ](y) \\[PERSON_2\\](z) [[PERSON_2]](w)")
    assert text == "[Jane Doe](mailto:x) [jane.doe@example.org](y) Jane Doe(z) Jane Doe(w)"
    assert tally.restored == {"[[PERSON_2]]": 3, "[[EMAIL_ADDRESS_1]]": 1}


@pytest.mark.parametrize(
    "form",
    [
        "[[TOKEN_1]]",
        "[[ token_1 ]]",
        "\\[\\[TOKEN_1\\]\\]",
        "\\[\\[\tToken_1]]",
        "[TOKEN_1]",
        "\\[TOKEN_1\\]",
        "[TOKEN_1](https://x)",
    ],
)
def test_every_accepted_form_of_a_redacted_id_stays_as_written_and_is_counted(form):
    text = f"key {form} for [[PERSON_2]]"
    restored, tally = restore(text)
    assert restored == f"key {form} for Jane Doe"
    assert tally.redacted == {"[[TOKEN_1]]": 1}
    assert tally.restored == {"[[PERSON_2]]": 1} and tally.unresolved == {}


def test_redacted_forms_stay_in_json_text_too():
    raw = json.dumps({"key": "\\[\\[TOKEN_1\\]\\] [[token_1 ]]", "who": "[[PERSON_2]]"})
    tally = RestoreTally()
    restored = restore_text(raw, make_vault(), tally, json_string_escape)
    assert json.loads(restored) == {"key": "\\[\\[TOKEN_1\\]\\] [[token_1 ]]", "who": "Jane Doe"}
    assert tally.redacted == {"[[TOKEN_1]]": 2}


def test_a_redacted_placeholder_split_anywhere_goes_out_unchanged_and_is_counted_once():
    text = "a [[TOKEN_1]] b \\[\\[ token_1 \\]\\] c [[PERSON_2]]"
    expected = "a [[TOKEN_1]] b \\[\\[ token_1 \\]\\] c Jane Doe"
    vault = make_vault()
    for one in range(len(text) + 1):
        for two in range(one, len(text) + 1):
            out, tally = feed_all([text[:one], text[one:two], text[two:]], vault)
            assert out == expected, (one, two)
            assert tally == RestoreTally(restored={"[[PERSON_2]]": 1}, redacted={"[[TOKEN_1]]": 2}), (
                one,
                two,
            )


def test_the_user_written_placeholder_stays_in_every_form():
    text = f"{USER_WRITTEN} [[ PERSON_1 ]] \\[\\[PERSON_1\\]\\]"
    assert restore(text) == (text, RestoreTally())


# --- JSON text (tool-call arguments) ---


def test_json_text_is_restored_in_the_decoded_sense():
    note = "to \\[\\[PERSON_2\\]\\], [[\tpassword_1 ]], [PERSON_3](x), \\[[PERSON_2]] [PERSON_9]"
    raw = json.dumps({"note": note}, ensure_ascii=False)
    assert "\\\\[\\\\[PERSON_2\\\\]\\\\]" in raw and "\\t" in raw
    tally = RestoreTally()
    restored = restore_text(raw, make_vault(), tally, json_string_escape)
    assert json.loads(restored) == {"note": 'to Jane Doe, p"w\\d€, [Zoë Müller](x), \\Jane Doe [PERSON_9]'}
    assert tally == restore(note)[1]


# --- pieces, and what is held back ---

FORM_PIECES = [
    *(value for value, _ in VALUES),
    " ",
    "\t",
    "\\",
    "x",
    "(",
    "[",
    "[[",
    "]",
    "]]",
    "\\[",
    "\\]",
    "person_2",
    "PERSON_",
    "Email_Address_",
    "1",
    "9",
    "[1, 2]",
    "[[PERSON_9]]",
    "[[NOTOURS_1]]",
    USER_WRITTEN,
    "[[ Person_2 ]]",
    "\\[\\[PERSON_3\\]\\]",
    "\\[\\[EMAIL_ADDRESS_1]]",
    "[password_1](",
    "[PERSON_9 ]",
    "[Person_9",
    REDACTED[0],
    "[[TOKEN_1]]",
    "\\[\\[ token_1]]",
    "[Token_1](",
    "TOKEN_",
]

texts = st.lists(st.sampled_from(FORM_PIECES), max_size=14).map("".join)


def split(text: str, cuts: set[int]) -> list[str]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def feed_all(pieces: list[str], vault: Vault, escape=None) -> tuple[str, RestoreTally]:
    tally = RestoreTally()
    restorer = IncrementalRestorer(vault, tally, PlaceholderTails(vault), escape)
    return "".join(restorer.feed(piece) for piece in pieces) + restorer.flush(), tally


@settings(max_examples=300)
@given(texts, st.data(), st.booleans(), st.booleans())
def test_pieces_restore_like_the_whole_text_with_the_same_tally(text, data, as_json, nothing_issued):
    vault = Vault() if nothing_issued else make_vault()
    escape = json_string_escape if as_json else None
    if as_json:
        text = json_string_escape(text)
    cuts = data.draw(st.sets(st.integers(1, max(1, len(text) - 1))))
    whole = RestoreTally()
    assert feed_all(split(text, cuts), vault, escape) == (restore_text(text, vault, whole, escape), whole)


@given(texts)
def test_json_text_restores_like_its_decoded_string(text):
    vault = make_vault()
    raw_tally, plain_tally = RestoreTally(), RestoreTally()
    raw = restore_text(json_string_escape(text), vault, raw_tally, json_string_escape)
    assert json.loads(f'"{raw}"') == restore_text(text, vault, plain_tally)
    assert raw_tally == plain_tally


def accepted_forms(ids: list[str]) -> list[tuple[str, bool]]:
    """Every accepted form of `ids` (upper case), and whether it has single brackets."""
    pads = ["".join(p) for n in range(MAX_SPACES + 1) for p in itertools.product(" \t", repeat=n)]
    shapes = [
        (opening, closing, single)
        for single, bracket in ((False, 2), (True, 1))
        for opening in ("[" * bracket, "\\[" * bracket)
        for closing in ("]" * bracket, "\\]" * bracket)
    ]
    return [
        (f"{opening}{left}{i}{right}{closing}", single)
        for i in ids
        for opening, closing, single in shapes
        for left in pads
        for right in pads
    ]


def live_tails(ids: list[str], spell) -> frozenset[str]:
    """Upper-cased texts that must be held: proper starts of a form, or a whole single form."""
    tails = set()
    for form, single in accepted_forms(ids):
        written = spell(form).upper()
        tails.update(written[:n] for n in range(1, len(written) + single))
    return frozenset(tails)


ORACLE_IDS = ["PERSON_1", "PERSON_2", "EMAIL_ADDRESS_1", "TOKEN_1"]
ORACLES = {
    IN_TEXT: (lambda text: text, live_tails(ORACLE_IDS, lambda form: form)),
    IN_JSON_STRING: (json_string_escape, live_tails(ORACLE_IDS, json_string_escape)),
}


def oracle_vault() -> Vault:
    vault = Vault()
    vault.placeholder_for("Jane Doe", "PERSON")
    vault.placeholder_for("Ann Roe", "PERSON")
    vault.placeholder_for("jane.doe@example.org", "EMAIL_ADDRESS")
    vault.placeholder_for(*REDACTED, restore=False)  # held like the others, to be counted whole
    return vault


@settings(max_examples=300)
@given(texts, st.sampled_from([IN_TEXT, IN_JSON_STRING]))
def test_the_held_tail_is_the_earliest_that_can_still_be_ours(text, forms: PlaceholderForms):
    """Checked against every accepted form written out, at every end of the text."""
    spell, tails = ORACLES[forms]
    written = spell(text)
    held_tails = PlaceholderTails(oracle_vault())
    for end in range(len(written) + 1):
        start = next((s for s in range(end) if written[s:end].upper() in tails), end)
        held = held_tails.hold_from(written[:end], forms)
        assert held == start, written[start:end]
        assert end - held < held_tails.longest + forms.extra


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("a \\", "\\"),
        ("a \\\\", "\\"),
        ("a \\[", "\\["),
        ("a \\[\\", "\\[\\"),
        ("a \\[\\[", "\\[\\["),
        ("a [ ", "[ "),
        ("a [[ pers", "[[ pers"),
        ("a [person_2 ", "[person_2 "),
        ("a [PERSON_2]", "[PERSON_2]"),  # a link's text if `(` follows
        ("a \\[PERSON_2]", "\\[PERSON_2]"),
        ("a [[PERSON_2]", "[[PERSON_2]"),
        ("a [[PERSON_2\\]\\", "[[PERSON_2\\]\\"),
        ("a [[PERSON_2]]", ""),
        ("a [PERSON_2](", ""),
        ("a [PERSON_9 ", ""),
        ("a [PERSON_9 \\", "\\"),  # not ours, but a new form may start at the backslash
        ("a [person_22", ""),
        ("a [[TOKEN_", "[[TOKEN_"),
        ("a \\[token_1 ", "\\[token_1 "),
        (f"a [[{' ' * (MAX_SPACES + 1)}", ""),
        ("x = [[1, 2], [", "["),
    ],
)
def test_hold_back_examples(text, held):
    assert text[PlaceholderTails(make_vault()).hold_from(text) :] == held


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ('{"a": "\\', "\\"),
        ('{"a": "\\\\', "\\\\"),
        ('{"a": "\\\\[\\', "\\\\[\\"),
        ('{"a": "[[\\', "[[\\"),
        ('{"a": "[[\\tperson_2\\', "[[\\tperson_2\\"),
        ('{"a": "\\"[', "["),
        ('{"a": "\\n', ""),
    ],
)
def test_hold_back_in_json_text_covers_half_written_escapes(text, held):
    assert text[PlaceholderTails(make_vault()).hold_from(text, IN_JSON_STRING) :] == held
