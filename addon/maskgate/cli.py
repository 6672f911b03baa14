"""`maskgate` command line.

`maskgate run` starts mitmdump with the addon registered directly (not as a script):
if the addon cannot be imported or its rules are invalid, the proxy does not start,
rather than running without protection.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from maskgate.policy import DEFAULT_RULES, PolicyError, load_policy


def main(argv: Sequence[str] | None = None) -> int:
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
    run.add_argument(
        "--rules", type=Path, default=DEFAULT_RULES, help="rules file (default: the shipped one)"
    )
    run.add_argument("mitmdump_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return _run(args.host, args.port, args.rules, _after_dashes(args.mitmdump_args))


def _after_dashes(extra: list[str]) -> list[str]:
    return extra[1:] if extra[:1] == ["--"] else extra


def _run(host: str, port: int, rules: Path, extra: list[str]) -> int:
    try:
        policy = load_policy(rules)
    except PolicyError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 2
    # Decrypt only the guarded hosts; every other TLS connection is tunnelled untouched.
    allow = "^(?:" + "|".join(re.escape(h) for h in policy.hosts) + r"):\d+$"
    mitmdump_args = [
        "--listen-host", host, "--listen-port", str(port),
        "--allow-hosts", allow,
        "--set", f"maskgate_rules={rules.resolve()}",
        *extra,
    ]  # fmt: skip
    print(_banner(host, port, policy.hosts), flush=True)
    _run_mitmdump(mitmdump_args)
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


def _run_mitmdump(args: list[str]) -> None:
    from mitmproxy.tools import cmdline, dump
    from mitmproxy.tools.main import run

    from maskgate.addon import MaskGate

    class MaskGateDump(dump.DumpMaster):
        def __init__(self, options, **kwargs) -> None:
            super().__init__(options, **kwargs)
            self.addons.add(MaskGate())

    run(MaskGateDump, cmdline.mitmdump, args)


if __name__ == "__main__":
    sys.exit(main())
