"""Names and places from the entity recognizer against the code and the text around them."""

from __future__ import annotations

import pytest

from maskgate.detect.code_context import NER_RECOGNIZER, CodeMap, refine
from maskgate.detect.types import Detection


def ner(text: str, value: str, entity_type: str = "PERSON", nth: int = 0) -> Detection:
    """A recognizer detection of the `nth` occurrence of `value` in `text`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(value, start + 1)
    return Detection(start, start + len(value), entity_type, 0.85, "presidio", NER_RECOGNIZER)


def values(text: str, detections: list[Detection]) -> list[str]:
    return [text[d.start : d.end] for d in refine(text, detections)]


PYTHON = '''def render(layer: Layer, stack) -> None:
    """Draw the layer. Written with Jane Doe, see ProxyManager.

    Raises:
        ValueError: if it is empty
    """
    author = "Jane Doe"  # ask Jane Doe
    with open(path, "wb") as f:
        if isinstance(stack, Layer):
            stack.push(Server(context))
        name = Kofi
'''


@pytest.mark.parametrize(
    ("value", "nth"),
    [
        ("Layer", 0),  # a type hint on a def line
        ("Layer", 1),  # inside an if statement
        ("Server", 0),  # a call
        ("ProxyManager", 0),  # a class name in a docstring
        ("Raises", 0),  # a docstring section heading
        ("wb", 0),  # a string that is one small-letter word
        ("stack.push", 0),  # an attribute chain
    ],
)
def test_identifiers_in_code_are_dropped(value, nth):
    assert values(PYTHON, [ner(PYTHON, value, nth=nth)]) == []


@pytest.mark.parametrize(
    ("value", "nth"),
    [
        ("Jane Doe", 0),  # in a docstring
        ("Jane Doe", 1),  # in a string literal
        ("Jane Doe", 2),  # in a comment
        ("Kofi", 0),  # an unquoted value at the end of a line
    ],
)
def test_names_in_strings_comments_and_values_are_kept(value, nth):
    assert values(PYTHON, [ner(PYTHON, value, nth=nth)]) == [value]


def test_names_in_prose_are_kept_even_next_to_punctuation():
    text = "Hi Ojas, (Jan) said: Smith's review goes to Berlin.\nThanks,\nMaria"
    found = [ner(text, "Ojas"), ner(text, "Jan"), ner(text, "Smith"), ner(text, "Berlin", "LOCATION")]
    found.append(ner(text, "Maria"))
    assert values(text, found) == ["Ojas", "Jan", "Smith", "Berlin", "Maria"]


def test_a_person_span_is_cut_where_a_name_cannot_go_and_the_number_is_left_whole():
    text = "exported record for Ibrahim, Philip ssn=734-40-9259 by admin"
    ssn = Detection(text.index("734"), text.index("734") + 11, "US_SSN", 0.5, "presidio", "UsSsnRecognizer")
    result = values(text, [ner(text, "Ibrahim, Philip ssn=734-"), ssn])
    assert sorted(result) == ["734-40-9259", "Ibrahim, Philip"]


def test_cutting_keeps_every_piece_that_is_a_name():
    text = "owners=Alice Smith/Bob Jones;"
    assert values(text, [ner(text, "owners=Alice Smith/Bob Jones;")]) == ["Alice Smith", "Bob Jones"]


@pytest.mark.parametrize(
    ("text", "value", "entity_type"),
    [
        ("completed in 1007 ms status=204\n", "ms status=204", "PERSON"),
        ("2025-06-25 09:31:16,571 ERROR [cache]", "09:31:16,571 ERROR", "LOCATION"),
        ("x = t.Optional[t.Any]", "Optional[t", "LOCATION"),
        ("raise TemplateSyntaxError(msg)", "TemplateSyntaxError(", "LOCATION"),
        ('{"buildId":"Vm91PtyJv22x-2HIuHIin"}', "Vm91PtyJv22x-2HIuHIin", "LOCATION"),
        ("class CaseInsensitiveDict(MutableMapping[str, _VT]):", "VT", "LOCATION"),
        ("use `Layer` here", "Layer", "PERSON"),
        ("    :param json: the body", "param json", "PERSON"),
    ],
)
def test_code_shapes_are_never_names(text, value, entity_type):
    assert values(text, [ner(text, value, entity_type)]) == []


def test_only_the_recognizers_names_and_places_are_touched():
    text = "def f(Layer_1): pass"
    other = [
        Detection(6, 11, "PERSON", 1.0, "presidio", "deny:PERSON"),
        Detection(6, 11, "PERSON", 1.0, "presidio", "rules:name-after-greeting"),
        Detection(6, 13, "SECRET", 0.8, "pattern", "x", secret=True),
    ]
    assert refine(text, other) == other


def test_code_map_finds_fenced_blocks_statement_runs_and_literals():
    text = "Look at this:\n```\nx = 'Ann'\n```\nThanks, Ann\nimport os\n    # by Ann\nAnn wrote it.\n"
    code = CodeMap(text)
    assert code.in_code(text.index("x ="))
    assert not code.in_code(text.index("Thanks"))
    assert code.in_code(text.index("# by"))
    assert not code.in_code(text.index("Ann wrote"))
    literal = code.literal_at(text.index("Ann"), text.index("Ann") + 3)
    assert literal is not None and not literal.comment
    comment = code.literal_at(text.index("Ann", text.index("#")), text.index("Ann", text.index("#")) + 3)
    assert comment is not None and comment.comment


def test_linear_on_long_and_unbalanced_input():
    text = ('x = "' + "a" * 50 + "\n") * 2000 + '"""' + "b " * 20000
    found = [ner(text, "a" * 50)]
    assert refine(text, found) == []
