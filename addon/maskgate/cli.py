"""`maskgate` command line.

`maskgate run` starts mitmdump with the addon registered directly (not as a script):
if the addon cannot be imported or its rules are invalid, the proxy does not start,
rather than running without protection. Its CA lives in a configuration directory of
maskgate's own, `~/.maskgate`, unless `--confdir` names another (such as `~/.mitmproxy`).

`maskgate web` does the same with mitmweb, for a person who wants to see each flow's
marker, comment and detections; it prints the web interface's URL with its token.

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
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maskgate.policy import ACTION_STRENGTH, DEFAULT_RULES, Action, Policy, PolicyError, load_policy

if TYPE_CHECKING:
    from mitmproxy.master import Master

    from maskgate.detect.engine import Detector

USAGE_ERROR = 2
"""Exit status for bad arguments, unreadable input or invalid rules (argparse's own)."""

DEFAULT_CONFDIR = Path("~/.maskgate")
"""Where `run` and `web` keep mitmproxy's CA and config.yaml unless `--confdir` says otherwise."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check-rules":
        return _check_rules(args.files)
    if args.command == "scan":
        return _scan(args.rules, args.text, args.file, args.show_values)
    if args.command == "web":
        return _web(
            args.host, args.port, args.rules, args.confdir, args.web_host, args.web_port,
            _after_dashes(args.mitmweb_args),
        )  # fmt: skip
    return _run(args.host, args.port, args.rules, args.confdir, _after_dashes(args.mitmdump_args))


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
    _proxy_options(run)
    run.add_argument("mitmdump_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    web = commands.add_parser(
        "web",
        help="start the proxy with mitmweb's interface, to see what maskgate did to each flow",
        description="Start mitmweb with maskgate and the flow list's comment column, without "
        "opening a browser; prints the interface's URL with its login token. Arguments after "
        "`--` go to mitmweb unchanged.",
    )
    _proxy_options(web)
    web.add_argument(
        "--web-host", default="127.0.0.1", help="address of the web interface (default: %(default)s)"
    )
    web.add_argument(
        "--web-port", type=int, default=8081, help="port of the web interface (default: %(default)s)"
    )
    web.add_argument("mitmweb_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

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


def _proxy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    _rules_option(parser)
    parser.add_argument(
        "--confdir",
        type=Path,
        default=DEFAULT_CONFDIR,
        metavar="DIR",
        help="mitmproxy's configuration directory, where its CA is created on first start "
        "(default: %(default)s, created readable by you only; ~/.mitmproxy uses the CA that "
        "plain mitmproxy uses)",
    )


def _rules_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules", type=Path, default=DEFAULT_RULES, help="rules file (default: the shipped one)"
    )


def _after_dashes(extra: list[str]) -> list[str]:
    return extra[1:] if extra[:1] == ["--"] else extra


def _run(host: str, port: int, rules: Path, confdir: Path, extra: list[str]) -> int:
    if (policy := _policy_to_serve(rules)) is None or (conf := _confdir_to_use(confdir)) is None:
        return USAGE_ERROR
    _run_mitmdump([*_proxy_args(host, port, rules, conf), *extra], _Banner(host, port, policy.hosts))
    return 0


def _web(
    host: str, port: int, rules: Path, confdir: Path, web_host: str, web_port: int, extra: list[str]
) -> int:
    if (policy := _policy_to_serve(rules)) is None or (conf := _confdir_to_use(confdir)) is None:
        return USAGE_ERROR
    mitmweb_args = [
        *_proxy_args(host, port, rules, conf),
        "--web-host", web_host, "--web-port", str(web_port),
        # The URL is printed instead: it carries the login token, and this may run headless.
        "--no-web-open-browser",
        *extra,
    ]  # fmt: skip
    _run_mitmweb(mitmweb_args, _WebBanner(host, port, policy.hosts))
    return 0


def _policy_to_serve(rules: Path) -> Policy | None:
    """The rules the proxy will serve, or None after saying why not: the hosts to decrypt
    come from them, so a broken file stops the start before mitmproxy is involved."""
    try:
        return load_policy(rules)
    except PolicyError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return None


def _confdir_to_use(confdir: Path) -> Path | None:
    """`confdir` as an absolute path, created if missing, or None after saying why it cannot be.

    mitmproxy writes its CA's private key there for the owner alone, but would create the
    directory itself readable by everyone; created here, it is the owner's only (mode 0700).
    A directory that exists keeps its mode: it may be shared on purpose, e.g. `~/.mitmproxy`.
    """
    path = confdir.expanduser().absolute()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        print(f"maskgate: cannot create the configuration directory {path}: {e.strerror}", file=sys.stderr)
        return None
    return path


def _proxy_args(host: str, port: int, rules: Path, confdir: Path) -> list[str]:
    """The mitmproxy arguments that `run` and `web` share: where to listen, what to decrypt,
    where the CA is."""
    return [
        "--listen-host", host, "--listen-port", str(port),
        # Decrypt only the guarded hosts, whichever rules are in service; every other TLS
        # connection is tunnelled untouched.
        "--set", "maskgate_decrypt_only_guarded=true",
        "--set", f"confdir={confdir}",
        "--set", f"maskgate_rules={rules.resolve()}",
    ]  # fmt: skip


def _banner(host: str, port: int, hosts: Sequence[str], confdir: str) -> str:
    proxy = f"http://{host}:{port}"
    ca = Path(confdir) / "mitmproxy-ca-cert.pem"
    return f"""maskgate: proxy on {proxy}, masking requests to {", ".join(hosts)}
Point a client at it and trust mitmproxy's CA ({ca}, created on first start), e.g.:
  export HTTPS_PROXY={proxy} SSL_CERT_FILE={ca.expanduser()}
  python -c 'import openai; print(openai.OpenAI().chat.completions.create(model="gpt-4o-mini",
    messages=[{{"role": "user", "content": "Write to jane.doe@example.com"}}]).choices[0].message.content)'
