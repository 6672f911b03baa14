"""Benchmark baseline only: plain mitmdump, told to pass event streams on unbuffered.

mitmproxy buffers whole answers by default; without this the baseline's first byte
would arrive with its last, and no comparison with maskgate's streaming would be fair.
"""

from mitmproxy import http


class PassEventStreams:
    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response and flow.response.headers.get("content-type", "").startswith("text/event-stream"):
            flow.response.stream = True


addons = [PassEventStreams()]
