"""Secret detection: detect-secrets plugins, kingfisher's rule catalogue and the policy's own
regular expressions.

detect-secrets is used as a library, in memory. Its ad-hoc scan entry point reads and
rewrites process-wide settings on every call, so instead each detector builds its own
plugin instances once, from the policy, and asks them about one line at a time. Two
gaps of detect-secrets are closed here: it reports values, not positions, and only
once per value, so every occurrence is located again in the scanned text; and it scans
line by line, so multi-line secrets (private key blocks) come from the policy's
patterns, which run over the whole text.

kingfisher (an in-process Rust scanner with several hundred provider formats) covers the
providers neither the plugins nor the patterns know. Its catalogue is compiled once per
process; nothing is validated over the network. The compiled catalogue (public rules, no
text ever scanned) is cached in the user's cache directory, which cuts a start from about
three seconds to half a second.

What every engine reports is then checked against the look-alikes chat text is full of:
placeholder keys (``sk-...``, ``YOUR_API_KEY``, ``ghp_xxxx``) from all engines, and digests,
lockfile hashes and object ids from the generic plugins (entropy and keyword), which cannot
tell a hash from a key by the characters alone.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.plugins.base import BasePlugin

from maskgate.detect.types import Detection
from maskgate.policy import Action, Policy, PolicyError, SecretPattern

if TYPE_CHECKING:
    from kingfisher_sdk import Scanner

logger = logging.getLogger("maskgate")

PLUGIN_ENGINE = "detect-secrets"
KINGFISHER_ENGINE = "kingfisher"
PATTERN_ENGINE = "pattern"

PLUGIN_SCORE = 0.9
"""Score given to detect-secrets and kingfisher findings, which carry none. It sits below
the shipped provider patterns' scores so that, for the same span, a pattern names the type."""

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

GENERIC_PLUGINS = frozenset({"Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector"})
"""Plugins that judge by entropy or a nearby keyword rather than a provider's format: their
findings are checked against digests, hashes and object ids before they count."""

KINGFISHER_TYPES: tuple[tuple[str, str], ...] = (
    ("betterleaks.anthropic-", "ANTHROPIC_API_KEY"),
    ("betterleaks.aws-access-token", "AWS_ACCESS_KEY_ID"),
    ("betterleaks.azure-ad-client-secret", "AZURE_CLIENT_SECRET"),
    ("betterleaks.azure-storage-account-key", "AZURE_STORAGE_KEY"),
    ("betterleaks.gcp-api-key", "GOOGLE_API_KEY"),
    ("betterleaks.gcp-gemini-api", "GOOGLE_API_KEY"),
    ("betterleaks.generic-credential-uri", "PASSWORD"),
    ("betterleaks.github-", "GITHUB_TOKEN"),
    ("betterleaks.gitlab-", "GITLAB_TOKEN"),
    ("betterleaks.huggingface-", "HUGGINGFACE_TOKEN"),
    ("betterleaks.jwt", "JWT"),
    ("betterleaks.mailchimp-", "MAILCHIMP_API_KEY"),
    ("betterleaks.npm-", "NPM_TOKEN"),
    ("betterleaks.openai-", "OPENAI_API_KEY"),
    ("betterleaks.private-key", "PRIVATE_KEY"),
    ("betterleaks.pypi-", "PYPI_TOKEN"),
    ("betterleaks.sendgrid-", "SENDGRID_API_KEY"),
    ("betterleaks.slack-", "SLACK_TOKEN"),
    ("betterleaks.stripe-", "STRIPE_API_KEY"),
    ("betterleaks.telegram-", "TELEGRAM_BOT_TOKEN"),
    ("betterleaks.twilio-", "TWILIO_API_KEY"),
    ("veles.secrets/bitbucket", "BITBUCKET_CREDENTIALS"),
    ("veles.secrets/circleci", "CIRCLECI_TOKEN"),
    ("veles.secrets/cloudflare", "CLOUDFLARE_API_TOKEN"),
    ("veles.secrets/digitalocean", "DIGITALOCEAN_API_KEY"),
    ("veles.secrets/grokxai", "XAI_API_KEY"),
    ("veles.secrets/heroku", "HEROKU_API_KEY"),
    ("veles.secrets/npmjs", "NPM_TOKEN"),
    ("veles.secrets/openrouter", "OPENROUTER_API_KEY"),
    ("veles.secrets/postman", "POSTMAN_API_KEY"),
    ("veles.secrets/sendgrid", "SENDGRID_API_KEY"),
    ("veles.secrets/slack", "SLACK_TOKEN"),
)
"""maskgate's type for kingfisher rules, by rule id prefix: the types the plugins and patterns
give the same secrets (so that one secret gets one type whichever engine finds it), and
readable names for rule ids that run words together. Other rules are named after their id:
``betterleaks.groq-api-key`` reports GROQ_API_KEY."""

