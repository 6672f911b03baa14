"""Secret detection: detect-secrets plugins plus the policy's own regular expressions.

detect-secrets is used as a library, in memory. Its ad-hoc scan entry point reads and
rewrites process-wide settings on every call, so instead each detector builds its own
plugin instances once, from the policy, and asks them about one line at a time. Two
gaps of detect-secrets are closed here: it reports values, not positions, and only
once per value, so every occurrence is located again in the scanned text; and it scans
line by line, so multi-line secrets (private key blocks) come from the policy's
patterns, which run over the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.plugins.base import BasePlugin

from maskgate.detect.types import Detection
from maskgate.policy import Action, Policy, PolicyError, SecretPattern

PLUGIN_ENGINE = "detect-secrets"
PATTERN_ENGINE = "pattern"

PLUGIN_SCORE = 0.9
"""Score given to detect-secrets findings, which carry none. It sits below the shipped
patterns' scores so that, for the same span, a specific pattern names the type."""

ENTITY_TYPES: Mapping[str, str] = {
    "AWSKeyDetector": "AWS_ACCESS_KEY_ID",
    "ArtifactoryDetector": "ARTIFACTORY_TOKEN",
    "AzureStorageKeyDetector": "AZURE_STORAGE_KEY",
    "Base64HighEntropyString": "HIGH_ENTROPY_STRING",
    "BasicAuthDetector": "PASSWORD",
    "CloudantDetector": "CLOUDANT_CREDENTIALS",
    "DiscordBotTokenDetector": "DISCORD_BOT_TOKEN",
    "GitHubTokenDetector": "GITHUB_TOKEN",
    "GitLabTokenDetector": "GITLAB_TOKEN",
    "HexHighEntropyString": "HIGH_ENTROPY_STRING",
    "IbmCloudIamDetector": "IBM_CLOUD_IAM_KEY",
    "IbmCosHmacDetector": "IBM_COS_HMAC_KEY",
    "IPPublicDetector": "IP_ADDRESS",
    "JwtTokenDetector": "JWT",
    "KeywordDetector": "PASSWORD",
    "MailchimpDetector": "MAILCHIMP_API_KEY",
    "NpmDetector": "NPM_TOKEN",
    "OpenAIDetector": "OPENAI_API_KEY",
    "PrivateKeyDetector": "PRIVATE_KEY",
    "PypiTokenDetector": "PYPI_TOKEN",
    "SendGridDetector": "SENDGRID_API_KEY",
    "SlackDetector": "SLACK_TOKEN",
    "SoftlayerDetector": "SOFTLAYER_API_KEY",
    "SquareOAuthDetector": "SQUARE_OAUTH_SECRET",
    "StripeDetector": "STRIPE_API_KEY",
    "TelegramBotTokenDetector": "TELEGRAM_BOT_TOKEN",
    "TwilioKeyDetector": "TWILIO_API_KEY",
}
"""Entity type reported for each plugin; a plugin missing here is named after its
detect-secrets secret type."""

WINDOW = 1024
OVERLAP = 256
"""Plugins see long lines in windows of `WINDOW` characters that overlap by `OVERLAP`.
Some plugin expressions take time quadratic in the line length (measured: a 200 KB
line of repeated ``eyJ`` keeps the JWT plugin busy for 8 s), so the window bounds the
cost per character. Any secret up to `OVERLAP` characters lies whole in some window."""

_SCAN_NAME = "message.txt"
"""File name given to plugins that pick their expressions by file type: a chat
message is plain text."""

_LINE = re.compile(r"[^\r\n]+")
_WORD_CHAR = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class _Plugin:
    name: str
    entity_type: str
    scanner: BasePlugin


class SecretDetector:
    """Runs the policy's detect-secrets plugins and secret patterns over a text.

    Plugins and compiled patterns are built once; scanning keeps no state between
    calls, so one instance serves concurrent threads.
    """

    def __init__(self, policy: Policy) -> None:
        plugins = tuple(
            _plugin(options, policy.source, f"secrets.detect_secrets[{i}]")
            for i, options in enumerate(policy.secrets.detect_secrets_plugins)
        )
        _check_actions(policy, plugins)
        # Plugins and patterns of `off` types are still validated, but never run.
        self._plugins = tuple(p for p in plugins if policy.action_for(p.entity_type, True) != Action.OFF)
        self._patterns = tuple(
            p for p in policy.secrets.patterns if policy.action_for(p.entity_type, True) != Action.OFF
        )

    def detect(self, text: str) -> list[Detection]:
        """Every span a plugin or pattern flags; spans may overlap (the engine resolves that)."""
        found = set(self._plugin_detections(text))
        found.update(d for pattern in self._patterns for d in _pattern_detections(pattern, text))
        # A total order: equal spans of two patterns must name the same one in every process,
        # whatever order the set iterates in.
        return sorted(found, key=lambda d: (d.start, d.end, d.entity_type, -d.score, d.engine, d.recognizer))

    def _plugin_detections(self, text: str) -> Iterator[Detection]:
        if not self._plugins:
            return
        for line in _LINE.finditer(text):
            for offset, window in _windows(line.group()):
                base = line.start() + offset
                for plugin in self._plugins:
                    for value in _plugin_values(plugin.scanner, window):
                        for start, end in occurrences(window, value):
                            yield Detection(
                                start=base + start,
                                end=base + end,
                                entity_type=plugin.entity_type,
                                score=PLUGIN_SCORE,
                                engine=PLUGIN_ENGINE,
                                recognizer=plugin.name,
                                secret=True,
                            )


