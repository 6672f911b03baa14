"""Load rules/*.yaml into a validated, immutable `Policy`.

Detection is data: which entity types count, how sure a detector must be, which
secret formats exist. This module turns the YAML into typed values once, and every
problem it finds names the file and the key, so a typo never silently weakens
protection.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import regex
import yaml

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules" / "default.yaml"
"""The shipped policy (in a source checkout and in an editable install)."""

_TYPE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")


class PolicyError(ValueError):
    """A rules file is unreadable or invalid; the message names file, key and problem."""


class Action(StrEnum):
    """What happens to a detected value of one entity type."""

    MASK = "mask"
    """Replaced by a placeholder upstream, restored in the answer."""
    REDACT = "redact"
    """Replaced by a placeholder upstream; the answer keeps the placeholder."""
    BLOCK = "block"
    """The whole request is refused and never forwarded."""
    LOG = "log"
    """Recorded on the flow only; the value goes upstream as written."""
    OFF = "off"
    """Not detected at all."""


ACTION_STRENGTH = {Action.OFF: 0, Action.LOG: 1, Action.MASK: 2, Action.REDACT: 3, Action.BLOCK: 4}
"""Which action wins when one value or span is claimed by types with different actions:
the one that lets less of it through."""


class OnFailure(StrEnum):
    """What happens to a guarded request that cannot be inspected."""

    CLOSED = "closed"
    """Refused with an OpenAI-shaped error; nothing is forwarded."""
    OPEN = "open"
    """Forwarded as it came, unmasked, with a warning on the flow and in the log."""


class OtherEndpoints(StrEnum):
    """What happens to requests on guarded hosts that maskgate does not inspect."""

    PASS = "pass"
    """Forwarded untouched; the flow is marked as not inspected."""
    BLOCK = "block"
    """Refused with an OpenAI-shaped error; nothing is forwarded."""


class EndpointMode(StrEnum):
    """What happens to requests for one of the API endpoints maskgate can inspect."""

    INSPECT = "inspect"
    """Analysed, and each detected type handled as its action says."""
    PASS = "pass"
    """Forwarded untouched; the flow is marked as not inspected."""
    BLOCK = "block"
    """Refused with an OpenAI-shaped error; nothing is forwarded."""


ENDPOINTS = ("chat_completions", "responses", "completions", "embeddings")
"""The endpoints maskgate can inspect, as the rules' `endpoints` section names them."""


class Checksum(StrEnum):
    """Check digits a custom recognizer's match must satisfy to count."""

    LUHN = "luhn"
    """Payment cards, IMEIs and many national ids: mod-10 over the digits."""
    IBAN = "iban"
    """ISO 13616 bank accounts: mod-97 over the rearranged letters and digits."""


@dataclass(frozen=True, slots=True)
class EntityRule:
    """How one personal-data type is handled, and how sure Presidio must be."""

    action: Action
    min_score: float


@dataclass(frozen=True, slots=True)
class SecretPattern:
    """A secret format that detect-secrets does not know, as a regular expression.

    When the expression has a group named ``secret``, only that group is masked;
    otherwise the whole match is.
    """

    id: str
    entity_type: str
    regex: re.Pattern[str]
    score: float


@dataclass(frozen=True, slots=True)
class PatternRule:
    """A personal-data format of the user's own, run by Presidio as a pattern recognizer.

    Context words near a match raise its score (Presidio's context enhancement), so a
    low `score` plus `context` finds a format only where the text says what it is.
    """

    id: str
    entity_type: str
    regex: str
    """Compiled by Presidio with the `regex` module, case-sensitive unless `(?i)`."""
    score: float
    context: tuple[str, ...]
    checksum: Checksum | None


@dataclass(frozen=True, slots=True)
class DenyList:
    """Terms always detected as `entity_type`: whole words, any case, score 1."""

    entity_type: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AllowRule:
    """Detected values that are never acted on: an exact value or a full-match regex,
    for every type or only the listed ones."""

    value: str | None
    pattern: re.Pattern[str] | None
    types: frozenset[str]
    """Empty: every type."""

    def allows(self, value: str, entity_type: str) -> bool:
        if self.types and entity_type not in self.types:
            return False
        if self.pattern is not None:
            return self.pattern.fullmatch(value) is not None
        return value == self.value


CUSTOM_TYPE_RULE = EntityRule(Action.MASK, 0.0)
"""For a type only the rules' own recognizers or deny lists produce and `pii.entities`
does not list: masked whatever its score."""


