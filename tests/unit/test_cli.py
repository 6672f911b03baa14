"""`maskgate check-rules`, `scan`, `web` and `run`, run in process through `main`."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from maskgate import addon as addon_module
from maskgate import cli
from maskgate.policy import DEFAULT_RULES

from .gate import FakeDetector, chat, sse_answer, sse_event, through_stream

NAME = "Dana Whitfield"
EMAIL = "dana.whitfield@example.org"
TEXT = f"Please write to {NAME} at {EMAIL} about Friday."
MASKED = "Please write to [[PERSON_1]] at [[EMAIL_ADDRESS_1]] about Friday."


@pytest.fixture(autouse=True)
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory of the test's own: `run` and `web` create `~/.maskgate` by default."""
    path = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(path))
    return path


def _rules(path: Path, **entities: str) -> Path:
    """The shipped rules with the given personal-data types set to other actions."""
    raw = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    for name, action in entities.items():
        raw["pii"]["entities"][name]["action"] = action
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def strict_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Names are only logged, e-mail addresses block the request."""
    return _rules(tmp_path_factory.mktemp("rules") / "strict.yaml", PERSON="log", EMAIL_ADDRESS="block")


@pytest.fixture(scope="module", autouse=True)
def built_once():
    """Build each rules file's detector once per module: each build loads spaCy.

    Failed builds are not kept, so invalid files fail every time.
    """
    built = {}
    build = cli._detector

    def cached(policy):
        if policy.source not in built:
            built[policy.source] = build(policy)
        return built[policy.source]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "_detector", cached)
        yield


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# --- check-rules ---------------------------------------------------------------------


def test_check_rules_accepts_the_shipped_rules(capsys):
    assert cli.main(["check-rules", str(DEFAULT_RULES)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{DEFAULT_RULES}: ok: hosts api.openai.com; 8 personal-data types (8 mask);")
    assert "3 custom recognizers" in out and "detect-secrets plugins" in out and "1 allow entries" in out
    assert err == ""


def test_check_rules_summarises_actions(capsys, strict_rules):
    assert cli.main(["check-rules", str(strict_rules)]) == 0
    assert "8 personal-data types (1 block, 6 mask, 1 log)" in capsys.readouterr().out


def test_check_rules_checks_every_file_and_names_file_and_key(capsys, tmp_path):
    not_yaml = tmp_path / "not-yaml.yaml"
    not_yaml.write_text("pii: [unclosed\n", encoding="utf-8")
    raw = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    raw["pii"]["entities"]["PERSN"] = raw["pii"]["entities"].pop("PERSON")
    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump(raw), encoding="utf-8")
    raw["pii"]["spacy_model"] = "no_such_spacy_model"
    no_model = tmp_path / "no-model.yaml"
    no_model.write_text(yaml.safe_dump(raw), encoding="utf-8")
    missing = tmp_path / "missing.yaml"

    files = [not_yaml, typo, no_model, missing, DEFAULT_RULES]
    assert cli.main(["check-rules", *map(str, files)]) == 1
    out, err = capsys.readouterr()
    # The valid file after four bad ones is still checked.
    assert len(out.splitlines()) == 1 and out.startswith(f"{DEFAULT_RULES}: ok:")
    # One message per file (a YAML error continues on lines of its own).
    lines = [line for line in err.splitlines() if line.startswith(str(tmp_path))]
    assert len(lines) == 4
    assert lines[0].startswith(f"{not_yaml}: not valid YAML")
    # The typo is only found when the detector is built: Presidio knows no PERSN.
    assert lines[1].startswith(f"{typo}: pii.entities.PERSN: no Presidio recognizer")
    assert lines[2].startswith(f"{no_model}: pii.spacy_model: ") and "no_such_spacy_model" in lines[2]
    assert lines[3] == f"{missing}: cannot read: No such file or directory"


# --- scan: text ----------------------------------------------------------------------


def test_scan_masks_text_and_reports_findings_without_values(capsys):
    assert cli.main(["scan", TEXT]) == 1
    out, err = capsys.readouterr()
    assert out == MASKED + "\n"
    header, *rows, summary = err.splitlines()
    assert header.split() == [
        "PATH", "TYPE", "ACTION", "PLACEHOLDER", "SCORE", "ENGINE", "RECOGNIZER", "LENGTH"
    ]  # fmt: skip
    assert [row.split() for row in rows] == [
        # The name is spelt by the address next to it, which vouches for it above spaCy's 0.85.
        ["text", "PERSON", "mask", "[[PERSON_1]]", "0.90", "presidio", "name-by-email", str(len(NAME))],
        ["text", "EMAIL_ADDRESS", "mask", "[[EMAIL_ADDRESS_1]]", "1.00", "presidio", "EmailRecognizer",
         str(len(EMAIL))],
    ]  # fmt: skip
    assert summary == "maskgate: 2 findings (mask 2)"
    for original in (NAME, EMAIL, "Dana", "whitfield"):
        assert original not in out + err


def test_scan_shows_values_only_when_asked(capsys):
    assert cli.main(["scan", "--show-values", TEXT]) == 1
    out, err = capsys.readouterr()
    assert out == MASKED + "\n"
    assert err.splitlines()[0].split()[-1] == "VALUE"
    assert err.splitlines()[1].endswith(f'"{NAME}"')
    assert err.splitlines()[2].endswith(f'"{EMAIL}"')


def test_scan_of_clean_text_passes_it_through_and_exits_0(capsys, monkeypatch):
    text = "Sort this list:\r\n  3, 1, 2\r\n"
    _stdin(monkeypatch, text.encode())
    assert cli.main(["scan"]) == 0
    out, err = capsys.readouterr()
    assert out == text
    assert err == "maskgate: nothing found\n"


def test_scan_of_a_file_keeps_everything_but_the_masked_values(capsys, tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes(f"Hi,\r\n{TEXT}\r\n".encode())
    assert cli.main(["scan", "--file", str(path)]) == 1
    assert capsys.readouterr().out == f"Hi,\r\n{MASKED}\r\n"


def test_scan_exits_0_when_findings_are_only_logged(capsys, strict_rules):
    text = f"{NAME} says hello."
    assert cli.main(["scan", "--rules", str(strict_rules), text]) == 0
    out, err = capsys.readouterr()
    assert out == text + "\n"
    assert err.splitlines()[1].split()[:4] == ["text", "PERSON", "log", "-"]


def test_scan_prints_the_refusal_for_a_blocked_type(capsys, strict_rules):
    assert cli.main(["scan", "--rules", str(strict_rules), TEXT]) == 1
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert error["code"] == "maskgate_blocked"
    assert "EMAIL_ADDRESS in text" in error["message"]
    assert "[[" not in out and EMAIL not in out and NAME not in out
    rows = [row.split()[:3] for row in err.splitlines()[1:-1]]
    assert rows == [["text", "PERSON", "log"], ["text", "EMAIL_ADDRESS", "block"]]
    assert "blocked" in err.splitlines()[-1]
    assert EMAIL not in err and NAME not in err


def test_scan_shows_values_of_logged_and_blocked_findings(capsys, strict_rules):
    assert cli.main(["scan", "--rules", str(strict_rules), "--show-values", TEXT]) == 1
    rows = capsys.readouterr().err.splitlines()[1:-1]
    assert rows[0].endswith(f'"{NAME}"') and rows[1].endswith(f'"{EMAIL}"')


# --- scan: chat requests -------------------------------------------------------------


def test_scan_masks_a_chat_request_from_stdin(capsys, monkeypatch):
    request = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": TEXT},
        ],
        "user": EMAIL,
    }
    _stdin(monkeypatch, json.dumps(request).encode())
    assert cli.main(["scan"]) == 1
    out, err = capsys.readouterr()
    masked = {**request, "messages": [request["messages"][0], {"role": "user", "content": MASKED}]}
    assert json.loads(out) == {**masked, "user": "[[EMAIL_ADDRESS_1]]"}
    assert [row.split()[:2] for row in err.splitlines()[1:-1]] == [
        ["messages[1].content", "PERSON"],
        ["messages[1].content", "EMAIL_ADDRESS"],
        ["user", "EMAIL_ADDRESS"],
    ]
    assert EMAIL not in out + err and NAME not in out + err


def test_json_without_messages_is_scanned_as_text(capsys):
    text = json.dumps({"note": TEXT})
    assert cli.main(["scan", text]) == 1
    assert capsys.readouterr().out == json.dumps({"note": MASKED}) + "\n"


# --- scan: errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"model": "x", "messages": [', "looks like a chat-completion request but is not valid JSON"),
        ('{"messages": "hello"}', '"messages" is not a list'),
    ],
)
def test_scan_refuses_broken_chat_requests(capsys, text, error):
    assert cli.main(["scan", text]) == 2
    out, err = capsys.readouterr()
    assert out == "" and error in err


def test_scan_reports_unreadable_input(capsys, tmp_path):
    assert cli.main(["scan", "--file", str(tmp_path / "absent.txt")]) == 2
    assert (
        capsys.readouterr().err
        == f"maskgate: cannot read {tmp_path / 'absent.txt'}: No such file or directory\n"
    )
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Grüße".encode("latin-1"))
    assert cli.main(["scan", "--file", str(latin1)]) == 2
    assert capsys.readouterr().err == f"maskgate: {latin1} is not valid UTF-8 text\n"


def test_scan_reports_invalid_rules(capsys, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 2\n", encoding="utf-8")
    assert cli.main(["scan", "--rules", str(rules), TEXT]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"maskgate: {rules}: ")


def test_scan_takes_text_or_a_file_not_both(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["scan", "--file", str(tmp_path / "x.txt"), TEXT])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_console_script_scans_stdin():
    script = Path(sys.executable).with_name("maskgate")
    done = subprocess.run(
        [str(script), "scan"], input=TEXT.encode(), capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stderr.decode()
    assert done.stdout.decode() == MASKED
    assert "[[PERSON_1]]" in done.stderr.decode() and NAME not in done.stderr.decode()


# --- web -----------------------------------------------------------------------------

WEB_ARGS = ["web", "--host", "127.0.0.2", "--port", "9090", "--web-host", "127.0.0.3", "--web-port", "9091"]


@pytest.fixture
def web_started(monkeypatch) -> list:
    """Runs `maskgate web` through mitmproxy's real start-up, up to where the proxy would
    begin serving: mitmweb's own parser and option handling see the arguments, and the list
    receives the master that was built (its addons done, so its logging is undone)."""
    from mitmproxy.master import Master

    started = []

    async def run_until_serving(master: Master) -> None:
        started.append(master)
        await master.done()

    monkeypatch.setattr(Master, "run", run_until_serving)
    # mitmproxy's start-up sets the root logger to DEBUG for the whole process.
    monkeypatch.setattr(logging.getLogger(), "level", logging.getLogger().level)
    return started


def test_web_passes_proxy_web_and_extra_arguments_to_mitmweb(monkeypatch, home):
    from mitmproxy.tools import cmdline, main

    calls = []
    monkeypatch.setattr(main, "run", lambda master, parser, args: calls.append((master, parser, args)))
    assert cli.main([*WEB_ARGS, "--", "--set", "flow_detail=0", "-q"]) == 0
    [(_, parser, args)] = calls
    assert parser is cmdline.mitmweb
    assert args == [
        "--listen-host", "127.0.0.2", "--listen-port", "9090",
        "--set", "maskgate_decrypt_only_guarded=true",
        "--set", f"confdir={home / '.maskgate'}",
        "--set", f"maskgate_rules={DEFAULT_RULES}",
        "--web-host", "127.0.0.3", "--web-port", "9091",
        "--no-web-open-browser",
        "--set", "flow_detail=0", "-q",
    ]  # fmt: skip


def test_web_starts_mitmweb_with_maskgate_and_the_comment_column(web_started, tmp_path):
    assert cli.main([*WEB_ARGS, "--confdir", str(tmp_path / "conf")]) == 0
    [master] = web_started
    from mitmproxy.tools.web.master import WebMaster

    from maskgate.addon import MaskGate

    assert isinstance(master, WebMaster)
    assert isinstance(master.addons.get("maskgate"), MaskGate)
    opts = master.options
    assert opts.web_columns == ["tls", "icon", "path", "method", "status", "size", "time", "comment"]
    assert (opts.listen_host, opts.listen_port, opts.web_host, opts.web_port) == (
        "127.0.0.2", 9090, "127.0.0.3", 9091
    )  # fmt: skip
    assert opts.web_open_browser is False
    assert opts.allow_hosts == [r"^(?:api\.openai\.com):\d+$"]
    assert opts.maskgate_rules == str(DEFAULT_RULES)


def test_web_columns_chosen_on_the_command_line_replace_the_default(web_started, tmp_path):
    extra = ["--set", "web_columns=path", "--set", "web_columns=status"]
    assert cli.main([*WEB_ARGS, "--confdir", str(tmp_path), "--", *extra]) == 0
    assert web_started[0].options.web_columns == ["path", "status"]


def test_web_banner_gives_a_url_whose_token_logs_in(web_started, tmp_path, capsys):
    confdir = tmp_path / "conf"
    assert cli.main([*WEB_ARGS, "--confdir", str(confdir)]) == 0
    [master] = web_started
    capsys.readouterr()
    master.addons.get("_webbanner").running()
    lines = capsys.readouterr().out.splitlines()
    match = re.fullmatch(r"maskgate: web interface on http://127\.0\.0\.3:9091/\?token=(\w{32})", lines[0])
    assert match, lines[0]
    assert master.addons.get("webauth").is_valid_password(match[1])
    assert lines[2] == "maskgate: proxy on http://127.0.0.2:9090, masking requests to api.openai.com"
    assert f"SSL_CERT_FILE={confdir / 'mitmproxy-ca-cert.pem'}" in lines[4]


def test_web_banner_never_prints_the_web_password(web_started, tmp_path, capsys):
    password = "correct-horse-battery"
    extra = ["--set", f"web_password={password}"]
    assert cli.main([*WEB_ARGS, "--confdir", str(tmp_path), "--", *extra]) == 0
    capsys.readouterr()
    web_started[0].addons.get("_webbanner").running()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "maskgate: web interface on http://127.0.0.3:9091/ (log in with your web_password)"
    )
    assert password not in out


def test_web_refuses_invalid_rules_before_starting_anything(web_started, tmp_path, capsys):
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 2\n", encoding="utf-8")
    assert cli.main(["web", "--rules", str(rules)]) == 2
    assert capsys.readouterr().err.startswith(f"maskgate: {rules}: ")
    assert web_started == []


# --- run and web: the configuration directory, where mitmproxy's CA is --------------


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.parametrize("command", ["run", "web"])
def test_the_ca_is_made_in_maskgates_own_directory_for_its_owner_only(command, web_started, home, capsys):
    assert cli.main([command, "--port", "9090"]) == 0
    [master] = web_started
    confdir = home / ".maskgate"
    assert master.options.confdir == str(confdir)
    assert _mode(confdir) == 0o700
    # mitmproxy made the CA there; the files holding its private key are the owner's alone.
    for key_file in ("mitmproxy-ca.pem", "mitmproxy-ca.p12"):
        assert _mode(confdir / key_file) & 0o077 == 0, key_file
    capsys.readouterr()
    master.addons.get("_webbanner" if command == "web" else "_banner").running()
    assert f"SSL_CERT_FILE={confdir / 'mitmproxy-ca-cert.pem'}" in capsys.readouterr().out


def test_confdir_chooses_another_directory_created_with_its_parents(web_started, home):
    # Quoted, a `~` reaches maskgate unexpanded.
    assert cli.main(["run", "--port", "9090", "--confdir", "~/elsewhere/ca"]) == 0
    confdir = home / "elsewhere" / "ca"
    assert web_started[0].options.confdir == str(confdir)
    assert _mode(confdir) == 0o700
    assert (confdir / "mitmproxy-ca-cert.pem").is_file()
    assert not (home / ".maskgate").exists()


def test_an_existing_confdir_such_as_mitmproxys_own_is_used_as_it_is(web_started, home):
    confdir = home / ".mitmproxy"
    confdir.mkdir(mode=0o755)
    confdir.chmod(0o755)
    assert cli.main(["run", "--port", "9090", "--confdir", str(confdir)]) == 0
    assert web_started[0].options.confdir == str(confdir)
    assert _mode(confdir) == 0o755


def test_a_confdir_that_cannot_be_created_stops_the_start(web_started, home, capsys):
    (home / "taken").write_text("a file, not a directory", encoding="utf-8")
    assert cli.main(["run", "--confdir", str(home / "taken")]) == 2
    assert capsys.readouterr().err == (
        f"maskgate: cannot create the configuration directory {home / 'taken'}: File exists\n"
    )
    assert web_started == []


# --- run and web: maskgate's place among mitmproxy's addons ---------------------------


@pytest.mark.parametrize("command", ["run", "web"])
def test_maskgate_runs_where_a_script_would_before_mitmproxys_own_addons(command, web_started, tmp_path):
    port_args = ["--port", "9090"] if command == "run" else WEB_ARGS[1:]
    assert cli.main([command, *port_args, "--confdir", str(tmp_path)]) == 0
    [master] = web_started
    names = [getattr(addon, "name", type(addon).__name__.lower()) for addon in master.addons.chain]
    # Right before the script loader, as `mitmdump -s` would put it; after the proxy core.
    assert names[names.index("scriptloader") - 1] == "maskgate"
    later = ["save", "dumper"] if command == "run" else ["save", "view", "intercept"]
    assert all(names.index("maskgate") < names.index(name) for name in later), names
    assert names.index("proxyauth") < names.index("maskgate")


def test_run_saves_flows_as_maskgate_left_them(monkeypatch, tmp_path):
    """`maskgate run -w FILE`: Save writes a flow in its own `response` hook, after maskgate's
    has put the answer as upstream sent it back on the flow, with the restore counts."""
    from mitmproxy import io
    from mitmproxy.master import Master
    from mitmproxy.proxy.layers.http import HttpRequestHook, HttpResponseHeadersHook, HttpResponseHook

    upstream = sse_event("Hi [[EMAIL_ADDRESS_1]]!") + b"data: [DONE]\n\n"
    received = []

    async def one_answer_then_stop(master: Master) -> None:
        """What mitmproxy does for one streamed answer while `store_streamed_bodies` is on."""
        flow = chat(TEXT)
        await master.addons.handle_lifecycle(HttpRequestHook(flow))
        flow.response = sse_answer()
        flow.response.raw_content = None
        await master.addons.handle_lifecycle(HttpResponseHeadersHook(flow))
        sent = through_stream(flow.response, upstream) + through_stream(flow.response, b"")
        flow.response.raw_content = sent  # stored as sent, so with the originals
        await master.addons.handle_lifecycle(HttpResponseHook(flow))
        received.append(sent)
        await master.done()

    monkeypatch.setattr(Master, "run", one_answer_then_stop)
    monkeypatch.setattr(logging.getLogger(), "level", logging.getLogger().level)
    monkeypatch.setattr(addon_module, "Detector", FakeDetector)
    saved = tmp_path / "flows.mitm"
    extra = ["--set", "store_streamed_bodies=true", "-w", str(saved)]
    assert cli.main(["run", "--port", "9090", "--confdir", str(tmp_path), "--", *extra]) == 0

    [sent] = received
    assert f"Hi {EMAIL}!".encode() in sent
    with saved.open("rb") as f:
        [flow] = io.FlowReader(f).stream()
    assert flow.response.raw_content == upstream
    assert flow.metadata["maskgate"]["restore"]["restored"]["ids"] == ["[[EMAIL_ADDRESS_1]]"]