_PLACEHOLDER = re.compile(r"(?i)x{6}|\*{3}|\.{3}|…|^your[_-]|[_-]your[_-]|replace[_-]?me|<[^<>\s]{1,40}>")
"""Marks of a value that stands for a secret rather than being one: ``sk-...``, ``ghp_xxxx``,
``AKIAXXXXXXXXXXXXXXXX``, ``********``, ``YOUR_API_KEY``, ``<token>``. Random keys contain none
of them (six x in a row in a random base62 key is about one in ten million)."""

_DIGEST_LABEL = re.compile(r"(?i)(?:sha(?:1|224|256|384|512)|md5|blake2[bs]?|h1|zh)[:-]")
_HASH_WORD = re.compile(
    r"(?i)\b(?:sha\d*|md5|hash(?:es)?|checksums?|digest|commit|integrity|etag|resolved|lock)\b"
)
_HEX = re.compile(r"[0-9a-fA-F]+")
_OBJECT_ID = re.compile(
    r"(?:chatcmpl|cmpl|call|asst|thread|run|msg|file|vs|resp|batch|ftjob"
    r"|evt|pi|pm|cus|ch|in|sub|price|prod|req|seti|acct)[_-][A-Za-z0-9]{8,}"
)
"""Object ids of OpenAI's and Stripe's APIs (chatcmpl-..., call_..., cus_..., pi_...): random,
so of high entropy, but names of objects, not credentials."""

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

    @property
    def generic(self) -> bool:
        return self.name in GENERIC_PLUGINS


@dataclass(frozen=True, slots=True)
class _Kingfisher:
    scanner: Scanner
    types: Mapping[str, str]
    """maskgate's type for each rule id whose findings count."""


class SecretDetector:
    """Runs the policy's detect-secrets plugins and secret patterns, and kingfisher's catalogue,
    over a text.

    Plugins, compiled patterns and the catalogue are built once; scanning keeps no state
    between calls, so one instance serves concurrent threads.
    """

    def __init__(self, policy: Policy) -> None:
        plugins = tuple(
            _plugin(options, policy.source, f"secrets.detect_secrets[{i}]")
            for i, options in enumerate(policy.secrets.detect_secrets_plugins)
        )
        kingfisher = _kingfisher()
        _check_actions(policy, plugins, kingfisher)
        # Plugins, patterns and rules of `off` types are still validated, but never run.
        self._plugins = tuple(p for p in plugins if policy.action_for(p.entity_type, True) != Action.OFF)
        self._patterns = tuple(
            p for p in policy.secrets.patterns if policy.action_for(p.entity_type, True) != Action.OFF
        )
        self._kingfisher = (
            _Kingfisher(
                kingfisher.scanner,
                {rule: t for rule, t in kingfisher.types.items() if policy.action_for(t, True) != Action.OFF},
            )
            if kingfisher
            else None
        )

    def detect(self, text: str) -> list[Detection]:
        """Every span a plugin, pattern or kingfisher rule flags, less placeholders; spans may
        overlap (the engine resolves that)."""
        found = set(self._plugin_detections(text))
        found.update(d for pattern in self._patterns for d in _pattern_detections(pattern, text))
        if self._kingfisher:
            found.update(_kingfisher_detections(self._kingfisher, text))
        found = {d for d in found if not _is_placeholder(text[d.start : d.end])}
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
                            if plugin.generic and _is_digest_or_id(window, start, end):
                                continue
                            yield Detection(
                                start=base + start,
                                end=base + end,
                                entity_type=plugin.entity_type,
                                score=PLUGIN_SCORE,
                                engine=PLUGIN_ENGINE,
                                recognizer=plugin.name,
                                secret=True,
                            )


def _check_actions(policy: Policy, plugins: tuple[_Plugin, ...], kingfisher: _Kingfisher | None) -> None:
    """Refuse an action for a secret type nothing reports: with a typo, the real type would
    silently keep the default action."""
    reported = {p.entity_type for p in plugins} | {p.entity_type for p in policy.secrets.patterns}
    reported.update(kingfisher.types.values() if kingfisher else ())
    for name in policy.secrets.actions:
        if name not in reported:
            raise PolicyError(
                f"{policy.source}: secrets.actions.{name}: no plugin in secrets.detect_secrets, "
                "no pattern in secrets.patterns and no kingfisher rule reports this type"
            )