@dataclass(frozen=True, slots=True)
class PiiRules:
    language: str
    spacy_model: str
    entities: Mapping[str, EntityRule]
    """Every type that may be detected: the listed ones, plus the types of `recognizers`
    and `deny` that are not listed (with `CUSTOM_TYPE_RULE`)."""
    recognizers: tuple[PatternRule, ...] = ()
    deny: tuple[DenyList, ...] = ()

    @property
    def custom_types(self) -> frozenset[str]:
        """Types the rules' own recognizers and deny lists produce."""
        return frozenset(r.entity_type for r in (*self.recognizers, *self.deny))

    @property
    def min_scores(self) -> dict[str, float]:
        """Type -> minimum score, for the types that are detected at all (not ``off``).

        Only these reach Presidio, so an ``off`` type costs no recognizer time.
        """
        return {name: rule.min_score for name, rule in self.entities.items() if rule.action != Action.OFF}


@dataclass(frozen=True, slots=True)
class SecretRules:
    detect_secrets_plugins: tuple[Mapping[str, Any], ...]
    """Plugin settings in detect-secrets' own form: ``{"name": ..., **options}``."""
    patterns: tuple[SecretPattern, ...]
    actions: Mapping[str, Action]
    """Secret type -> action, for the types the rules name."""
    default_action: Action
    """The action for every secret type the rules do not name, so new plugins are covered."""


@dataclass(frozen=True, slots=True)
class Policy:
    source: str
    hosts: tuple[str, ...]
    pii: PiiRules
    secrets: SecretRules
    max_body_bytes: int
    analysis_timeout_ms: int
    allow: tuple[AllowRule, ...] = ()
    on_failure: OnFailure = OnFailure.CLOSED
    other_endpoints: OtherEndpoints = OtherEndpoints.PASS
    endpoints: Mapping[str, EndpointMode] = field(
        default_factory=lambda: dict.fromkeys(ENDPOINTS, EndpointMode.INSPECT)
    )
    """What happens to each endpoint of `ENDPOINTS`; every one is listed."""

    def allows(self, value: str, entity_type: str) -> bool:
        """True when the allow list exempts this detected value of `entity_type`."""
        return any(rule.allows(value, entity_type) for rule in self.allow)

    def action_for(self, entity_type: str, secret: bool) -> Action:
        """The action for a detection of `entity_type`.

        A personal-data type the rules do not list can only come from a detector the rules
        do not drive; it is masked, so an unexpected type never goes out in clear.
        """
        if secret:
            return self.secrets.actions.get(entity_type, self.secrets.default_action)
        rule = self.pii.entities.get(entity_type)
        return rule.action if rule else Action.MASK


def load_policy(path: str | Path = DEFAULT_RULES) -> Policy:
    """Read and validate one rules file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise PolicyError(f"{path}: cannot read: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise PolicyError(f"{path}: not valid YAML: {e}") from None
    return parse_policy(raw, str(path))


def parse_policy(raw: Any, source: str) -> Policy:
    """Validate an already-parsed rules document; `source` names it in errors."""
    doc = _Section(raw, source, "")
    doc.only(
        "version", "hosts", "endpoints", "other_endpoints", "on_failure", "allow", "pii", "secrets", "limits"
    )
    if doc.get("version", int) != 1:
        raise doc.error("version", "must be 1")
    pii = doc.section("pii")
    pii.only("language", "spacy_model", "entities", "recognizers", "deny")
    entities = pii.section("entities")
    listed = {name: _entity_rule(entities, name) for name in entities.type_names()}
    recognizers = _pattern_rules(pii)
    deny = _deny_lists(pii)
    custom = {r.entity_type: CUSTOM_TYPE_RULE for r in (*recognizers, *deny) if r.entity_type not in listed}
    secrets = doc.section("secrets")
    secrets.only("actions", "detect_secrets", "patterns")
    secret_actions = secrets.section("actions")
    limits = doc.section("limits")
    limits.only("max_body_kb", "analysis_timeout_ms")
    return Policy(
        source=source,
        hosts=tuple(h.lower() for h in doc.str_list("hosts")),
        pii=PiiRules(
            language=pii.get("language", str),
            spacy_model=pii.get("spacy_model", str),
            entities={**listed, **custom},
            recognizers=recognizers,
            deny=deny,
        ),
        secrets=SecretRules(
            detect_secrets_plugins=_detect_secrets_plugins(secrets),
            patterns=_secret_patterns(secrets),
            actions={name: secret_actions.action(name) for name in secret_actions.type_names("default")},
            default_action=secret_actions.action("default"),
        ),
        max_body_bytes=limits.positive_int("max_body_kb") * 1024,
        analysis_timeout_ms=limits.positive_int("analysis_timeout_ms"),
        allow=_allow_rules(doc),
        on_failure=doc.choice("on_failure", OnFailure, OnFailure.CLOSED),
        other_endpoints=doc.choice("other_endpoints", OtherEndpoints, OtherEndpoints.PASS),
        endpoints=_endpoint_modes(doc),
    )


def _endpoint_modes(doc: _Section) -> dict[str, EndpointMode]:
    """Each inspectable endpoint's mode; the section and each key in it are optional."""
    if "endpoints" not in doc.raw:
        return dict.fromkeys(ENDPOINTS, EndpointMode.INSPECT)
    section = doc.section("endpoints")
    section.only(*ENDPOINTS)
    return {name: section.choice(name, EndpointMode, EndpointMode.INSPECT) for name in ENDPOINTS}


