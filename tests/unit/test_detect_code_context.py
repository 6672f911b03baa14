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
        ("Kofi", 0),  # a variable assigned in a program, not a config file's value
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


MESSAGES = '''def check(uri, headers):
    """Concatenates the parts. Used when Rich requires a console; see the example::

        with open(path, 'wb') as f:
            f.write(name='Grace')
    """
    # A request that lacks a Host header is refused; reviewed by Jane.
    if not uri:
        raise ValueError(f"Invalid percent-escape in {uri}")
    author = "Frank"
'''


@pytest.mark.parametrize(
    ("value", "entity_type"),
    [
        ("Concatenates", "LOCATION"),  # a docstring's first word: a verb
        ("Rich", "PERSON"),  # a library's name that is an adjective, in running text
        ("wb", "PERSON"),  # a quoted string of a docstring's example
        ("Host", "PERSON"),  # a header's name that is a verb, in a comment
        ("Invalid", "LOCATION"),  # a message's first word: an adjective
    ],
)
def test_ordinary_words_and_quoted_strings_in_literals_and_comments_are_dropped(value, entity_type):
    assert values(MESSAGES, [ner(MESSAGES, value, entity_type)]) == []


@pytest.mark.parametrize(
    "value",
    [
        "Jane",  # not an English verb, adjective or adverb
        "Grace",  # quoted: a value of its own
        "Frank",  # the whole string: a value of its own
    ],
)
def test_names_in_literals_and_comments_are_kept(value):
    assert values(MESSAGES, [ner(MESSAGES, value)]) == [value]


def test_ordinary_words_are_names_in_prose():
    text = "Thanks to Rich and Grace for the review; Will sends the invoice."
    found = [ner(text, "Rich"), ner(text, "Grace"), ner(text, "Will")]
    assert values(text, found) == ["Rich", "Grace", "Will"]