def _check_actions(policy: Policy, plugins: tuple[_Plugin, ...]) -> None:
    """Refuse an action for a secret type no plugin or pattern of these rules reports: with
    a typo, the real type would silently keep the default action."""
    reported = {p.entity_type for p in plugins} | {p.entity_type for p in policy.secrets.patterns}
    for name in policy.secrets.actions:
        if name not in reported:
            raise PolicyError(
                f"{policy.source}: secrets.actions.{name}: no plugin in secrets.detect_secrets and "
                "no pattern in secrets.patterns reports this type"
            )


def _plugin(options: Mapping[str, Any], source: str, key: str) -> _Plugin:
    """Instantiate one configured plugin; configuration errors name file and key."""
    settings = dict(options)
    name = settings.pop("name")
    if "path" in settings:
        raise PolicyError(
            f"{source}: {key}.path: plugins from files are not supported; "
            "add a regular expression under secrets.patterns instead"
        )
    classes = {cls.__name__: cls for cls in get_mapping_from_secret_type_to_class().values()}
    if name not in classes:
        raise PolicyError(
            f"{source}: {key}.name: unknown detect-secrets plugin {name!r} "
            f"(available: {', '.join(sorted(classes))})"
        )
    try:
        scanner = classes[name](**settings)
    except (TypeError, ValueError) as e:
        raise PolicyError(f"{source}: {key}: invalid options for {name}: {e}") from None
    entity_type = ENTITY_TYPES.get(name) or _type_name(classes[name].secret_type)
    return _Plugin(name, entity_type, scanner)


def _type_name(secret_type: str) -> str:
    """``'Some Token (v2)'`` -> ``'SOME_TOKEN_V2'``."""
    return re.sub(r"[^A-Z0-9]+", "_", secret_type.upper()).strip("_") or "SECRET"


def _windows(line: str) -> Iterator[tuple[int, str]]:
    """(offset, slice) pairs covering `line` in overlapping windows of at most `WINDOW`."""
    start = 0
    while True:
        yield start, line[start : start + WINDOW]
        if start + WINDOW >= len(line):
            return
        start += WINDOW - OVERLAP


def _plugin_values(scanner: BasePlugin, line: str) -> set[str]:
    """The values one plugin reports in one line, minus detect-secrets' own false-positive
    heuristics (sequences, UUIDs, templates, ``$VARIABLES``, ids, no letters).

    These are the filters its ad-hoc scan applies, except ``pragma: allowlist secret``
    comments: they allow a secret in a repository, not in a request to a third party.
    """
    values = {str(s.secret_value) for s in scanner.analyze_line(filename=_SCAN_NAME, line=line)}
    return {v for v in values if v and not _is_false_positive(v, line, scanner)}


def _is_false_positive(value: str, line: str, scanner: BasePlugin) -> bool:
    return (
        heuristic.is_sequential_string(value)
        or heuristic.is_potential_uuid(value)
        or heuristic.is_likely_id_string(value, line, scanner)
        or heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_not_alphanumeric_string(value)
    )


def occurrences(text: str, value: str) -> Iterator[tuple[int, int]]:
    """Spans of every occurrence of `value` in `text` that is not part of a longer word.

    detect-secrets reports each value once per line; the same key pasted twice must be
    masked twice. A value that starts or ends with a letter or digit only counts where
    the text does not continue that word, so a short password such as ``pw`` is not
    found inside ``pwd``. Occurrences do not overlap, leftmost first.

    A plain search rather than a regular expression: `re` would keep the secret in its
    module-wide cache of patterns.
    """
    guard_start, guard_end = _WORD_CHAR.match(value[0]), _WORD_CHAR.match(value[-1])
    start = text.find(value)
    while start >= 0:
        end = start + len(value)
        if not (guard_start and start and _WORD_CHAR.match(text[start - 1])) and not (
            guard_end and end < len(text) and _WORD_CHAR.match(text[end])
        ):
            yield start, end
            start = text.find(value, end)
        else:
            start = text.find(value, start + 1)


def _pattern_detections(pattern: SecretPattern, text: str) -> Iterator[Detection]:
    """Matches of one policy pattern, limited to its ``secret`` group when it has one."""
    group = "secret" if "secret" in pattern.regex.groupindex else 0
    for match in pattern.regex.finditer(text):
        start, end = match.span(group)
        if start < end:
            yield Detection(
                start=start,
                end=end,
                entity_type=pattern.entity_type,
                score=pattern.score,
                engine=PATTERN_ENGINE,
                recognizer=pattern.id,
                secret=True,
            )