def _entity_rule(entities: _Section, name: str) -> EntityRule:
    rule = entities.section(name)
    rule.only("action", "min_score")
    return EntityRule(rule.action("action"), rule.score("min_score"))


def _detect_secrets_plugins(secrets: _Section) -> tuple[Mapping[str, Any], ...]:
    plugins = []
    for i, item in enumerate(secrets.list("detect_secrets")):
        entry = _Section(item, secrets.source, f"{secrets.key('detect_secrets')}[{i}]")
        entry.get("name", str)
        plugins.append(dict(entry.raw))
    return tuple(plugins)


def _secret_patterns(secrets: _Section) -> tuple[SecretPattern, ...]:
    patterns = []
    seen: set[str] = set()
    for i, item in enumerate(secrets.list("patterns")):
        entry = _Section(item, secrets.source, f"{secrets.key('patterns')}[{i}]")
        entry.only("id", "type", "regex", "score")
        rule_id = entry.get("id", str)
        if rule_id in seen:
            raise entry.error("id", f"duplicate rule id {rule_id!r}")
        seen.add(rule_id)
        entity_type = entry.type_name("type")
        try:
            regex = re.compile(entry.get("regex", str))
        except re.error as e:
            raise entry.error("regex", f"invalid regular expression: {e}") from None
        patterns.append(SecretPattern(rule_id, entity_type, regex, entry.score("score")))
    return tuple(patterns)


def _pattern_rules(pii: _Section) -> tuple[PatternRule, ...]:
    rules = []
    seen: set[str] = set()
    for i, item in enumerate(pii.list("recognizers", optional=True)):
        entry = _Section(item, pii.source, f"{pii.key('recognizers')}[{i}]")
        entry.only("id", "type", "regex", "score", "context", "checksum")
        rule_id = entry.get("id", str)
        if rule_id in seen:
            raise entry.error("id", f"duplicate recognizer id {rule_id!r}")
        seen.add(rule_id)
        expression = entry.get("regex", str)
        try:
            compiled = regex.compile(expression)
        except regex.error as e:
            raise entry.error("regex", f"invalid regular expression: {e}") from None
        if compiled.match(""):
            raise entry.error("regex", "matches the empty string")
        rules.append(
            PatternRule(
                id=rule_id,
                entity_type=entry.type_name("type"),
                regex=expression,
                score=_positive_score(entry),
                context=tuple(entry.str_list("context", optional=True)),
                checksum=entry.choice("checksum", Checksum, None),
            )
        )
    return tuple(rules)


def _positive_score(entry: _Section) -> float:
    # Presidio drops a match scored 0 before context words could raise it: it would never fire.
    score = entry.score("score")
    if score == 0:
        raise entry.error("score", "must be above 0 (a match scored 0 is never reported)")
    return score


def _deny_lists(pii: _Section) -> tuple[DenyList, ...]:
    lists = []
    for i, item in enumerate(pii.list("deny", optional=True)):
        entry = _Section(item, pii.source, f"{pii.key('deny')}[{i}]")
        entry.only("type", "terms")
        terms = entry.str_list("terms")
        if not terms:
            raise entry.error("terms", "must list at least one term")
        for j, term in enumerate(terms):
            if not any(c.isalnum() for c in term):
                raise entry.error(f"terms[{j}]", "must contain a letter or digit")
        lists.append(DenyList(entry.type_name("type"), tuple(terms)))
    return tuple(lists)