More: README.md and certs/README.md. Stop with Ctrl-C.
"""


def _web_banner(web_url: str, password_set: bool) -> str:
    login = " (log in with your web_password)" if password_set else ""
    return f"""maskgate: web interface on {web_url}{login}
Each guarded flow shows a marker and a one-line comment; its Request tab lists the detections.
"""


class _Banner:
    """Prints how to use the proxy once it is running; a refused start prints only the error.

    The text is made then, from the options in force: the CA lives in `confdir`, which the
    command line or config.yaml may have moved.
    """

    def __init__(self, host: str, port: int, hosts: Sequence[str]) -> None:
        self.host, self.port, self.hosts = host, port, hosts

    def text(self) -> str:
        from mitmproxy import ctx

        return _banner(self.host, self.port, self.hosts, ctx.options.confdir)

    def running(self) -> None:
        print(self.text(), flush=True)


class _WebBanner(_Banner):
    """Adds the web interface's URL, known only once mitmweb runs: the token is made at start."""

    def text(self) -> str:
        from mitmproxy import ctx

        # mitmweb's own URL carries the token, or no secret at all when `web_password` is set.
        web_url = ctx.master.web_url  # type: ignore[attr-defined]
        return _web_banner(web_url, bool(ctx.options.web_password)) + super().text()


WEB_EXTRA_COLUMNS = ("comment",)
"""Added to mitmweb's default flow-list columns: the comment is maskgate's one-line summary."""


def _run_mitmdump(args: list[str], banner: _Banner) -> None:
    from mitmproxy.tools import cmdline, dump
    from mitmproxy.tools.main import run

    run(_with_maskgate(dump.DumpMaster, banner), cmdline.mitmdump, args)


def _run_mitmweb(args: list[str], banner: _WebBanner) -> None:
    from mitmproxy.tools import cmdline
    from mitmproxy.tools.main import run
    from mitmproxy.tools.web.master import WebMaster

    class MaskGateWeb(_with_maskgate(WebMaster, banner)):
        def __init__(self, options: Any, **kwargs: Any) -> None:
            super().__init__(options, **kwargs)
            # Set before the command line and config.yaml are read, so that either can
            # still choose other columns.
            options.update(web_columns=[*options.web_columns, *WEB_EXTRA_COLUMNS])

    run(MaskGateWeb, cmdline.mitmweb, args)


def _with_maskgate[M: Master](base: type[M], banner: _Banner) -> type[M]:
    """`base` with maskgate and the banner added as addons of the master itself.

    Hooks run in chain order, and `add` appends after all of mitmproxy's own addons. maskgate
    must run before them: Save (`-w`) writes a flow in its own `response` hook, by which time
    maskgate's must have put the answer as upstream sent it, and its annotations, on the flow;
    mitmweb's view and mitmdump's output must see the flow as maskgate left it too. So it goes
    where `mitmdump -s` puts a script, right before the script loader: after the proxy core
    (proxy authentication, the proxy server), before everything else.
    """
    from maskgate.addon import MaskGate

    class WithMaskGate(base):  # type: ignore[valid-type,misc]
        def __init__(self, options: Any, **kwargs: Any) -> None:
            super().__init__(options, **kwargs)
            addons = self.addons
            # `register` loads an addon without appending it, for addons that place their own.
            maskgate = addons.register(MaskGate())
            addons.chain.insert(addons.chain.index(addons.get("scriptloader")), maskgate)
            addons.add(banner)

    return WithMaskGate


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