@pytest.mark.parametrize(
    ("text", "value", "entity_type"),
    [
        (
            "DELETE /carts/9b2e41d7-0c3a-4f1e-8d6b-2a7c5e9f1b30 returned 404",
            "9b2e41d7-0c3a-4f1e-8d6b-2a7c5e9f1b30",
            "LOCATION",
        ),
        ("job 5fa1c3e9-77b0-4d2a-9c1e-0b8d3f6a2e14 failed", "5fa1c3e9", "LOCATION"),
        ("cache warmed in 315ms", "315ms", "LOCATION"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq7 deploy-bot\n", "deploy-bot", "PERSON"),
        ("How does the CAP theorem apply to Redis?", "CAP", "PERSON"),
        ("Which is faster, an SDK or the REST calls?", "SDK", "PERSON"),
    ],
)
def test_ids_host_names_and_acronyms_are_never_names(text, value, entity_type):
    assert values(text, [ner(text, value, entity_type)]) == []


@pytest.mark.parametrize(
    ("text", "value", "entity_type"),
    [
        ("Deliver to Flat 27W, Tony Landing", "Flat 27W", "LOCATION"),
        ("I moved to the UK in May.", "UK", "LOCATION"),
        ("Passenger: SMITH, booked by Jean-Luc O'Neil.", "SMITH", "PERSON"),
        ("Passenger: SMITH, booked by Jean-Luc O'Neil.", "Jean-Luc O'Neil", "PERSON"),
        ("customer: ekaja khatri, born 2019", "ekaja khatri", "PERSON"),
    ],
)
def test_places_with_numbers_capitals_and_hyphenated_names_are_kept(text, value, entity_type):
    assert values(text, [ner(text, value, entity_type)]) == [value]


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


LOG = """2024-03-14 09:12:03,511 INFO [Connection Pool] Retrying in 5s
2024-03-14 09:12:04.120  WARN 8812 --- [main] com.acme.orders.OrderService : Config Loader - Started
Mar 14 09:12:05 web-01 systemd[1]: Listening on Docker Socket for the API.
Mar 14 09:12:06 web-01 sshd[812]: Accepted publickey for deploy, Thu Mar 14
INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)
09:12:07 | INFO | sync: Git checkout done; git config --global user.name set
2024-03-14 09:12:08 INFO password reset requested by Jane Okafor from Lisbon
app-db-1  | Event Bus ready
"""


@pytest.mark.parametrize(
    ("value", "entity_type"),
    [
        ("Connection Pool", "LOCATION"),  # a component in brackets
        ("Config Loader - Started", "PERSON"),  # a component, a spaced dash, an ordinary word
        ("Docker Socket", "PERSON"),  # ends in a component noun
        ("Retrying", "PERSON"),  # an ordinary word on a log line
        ("Thu Mar", "PERSON"),  # a day and a month
        ("Uvicorn", "LOCATION"),  # a place no gazetteer knows, on a log line
        ("Git", "PERSON"),  # written in small letters elsewhere in the text
        ("Event Bus", "LOCATION"),  # after a compose service's prefix
    ],
)
def test_services_steps_and_dates_on_log_lines_are_dropped(value, entity_type):
    assert values(LOG, [ner(LOG, value, entity_type)]) == []


@pytest.mark.parametrize(("value", "entity_type"), [("Jane Okafor", "PERSON"), ("Lisbon", "LOCATION")])
def test_people_and_known_places_on_log_lines_are_kept(value, entity_type):
    assert values(LOG, [ner(LOG, value, entity_type)]) == [value]


def test_ordinary_words_outside_log_lines_are_left_to_the_recognizer():
    text = "Retrying met us at the station. The Thu Mar workshop starts soon."
    assert values(text, [ner(text, "Retrying"), ner(text, "Thu Mar")]) == ["Retrying", "Thu Mar"]


@pytest.mark.parametrize(
    ("text", "value", "kept"),
    [
        # Component nouns end the name of a part of a program, not of a person.
        ("The Payment Gateway Workers were restarted.", "Payment Gateway Workers", []),
        ("Db Migrator Started without errors.", "Db Migrator Started", []),
        # Before a comma or a line break, the name of a person stands on its own.
        ("Kind regards,\nLuísa Ramos\nBackend Developer", "Luísa Ramos\nBackend", ["Luísa Ramos\nBackend"]),
        ("Ana Ruiz, Engineering Manager", "Ana Ruiz, Engineering Manager", ["Ana Ruiz, Engineering Manager"]),
        # A spaced dash ends a name; a hyphen inside one does not.
        ("Jonathan - ip-address of others", "Jonathan - ip-address", ["Jonathan"]),
        ("Jean-Luc Picard signed.", "Jean-Luc Picard", ["Jean-Luc Picard"]),
        # A table's columns are no name.
        ("CREATED   STATUS     PORTS      NAMES", "PORTS      NAMES", []),
        # A title left alone by a cut names nobody.
        ("draft to a.b@crawford.org\n- Mx. Johansson reviews", "crawford.org\n- Mx", []),
    ],
)
def test_components_dashes_columns_and_lone_titles_are_cut_away(text, value, kept):
    assert values(text, [ner(text, value, "PERSON")]) == kept


@pytest.mark.parametrize(
    ("text", "value", "entity_type"),
    [
        ("$ docker compose up -d", "docker", "PERSON"),  # a shell command
        ("HTTP probe failed with statuscode: 503", "statuscode", "PERSON"),  # a key in small letters
        ("a5ce1c867332   9 weeks ago    794MB", "a5ce1c867332   9 weeks ago", "LOCATION"),
        ("golang.org/x/net v0.8.5/go.mod h1:Hu/p+ZhTzMfgmMXyiGZwTTqQc/7bVJCA=", "Hu", "PERSON"),
        ('integrity="sha384-Kq2Bv9lYtR8Wf0ZxPmL3uN7aHcD1eJsQ4oVyG6iTbE5"', "Kq", "PERSON"),
        ("_NeedDict: TypeAlias = dict[str, str]", "TypeAlias", "PERSON"),
        ("def f():\n    # TODO: Perhaps move this\n    pass", "TODO", "PERSON"),
        ("_INTS = {v: k for k, v in _STRINGS.items()}", "k for k", "PERSON"),
    ],
)
def test_commands_keys_hashes_and_annotations_are_never_names(text, value, entity_type):
    assert values(text, [ner(text, value, entity_type)]) == []


MINIFIED = (
    "function ag(){this.__data__=new Pt,this.size=0}"
    + "".join(f"function f{i}(c){{return c.length>{i}?c.slice(0,{i}):c}}" for i in range(6))
    + "switch(x){case Eo:return Nn}var Bo=1"
)


@pytest.mark.parametrize(("value", "kept"), [("new Pt", []), ("case Eo", []), ("Bo", [])])
def test_minified_code_is_code(value, kept):
    assert values(MINIFIED, [ner(MINIFIED, value)]) == kept


def test_small_words_before_a_name_are_cut_and_names_in_small_letters_or_paths_kept():
    text = "I asked maria garcia lopez; see /Users/Ana/report2024 and ask van Gogh"
    found = [ner(text, "maria garcia lopez"), ner(text, "Ana"), ner(text, "ask van Gogh")]
    assert values(text, found) == ["maria garcia lopez", "Ana", "van Gogh"]


MODULE = """```python
# Wraps the Zstandard library; see Typer for the command line.
from typing import Iterable
import typer

class Frame:
    opcode: Opcode
    header: str = "Sec-WebSocket-Key"

    def parse(self, typer_app, kind: ReadError, Dumper=Dumper, **kwargs) -> Iterable:
        \"\"\"Read a frame.

        >>> Frame().parse(Undefined)
        Traceback (most recent call last):

        ~~~~~~~~~~~~~~~~~~~~~~~~
        ```python
        from frames import Ge, Len
        ```
        \"\"\"
        if platform.system() == "Darwin":
            return {"Mandaic": range(2112, 2144), "env": "ALLUSERSPROFILE"}
        # moved from asyncio; written with Ana Ruiz
        raise SSLError("bad SSLContext, ask Ana")
```"""


@pytest.mark.parametrize(
    ("value", "nth", "entity_type"),
    [
        ("Iterable", 0, "PERSON"),  # an import
        ("Opcode", 0, "PERSON"),  # a bare annotation in a class body
        ("ReadError", 0, "PERSON"),  # a parameter's annotation
        ("Dumper", 1, "PERSON"),  # a keyword argument's default, a name of the program
        ("Sec-WebSocket-Key", 0, "PERSON"),  # a protocol's name run together
        ("Typer", 0, "PERSON"),  # a comment naming a module the code imports (``typer``)
        ("Undefined", 0, "PERSON"),  # a doctest's line
        ("Traceback", 0, "PERSON"),  # the traceback a doctest prints
        ("Len", 0, "PERSON"),  # an import in an example inside a docstring
        ("Darwin", 0, "PERSON"),  # a constant the code compares with
        ("Mandaic", 0, "PERSON"),  # a mapping's key
        ("ALLUSERSPROFILE", 0, "PERSON"),  # a string in capitals: a variable's name
        ("asyncio", 0, "LOCATION"),  # a place in small letters in code: a module
        ("SSLContext", 0, "LOCATION"),  # an acronym run together with a word
    ],
)
def test_names_of_the_program_in_modules_and_their_docstrings_are_dropped(value, nth, entity_type):
    assert values(MODULE, [ner(MODULE, value, entity_type, nth)]) == []


def test_a_fences_backticks_open_no_string():
    text = "Can you explain this?\n```python\nfrom typing import Deque\n```\nThanks"
    assert CodeMap(text).literal_at(text.index("Deque"), text.index("Deque") + 5) is None
    assert values(text, [ner(text, "Deque")]) == []


def test_comments_just_before_code_are_code():
    text = "# base HTTPError\n\nclass ConnectTimeoutError(TimeoutError):\n    pass\n"
    assert values(text, [ner(text, "HTTPError", "LOCATION")]) == []


@pytest.mark.parametrize("value", ["Ana Ruiz", "Ana"])
def test_names_in_a_modules_comments_and_messages_are_kept(value):
    assert values(MODULE, [ner(MODULE, value)]) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "[contact]\nowner = Kofi\nretries = 3\n",
        "on_call:\n  name: Kofi\n  email: k@example.org\n",
        "# Contacts\nowner = Kofi\n",
    ],
)
def test_unquoted_values_of_config_files_are_kept(text):
    assert values(text, [ner(text, "Kofi")]) == ["Kofi"]
