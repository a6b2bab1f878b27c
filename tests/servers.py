"""Real servers on 127.0.0.1 for notification tests: an HTTP recorder and a small SMTP server.

Both run on a thread inside the test process, on a free port, and record what they
receive so tests can assert the exact bytes itdesk sent. They use the standard library
only (http.server, socketserver, ssl), so the tests need no extra package and never
reach the network. ``self_signed_cert`` makes a certificate with the ``openssl`` command
for STARTTLS.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import socketserver
import ssl
import subprocess
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Request:
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def params(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))


Reply = Callable[[Request], "tuple[int, bytes]"]


def reply_json(data: Any, status: int = 200) -> Reply:
    body = json.dumps(data).encode()
    return lambda request: (status, body)


class HttpRecorder:
    """``with HttpRecorder(reply) as server:`` POSTs to ``server.url`` land in ``requests``."""

    def __init__(self, reply: Reply | None = None, port: int = 0) -> None:
        self.requests: list[Request] = []
        self.reply = reply or reply_json({"errcode": 0, "errmsg": "ok"})
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length", "0"))
                request = Request(
                    parts.path, parts.query, dict(self.headers.items()), self.rfile.read(length)
                )
                recorder.requests.append(request)
                status, body = recorder.reply(request)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/hook") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def __enter__(self) -> HttpRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@dataclass
class Mail:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    tls: bool
    user: str | None


@dataclass
class _Session:
    tls: bool = False
    user: str | None = None
    mail_from: str | None = None
    rcpt_to: list[str] = field(default_factory=list)


class SmtpServer:
    """Enough of RFC 5321 for smtplib: EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT.

    ``tls`` offers STARTTLS with that server context; ``implicit_tls`` speaks TLS from the
    first byte instead (port 465 style); ``auth=(user, password)`` offers AUTH PLAIN (only
    after STARTTLS when ``tls`` is set); ``reject`` lists recipients answered with 550;
    ``port`` binds a given port (a server that went down and comes back).
    """

    def __init__(
        self,
        tls: ssl.SSLContext | None = None,
        auth: tuple[str, str] | None = None,
        reject: frozenset[str] = frozenset(),
        port: int = 0,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.mails: list[Mail] = []
        self.sessions = 0
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                owner._session(self)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
            block_on_close = False

        self.tls, self.auth, self.reject = tls, auth, reject
        self.implicit_tls = implicit_tls
        self._server = Server((HOST, port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _session(self, handler: socketserver.StreamRequestHandler) -> None:
        conn: socket.socket = handler.connection
        rfile, wfile = handler.rfile, handler.wfile
        state = _Session()
        self.sessions += 1
        if self.implicit_tls is not None:
            try:
                conn = self.implicit_tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client refused our certificate, or spoke plain text
            rfile, wfile = conn.makefile("rb"), conn.makefile("wb")
            state = _Session(tls=True)

        def say(line: str) -> None:
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        say("220 localhost test ESMTP")
        while True:
            raw = rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                lines = ["localhost", "8BITMIME"]
                if self.tls is not None and not state.tls:
                    lines.append("STARTTLS")
                if self.auth is not None and (state.tls or self.tls is None):
                    lines.append("AUTH PLAIN")
                for extension in lines[:-1]:
                    say(f"250-{extension}")
                say(f"250 {lines[-1]}")
            elif verb == "STARTTLS" and self.tls is not None and not state.tls:
                say("220 ready to start TLS")
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate
                rfile, wfile = conn.makefile("rb"), conn.makefile("wb")
                state = _Session(tls=True)
            elif verb == "AUTH" and self.auth is not None:
                mechanism, _, initial = arg.partition(" ")
                if mechanism.upper() != "PLAIN":
                    say("504 unsupported mechanism")
                    continue
                if not initial:
                    say("334 ")
                    initial = rfile.readline().decode().strip()
                _, user, password = base64.b64decode(initial).decode().split("\0")
                if (user, password) == self.auth:
                    state.user = user
                    say("235 2.7.0 authenticated")
                else:
                    say("535 5.7.8 bad credentials")
            elif verb == "MAIL":
                if self.auth is not None and state.user is None:
                    say("530 5.7.0 authentication required")
                    continue
                state.mail_from = _address(arg)
                state.rcpt_to = []
                say("250 ok")
            elif verb == "RCPT":
                address = _address(arg)
                if address in self.reject:
                    say(f"550 5.1.1 no such user {address}")
                else:
                    state.rcpt_to.append(address)
                    say("250 ok")
            elif verb == "DATA":
                say("354 end with .")
                data = bytearray()
                while True:
                    chunk = rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                assert state.mail_from is not None
                self.mails.append(
                    Mail(state.mail_from, state.rcpt_to, bytes(data), state.tls, state.user)
                )
                say("250 queued")
            elif verb in ("RSET", "NOOP"):
                say("250 ok")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 command not implemented")


def _address(arg: str) -> str:
    found = re.search(r"<([^>]*)>", arg)
    return found.group(1) if found else arg.split(":", 1)[-1].strip()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """(cert, key) for 127.0.0.1, made by ``openssl``; the cert is its own CA."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