@functools.cache
def _kingfisher() -> _Kingfisher | None:
    """kingfisher's scanner over its built-in catalogue, with the type of each rule it reports.

    Compiling the catalogue takes about three seconds, so it happens once per process and
    every detector shares the result, and the compiled rules are cached on disk (see
    `kingfisher_cache_dir`). None where the package is not installed (it has no build for
    some platforms, such as Intel macOS); detection then relies on the plugins and patterns
    alone, and says so once.
    """
    try:
        from kingfisher_sdk import Rules, Scanner
    except ImportError:
        logger.warning(
            "kingfisher-secret-scanner is not installed: secret formats outside "
            "secrets.detect_secrets and secrets.patterns are not detected"
        )
        return None
    cache_dir = kingfisher_cache_dir()
    rules = Rules(cache=cache_dir is not None, cache_dir=cache_dir)
    # Invisible rules are helpers of composite rules (an AWS secret next to its key id, Azure
    # tenant and client ids): parts the visible rule reports with, not findings of their own.
    types = {rule["id"]: _kingfisher_type(rule["id"]) for rule in rules.metadata() if rule["visible"]}
    return _Kingfisher(Scanner(rules), types)


def kingfisher_cache_dir() -> Path | None:
    """Where kingfisher's compiled catalogue is cached: `$XDG_CACHE_HOME/maskgate/kingfisher`
    (`~/.cache/…` by default), made readable by the user alone; the library skips a cache
    directory others could write to. None when it cannot be made: then every start compiles."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "maskgate" / "kingfisher"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return path


def _kingfisher_type(rule_id: str) -> str:
    for prefix, entity_type in KINGFISHER_TYPES:
        if rule_id.startswith(prefix):
            return entity_type
    return _type_name(re.split(r"[./]", rule_id)[-1])


def _kingfisher_detections(kingfisher: _Kingfisher, text: str) -> Iterator[Detection]:
    data = text.encode("utf-8", "surrogatepass")
    findings = [
        (f.rule_id, f.location["start_offset"], f.location["end_offset"])
        for f in kingfisher.scanner.scan(data)
        if f.visible and f.rule_id in kingfisher.types
    ]
    spans = _char_spans(data, [(start, end) for _, start, end in findings])
    for (rule_id, _, _), (start, end) in zip(findings, spans, strict=True):
        if start < end:
            yield Detection(
                start=start,
                end=end,
                entity_type=kingfisher.types[rule_id],
                score=PLUGIN_SCORE,
                engine=KINGFISHER_ENGINE,
                recognizer=rule_id,
                secret=True,
            )


def _char_spans(data: bytes, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans in bytes of UTF-8 `data` (kingfisher's offsets) as spans in characters, widened to
    whole characters should one cut through a character."""

    def boundary(offset: int, step: int) -> int:
        while 0 < offset < len(data) and data[offset] & 0xC0 == 0x80:
            offset += step
        return offset

    if data.isascii():
        return spans
    edges = [(boundary(start, -1), boundary(end, 1)) for start, end in spans]
    chars, last, index = 0, 0, {}
    for offset in sorted({o for edge in edges for o in edge}):
        chars += len(data[last:offset].decode("utf-8", "surrogatepass"))
        index[offset], last = chars, offset
    return [(index[start], index[end]) for start, end in edges]


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


def _is_placeholder(value: str) -> bool:
    """True for a one-word value with a placeholder's marks. A value with spaces or line breaks
    (a private key block, say) always counts: an elided or commented key still leaks the rest."""
    return not any(c.isspace() for c in value) and bool(_PLACEHOLDER.search(value))


def _is_digest_or_id(line: str, start: int, end: int) -> bool:
    """True when the value at `line[start:end]` is a digest, a hash or an object id: labelled
    (``sha512-...`` integrity hashes), hex on a line about hashes or commits (``checksum =
    "..."`` in Cargo.lock, ``commit = "..."``), or an API object id. The plugins only judge
    quoted strings in chat text, so the label or word is inside the quotes or on the line.
    """
    value = line[start:end]
    if _DIGEST_LABEL.match(value) or _OBJECT_ID.fullmatch(value):
        return True
    return bool(_HEX.fullmatch(value)) and bool(_HASH_WORD.search(line))


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
