"""`maskgate run` decrypts only the guarded hosts: a TLS connection to any other host is
tunnelled untouched, so the client sees that server's own certificate and no flow exists."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mitmproxy import io

from .conftest import write_rules
from .fake_openai import FakeOpenAI
from .mitmweb import running_maskgate

SERVER_NAME = "intranet.example.test"
GREETING = b"served by the other host itself"


class _Greeter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", str(len(GREETING)))
        self.end_headers()
        self.wfile.write(GREETING)

    def log_message(self, *_args: object) -> None:
        """Quiet: the test reads what it needs from the client side."""


def _self_signed(workdir: Path) -> tuple[Path, Path]:
    """A certificate for `SERVER_NAME` signed by its own key, and that key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "server-cert.pem", workdir / "server-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def other_tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An HTTPS server that is not a guarded host, with a certificate only the test trusts."""
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Greeter)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert
    finally:
        server.shutdown()
        server.server_close()


def _get_through_proxy(proxy_port: int, port: int, trusted: Path) -> tuple[bytes, bytes]:
    """GET / from 127.0.0.1:`port` through an HTTP CONNECT tunnel, trusting only `trusted`.

    Returns the certificate the client was shown (DER) and the response.
    """
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=30) as raw:
        raw.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = raw.recv(4096)
            assert chunk, f"the proxy closed the connection after {reply!r}"
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply
        context = ssl.create_default_context(cafile=str(trusted))
        with context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
            shown = tls.getpeercert(binary_form=True)
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {SERVER_NAME}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
    return shown, answer


def test_other_hosts_are_tunnelled_untouched(
    fake_openai_server: FakeOpenAI, tmp_path: Path, other_tls_server: tuple[int, Path]
) -> None:
    port, cert = other_tls_server
    flows = tmp_path / "flows.mitm"
    save = ["-w", str(flows)]
    with running_maskgate("run", fake_openai_server, tmp_path, mitmproxy_args=save) as (proxy, _):
        shown, answer = _get_through_proxy(proxy.port, port, cert)
        log = proxy.log_text()

    # Trusting only the server's own certificate, the handshake succeeded: it was the server's.
    expected = ssl.PEM_cert_to_DER_cert(cert.read_text(encoding="ascii"))
    assert shown == expected
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(GREETING)
    # Nothing was intercepted: no flow saved, none printed (only the connection's own events).
    with flows.open("rb") as saved:
        assert list(io.FlowReader(saved).stream()) == []
    assert f"server connect 127.0.0.1:{port}" in log
    assert SERVER_NAME not in log and "GET " not in log


def test_a_host_added_to_the_rules_while_running_is_decrypted_from_then_on(
    fake_openai_server: FakeOpenAI, tmp_path: Path, other_tls_server: tuple[int, Path]
) -> None:
    """Left tunnelled, a newly guarded host would send its requests unmasked."""
    port, cert = other_tls_server
    rules = write_rules(tmp_path / "rules.yaml", ())
    trust_upstream = ["--set", f"ssl_verify_upstream_trusted_ca={cert}"]
    with running_maskgate(
        "run", fake_openai_server, tmp_path, options=["--rules", str(rules)], mitmproxy_args=trust_upstream
    ) as (proxy, _):
        shown, _answer = _get_through_proxy(proxy.port, port, cert)
        assert shown == ssl.PEM_cert_to_DER_cert(cert.read_text(encoding="ascii"))

        write_rules(rules, [("  - api.openai.com\n", "  - api.openai.com\n  - 127.0.0.1\n")])
        deadline = time.monotonic() + 30
        while "rules reloaded" not in proxy.log_text():
            assert time.monotonic() < deadline, proxy.log_tail()
            time.sleep(0.1)
        # Now the proxy answers the handshake with a certificate of its own CA.
        with pytest.raises(ssl.SSLCertVerificationError):
            _get_through_proxy(proxy.port, port, cert)
        shown, answer = _get_through_proxy(proxy.port, port, proxy.ca_path)
    assert shown != ssl.PEM_cert_to_DER_cert(cert.read_text(encoding="ascii"))
    assert answer.endswith(GREETING)
