"""`maskgate` command line.

`maskgate run` starts mitmdump with the addon registered directly (not as a script):
if the addon cannot be imported or its rules are invalid, the proxy does not start,
rather than running without protection.

`maskgate check-rules FILE...` validates rules files the way the proxy loads them,
detection engine included, so a broken file is found before it is deployed.

`maskgate scan` shows what the proxy would send upstream for one text or one
chat-completion request: the masked result on stdout, the findings on stderr (without
their values unless `--show-values`), so `maskgate scan < in.txt > out.txt` leaves a
clean masked file. Its exit status is 1 when something would be masked, redacted or
blocked, so it also works as a check in scripts.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from maskgate.policy import ACTION_STRENGTH, DEFAULT_RULES, Action, Policy, PolicyError, load_policy

if TYPE_CHECKING:
    from maskgate.detect.engine import Detector

USAGE_ERROR = 2
"""Exit status for bad arguments, unreadable input or invalid rules (argparse's own)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check-rules":
        return _check_rules(args.files)
    if args.command == "scan":
        return _scan(args.rules, args.text, args.file, args.show_values)
    return _run(args.host, args.port, args.rules, _after_dashes(args.mitmdump_args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maskgate", description="Keep personal data and secrets out of OpenAI API traffic."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="start the proxy (mitmdump with maskgate)",
        description="Start mitmdump with maskgate. Arguments after `--` go to mitmdump unchanged.",
    )
    run.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    run.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    _rules_option(run)
    run.add_argument("mitmdump_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    check = commands.add_parser(
        "check-rules",
        help="validate rules files",
        description="Load each rules file and build its detection engine, as the proxy would. "
        "Exit status 0 when every file is valid, 1 otherwise.",
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE", help="rules file (YAML)")

    scan = commands.add_parser(
        "scan",
        help="show what would be masked in a text or a chat request",
        description="Mask a text, or a chat-completion request given as JSON, as the proxy would. "
        "The result goes to stdout, a table of findings to stderr. Exit status: 0 when nothing "
        "(or only `log` findings) was found, 1 when something would be masked, redacted or "
        "blocked, 2 on errors.",
    )
    _rules_option(scan)
    scan.add_argument(
        "--show-values",
        action="store_true",
        help="add the detected values to the table (they end up in your terminal or log)",
    )
    source = scan.add_mutually_exclusive_group()
    source.add_argument("text", nargs="?", metavar="TEXT", help="text to scan (default: standard input)")
    source.add_argument("--file", type=Path, metavar="PATH", help="read the input from this file")
    return parser


def _rules_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules", type=Path, default=DEFAULT_RULES, help="rules file (default: the shipped one)"
    )


def _after_dashes(extra: list[str]) -> list[str]:
    return extra[1:] if extra[:1] == ["--"] else extra


def _run(host: str, port: int, rules: Path, extra: list[str]) -> int:
    try:
        policy = load_policy(rules)
    except PolicyError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return USAGE_ERROR
    # Decrypt only the guarded hosts; every other TLS connection is tunnelled untouched.
    allow = "^(?:" + "|".join(re.escape(h) for h in policy.hosts) + r"):\d+$"
    mitmdump_args = [
        "--listen-host", host, "--listen-port", str(port),
        "--allow-hosts", allow,
        "--set", f"maskgate_rules={rules.resolve()}",
        *extra,
    ]  # fmt: skip
    _run_mitmdump(mitmdump_args, _banner(host, port, policy.hosts))
    return 0


def _banner(host: str, port: int, hosts: Sequence[str]) -> str:
    proxy = f"http://{host}:{port}"
    ca = Path("~/.mitmproxy/mitmproxy-ca-cert.pem")
    return f"""maskgate: proxy on {proxy}, masking requests to {", ".join(hosts)}
Point a client at it and trust mitmproxy's CA ({ca}, created on first start), e.g.:
  export HTTPS_PROXY={proxy} SSL_CERT_FILE={ca.expanduser()}
  python -c 'import openai; print(openai.OpenAI().chat.completions.create(model="gpt-4o-mini",
    messages=[{{"role": "user", "content": "Write to jane.doe@example.com"}}]).choices[0].message.content)'
More: README.md and certs/README.md. Stop with Ctrl-C.
"""


class _Banner:
    """Prints how to use the proxy once it is running; a refused start prints only the error."""

    def __init__(self, text: str) -> None:
        self.text = text

    def running(self) -> None:
        print(self.text, flush=True)


def _run_mitmdump(args: list[str], banner: str) -> None:
    from mitmproxy.tools import cmdline, dump
    from mitmproxy.tools.main import run

    from maskgate.addon import MaskGate

    class MaskGateDump(dump.DumpMaster):
        def __init__(self, options, **kwargs) -> None:
            super().__init__(options, **kwargs)
            self.addons.add(MaskGate(), _Banner(banner))

    run(MaskGateDump, cmdline.mitmdump, args)


def _check_rules(files: Sequence[Path]) -> int:
    """Check every file, not only up to the first bad one, so one run lists every problem."""
    valid = True
    for path in files:
        try:
            policy, _ = _load(path)
        except _RulesError as e:
            print(e, file=sys.stderr)
            valid = False
            continue
        print(f"{path}: ok: {_summary(policy)}")
    return 0 if valid else 1


def _summary(policy: Policy) -> str:
    """What the rules guard and detect, in one line, to confirm the file says what was meant."""
    pii, secrets = policy.pii, policy.secrets
    entity_actions = _by_action(rule.action for rule in pii.entities.values())
    return "; ".join(
        [
            f"hosts {', '.join(policy.hosts) or '(none)'}",
            f"{len(pii.entities)} personal-data types ({entity_actions})",
            f"{len(pii.recognizers)} custom recognizers, {len(pii.deny)} deny lists",
            f"{len(secrets.detect_secrets_plugins)} detect-secrets plugins, "
            f"{len(secrets.patterns)} secret patterns (default {secrets.default_action}, "
            f"{len(secrets.actions)} types with their own action)",
            f"{len(policy.allow)} allow entries",
            f"on_failure {policy.on_failure}, other_endpoints {policy.other_endpoints}",
        ]
    )


def _by_action(actions: Iterable[Action]) -> str:
    """``"1 block, 7 mask"``: counts per action, strictest first."""
    counts = Counter(actions)
    return ", ".join(
        f"{counts[a]} {a}" for a in sorted(counts, key=ACTION_STRENGTH.__getitem__, reverse=True)
    )


def _scan(rules: Path, text: str | None, file: Path | None, show_values: bool) -> int:
    from maskgate.scan import ScanInputError, findings_table, scan, summary

    try:
        source = text if text is not None else _read_input(file)
        _, detector = _load(rules)
        result = scan(source, detector, with_values=show_values)
    except (_RulesError, _InputError, ScanInputError) as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return USAGE_ERROR
    # Text from the command line ends its line, as `echo` would; a file or stdin is
    # written back exactly, so only masked parts differ.
    newline = "\n" if text is not None and not result.output.endswith("\n") else ""
    sys.stdout.write(result.output + newline)
    sys.stdout.flush()
    if result.findings:
        sys.stderr.write(findings_table(result))
    line = f"maskgate: {summary(result)}"
    if result.blocked:
        line += "; blocked: the proxy would refuse this request with the error on stdout"
    print(line, file=sys.stderr)
    return 1 if result.acted else 0


class _RulesError(Exception):
    """A rules file cannot be used; the message names the file."""


class _InputError(Exception):
    """The input to scan cannot be read; the message names the file, never its content."""


def _load(path: Path) -> tuple[Policy, Detector]:
    """The policy of `path` and its detector.

    Only building the detector checks entity types, plugins and the spaCy model, so a
    file counts as valid once both exist, exactly as when the proxy loads it.
    """
    from maskgate.detect.pii import SpacyModelNotFound

    try:
        policy = load_policy(path)
        return policy, _detector(policy)
    except PolicyError as e:
        raise _RulesError(str(e)) from None
    except (SpacyModelNotFound, OSError) as e:
        raise _RulesError(f"{path}: pii.spacy_model: {e}") from None


def _detector(policy: Policy) -> Detector:
    """The detection engine for `policy`; loads the spaCy pipeline (about a second)."""
    from maskgate.detect.engine import Detector

    return Detector(policy)


def _read_input(file: Path | None) -> str:
    """The text to scan, from `file` or standard input, as bytes decoded from UTF-8.

    Decoding the bytes ourselves keeps line endings as they are, so the masked output
    differs from the input only where something was masked.
    """
    if file is None:
        if sys.stdin.isatty():
            print("maskgate: reading standard input (end with Ctrl-D)", file=sys.stderr)
        data, name = sys.stdin.buffer.read(), "standard input"
    else:
        try:
            data, name = file.read_bytes(), str(file)
        except OSError as e:
            raise _InputError(f"cannot read {file}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _InputError(f"{name} is not valid UTF-8 text") from None


if __name__ == "__main__":
    sys.exit(main())
