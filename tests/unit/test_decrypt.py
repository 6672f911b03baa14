"""What mitmproxy decrypts, kept on the guarded hosts: a tunnelled guarded host would pass unmasked."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from maskgate.decrypt import allow_hosts_for, tunnelled

from .gate import write_rules
from .test_addon_policy import fake_engine, started  # noqa: F401  (fixture used by every test)

GROQ = ("  - api.openai.com\n", "  - api.openai.com\n  - api.groq.com\n")


def test_the_allow_pattern_matches_exactly_the_hosts_on_any_port():
    pattern = allow_hosts_for(["api.openai.com", "localhost"])
    assert re.search(pattern, "api.openai.com:443") and re.search(pattern, "localhost:11434")
    for other in ("api.openai.com.example.net:443", "xapi.openai.com:443", "apixopenai.com:443"):
        assert not re.search(pattern, other)


@pytest.mark.parametrize(
    ("allow", "ignore", "missed"),
    [
        ([], [], []),
        ([allow_hosts_for(["api.openai.com"])], [], ["api.groq.com"]),
        ([], [r"groq\.com"], ["api.groq.com"]),
        ([r"openai\.com", r"groq"], [], []),
    ],
)
def test_tunnelled_hosts_follow_mitmproxys_rules(allow, ignore, missed):
    assert tunnelled(["api.openai.com", "api.groq.com"], allow, ignore) == missed


def test_allow_hosts_follows_the_rules_in_service(tmp_path):
    rules = write_rules(tmp_path / "rules.yaml")
    with started(rules) as (addon, tctx):
        assert tctx.options.allow_hosts == []  # only when asked to
        tctx.configure(addon, maskgate_decrypt_only_guarded=True)
        assert tctx.options.allow_hosts == [allow_hosts_for(["api.openai.com"])]

        write_rules(rules, GROQ)
        asyncio.run(addon.reload_if_changed())
        assert tctx.options.allow_hosts == [allow_hosts_for(["api.openai.com", "api.groq.com"])]


def test_a_guarded_host_that_would_be_tunnelled_is_reported(tmp_path, caplog):
    rules = write_rules(tmp_path / "rules.yaml", GROQ)
    with started(rules) as (addon, tctx), caplog.at_level(logging.WARNING, "maskgate"):
        tctx.configure(addon, allow_hosts=[allow_hosts_for(["api.openai.com"])])
        assert "maskgate: api.groq.com guarded but not decrypted" in caplog.text
        caplog.clear()
        tctx.configure(addon, maskgate_decrypt_only_guarded=True)
        assert "not decrypted" not in caplog.text
        tctx.configure(addon, ignore_hosts=[r"^api\.openai\.com:"])
        assert "maskgate: api.openai.com guarded but not decrypted" in caplog.text
