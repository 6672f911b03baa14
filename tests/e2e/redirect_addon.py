"""TEST ONLY: send api.openai.com traffic that the proxy intercepts to a local fake server.

api.openai.com does not resolve in the test environment, and the tests must see exactly what
would have been sent upstream. Loaded after the maskgate addon, this script rewrites only the
destination of a request, after maskgate has seen it with its real host; the ``Host`` header
stays as the client wrote it, so the fake server receives what the real API would.

The same goes for one made-up Azure OpenAI resource, ``AZURE_TEST_HOST``: a test that lists it
in the rules' hosts can show that a compatible host is guarded like api.openai.com.

Never load it in production: the option name says ``test`` for that reason.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions, http
from mitmproxy.addonmanager import Loader

OPENAI_HOST = "api.openai.com"
AZURE_TEST_HOST = "maskgate-e2e.openai.azure.com"
REDIRECTED_HOSTS = frozenset({OPENAI_HOST, AZURE_TEST_HOST})
OPTION = "maskgate_test_upstream"


class Upstream(NamedTuple):
    scheme: str
    host: str
    port: int


def parse_upstream(value: str) -> Upstream:
    """Parse ``http(s)://host:port``; refuse anything else so a typo cannot reach the real API."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"{OPTION} must look like http://127.0.0.1:PORT, got {value!r}")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"{OPTION}: {e}") from None
    return Upstream(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))


class RedirectToFakeUpstream:
    """Rewrites the destination of requests to `REDIRECTED_HOSTS` when ``maskgate_test_upstream`` is set."""

    def __init__(self) -> None:
        self.upstream: Upstream | None = None

    def load(self, loader: Loader) -> None:
        loader.add_option(
            OPTION,
            str,
            "",
            "TEST ONLY: send api.openai.com (and the tests' Azure host) requests to this base URL"
            " (http://HOST:PORT) instead.",
        )

    def configure(self, updated: set[str]) -> None:
        if OPTION not in updated:
            return
        value = getattr(ctx.options, OPTION)
        try:
            self.upstream = parse_upstream(value) if value else None
        except ValueError as e:
            raise exceptions.OptionsError(str(e)) from None

    def request(self, flow: http.HTTPFlow) -> None:
        # A response set by an earlier addon (a blocked request) never goes upstream: leave the
        # flow as that addon made it.
        host = flow.request.host
        if self.upstream is None or flow.response is not None or host not in REDIRECTED_HOSTS:
            return
        flow.request.scheme = self.upstream.scheme
        flow.request.host = self.upstream.host
        flow.request.port = self.upstream.port
        # Setting host and port rewrote the Host header; the real API would see its own name.
        flow.request.host_header = host


addons = [RedirectToFakeUpstream()]