def _allow_rules(doc: _Section) -> tuple[AllowRule, ...]:
    rules = []
    for i, item in enumerate(doc.list("allow", optional=True)):
        entry = _Section(item, doc.source, f"allow[{i}]")
        entry.only("value", "regex", "types")
        if ("value" in entry.raw) == ("regex" in entry.raw):
            raise PolicyError(f"{doc.source}: allow[{i}]: needs exactly one of value, regex")
        types = frozenset(entry.type_name_list("types"))
        if "value" in entry.raw:
            value = entry.get("value", str)
            if not value.strip():
                raise entry.error("value", "must not be empty")
            rules.append(AllowRule(value, None, types))
            continue
        try:
            pattern = re.compile(entry.get("regex", str))
        except re.error as e:
            raise entry.error("regex", f"invalid regular expression: {e}") from None
        if pattern.fullmatch(""):
            raise entry.error("regex", "matches the empty string")
        rules.append(AllowRule(None, pattern, types))
    return tuple(rules)


class _Section:
    """One mapping of the YAML document, with its dotted key for error messages."""

    def __init__(self, raw: Any, source: str, prefix: str) -> None:
        if not isinstance(raw, dict):
            where = prefix or "top level"
            raise PolicyError(f"{source}: {where}: must be a mapping, got {type(raw).__name__}")
        self.raw, self.source, self.prefix = raw, source, prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str) -> PolicyError:
        return PolicyError(f"{self.source}: {self.key(name)}: {problem}")

    def only(self, *allowed: str) -> None:
        for name in self.raw:
            if name not in allowed:
                raise self.error(str(name), f"unknown key (expected one of: {', '.join(allowed)})")

    def get(self, name: str, kind: type | tuple[type, ...]) -> Any:
        if name not in self.raw:
            raise self.error(name, "missing")
        value = self.raw[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            expected = " or ".join(k.__name__ for k in kinds)
            raise self.error(name, f"must be {expected}, got {type(value).__name__}")
        return value

    def section(self, name: str) -> _Section:
        return _Section(self.get(name, dict), self.source, self.key(name))

    def list(self, name: str, optional: bool = False) -> list[Any]:
        if optional and name not in self.raw:
            return []
        return self.get(name, list)

    def str_list(self, name: str, optional: bool = False) -> list[str]:
        values = self.list(name, optional)
        for i, v in enumerate(values):
            if not isinstance(v, str) or not v:
                raise self.error(f"{name}[{i}]", "must be a non-empty string")
        return values

    def type_names(self, *other_keys: str) -> list[str]:
        """The keys that name entity types; `other_keys` are allowed too but not returned."""
        names = []
        for name in self.raw:
            if name in other_keys:
                continue
            if not isinstance(name, str) or not _TYPE_NAME.match(name):
                raise self.error(str(name), "entity type must be UPPER_SNAKE_CASE")
            names.append(name)
        return names

    def type_name(self, name: str) -> str:
        value = self.get(name, str)
        if not _TYPE_NAME.match(value):
            raise self.error(name, f"{value!r} must be UPPER_SNAKE_CASE")
        return value

    def type_name_list(self, name: str) -> list[str]:
        values = self.str_list(name, optional=True)
        for i, value in enumerate(values):
            if not _TYPE_NAME.match(value):
                raise self.error(f"{name}[{i}]", f"{value!r} must be UPPER_SNAKE_CASE")
        return values

    def choice[E: StrEnum](self, name: str, kind: type[E], default: E | None) -> E | None:
        """An optional key whose value is one of `kind`'s values; `default` when absent."""
        if name not in self.raw:
            return default
        value = self.get(name, str)
        if value not in kind:
            raise self.error(name, f"{value!r} is not one of: {', '.join(kind)}")
        return kind(value)

    def action(self, name: str) -> Action:
        value = self.get(name, str)
        if value not in Action:
            raise self.error(name, f"{value!r} is not an action (expected one of: {', '.join(Action)})")
        return Action(value)

    def score(self, name: str) -> float:
        value = self.get(name, (int, float))
        if not 0 <= value <= 1:
            raise self.error(name, "must be a number between 0 and 1")
        return float(value)

    def positive_int(self, name: str) -> int:
        value = self.get(name, int)
        if value <= 0:
            raise self.error(name, "must be a positive integer")
        return value
