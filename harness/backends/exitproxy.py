"""A local HTTP forward proxy that makes its clients appear to come from one country.

Theory of operation
-------------------
A lab reaches a country's address space through a proxy or VPN that exits there (spoofing.md, "IP
country"). The virtual lab has no such exits, so it stands in for one: an `ExitProxy` listens on
127.0.0.1 (a port the OS picks), forwards each absolute-URI request (`GET http://host:port/path
HTTP/1.1`, what a proxy-aware app sends after `settings put global http_proxy`) to its origin, and
sets `X-Forwarded-For: <an address of the country>`. A server that geolocates the first
X-Forwarded-For hop (as the reference activation server does, see the firmware contract) then sees
the device where a real exit would have put it. Any X-Forwarded-For the client sent is dropped: the
proxy models the egress address, which a real server would see as the TCP peer, not an extra hop.

`CONNECT host:port` is tunnelled as is (TLS cannot carry an added header), so it is only faithful
through a proxy that really exits in the country (`--exit-proxy CC=host:port`).

The header and URI handling are pure functions (unit-tested without sockets); the sockets sit in
`_Handler`, one thread per connection (`ThreadingHTTPServer`), one connection per request.
`ExitProxyPool` starts one proxy per country lazily and stops them all at teardown.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from typing import Any, Self
from urllib.parse import urlsplit

from harness.errors import HarnessError

# Headers that describe one hop, not the message (RFC 9110 7.6.1), plus the proxy-only ones.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
                        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"})
FORWARDED_FOR = "X-Forwarded-For"
UPSTREAM_TIMEOUT = 30.0


class ProxyRequestError(HarnessError):
    """A request the proxy cannot forward (not an absolute http URI); answered with 400."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str  # origin-form: path and query, never empty


@dataclass(frozen=True)
class Forwarded:
    """One request the proxy handled (what tests and evidence look at)."""

    method: str
    url: str
    status: int  # the origin's status, or the proxy's own 4xx/5xx


# --------------------------------------------------------------------------------------------
# Pure parts
# --------------------------------------------------------------------------------------------

def parse_absolute_uri(target: str) -> Target:
    """`http://host[:port]/path?q` -> Target. Anything else is not for a forward proxy."""
    parts = urlsplit(target)
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ProxyRequestError(f"expected an absolute http:// URI in the request line, got {target!r}")
    try:
        port = parts.port or 80
    except ValueError:
        raise ProxyRequestError(f"bad port in {target!r}") from None
    path = parts.path or "/"
    return Target(parts.hostname, port, f"{path}?{parts.query}" if parts.query else path)


def parse_authority(authority: str) -> tuple[str, int]:
    """`host:port` of a CONNECT request."""
    host, sep, port = authority.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ProxyRequestError(f"CONNECT wants host:port, got {authority!r}")
    return host.strip("[]"), int(port)


def forward_headers(headers: Iterable[tuple[str, str]], target: Target,
                    forwarded_for: str) -> list[tuple[str, str]]:
    """The request headers to send upstream: per-hop ones and the client's X-Forwarded-For dropped,
    Host set to the target, ours added, and one connection per request."""
    kept = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP
            and k.lower() not in ("host", FORWARDED_FOR.lower(), "content-length")]
    host = target.host if target.port == 80 else f"{target.host}:{target.port}"
    return [("Host", host), *kept, (FORWARDED_FOR, forwarded_for), ("Connection", "close")]


def response_headers(headers: Iterable[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """The origin's headers minus per-hop ones; the body is relayed whole, so its length is known."""
    kept = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
    return [*kept, ("Content-Length", str(body_length)), ("Connection", "close")]


# --------------------------------------------------------------------------------------------
# The socket edge
# --------------------------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung client never keeps the harness alive
    proxy: ExitProxy


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # we always answer `Connection: close`, so one request per connection

    def do_GET(self) -> None:
        self._forward()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def do_CONNECT(self) -> None:
        try:
            host, port = parse_authority(self.path)
            upstream = socket.create_connection((host, port), timeout=UPSTREAM_TIMEOUT)
        except (ProxyRequestError, OSError) as exc:
            self._fail(400 if isinstance(exc, ProxyRequestError) else 502, str(exc))
            return
        self.server.proxy._record(Forwarded("CONNECT", self.path, 200))
        self.send_response(200, "Connection established")
        self.end_headers()
        with upstream:
            _pump(self.connection, upstream)
        self.close_connection = True

    def _forward(self) -> None:
        try:
            target = parse_absolute_uri(self.path)
            body = self._read_body()
            status, reason, headers, payload = self._send_upstream(target, body)
        except ProxyRequestError as exc:
            self._fail(400, str(exc))
            return
        except (OSError, http.client.HTTPException) as exc:
            self._fail(502, f"upstream {self.path}: {exc}")
            return
        # recorded before the client can see the reply, so a caller never races its own record
        self.server.proxy._record(Forwarded(self.command, self.path, status))
        self.send_response(status, reason)
        for key, value in response_headers(headers, len(payload)):
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.close_connection = True

    def _send_upstream(self, target: Target, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.putrequest(self.command, target.path, skip_host=True, skip_accept_encoding=True)
            for key, value in forward_headers(self.headers.items(), target, self.server.proxy.forwarded_for):
                conn.putheader(key, value)
            if body or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return _read_chunked(self.rfile)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise ProxyRequestError(f"bad Content-Length {length!r}")
        return self.rfile.read(int(length))

    def _fail(self, status: int, message: str) -> None:
        self.server.proxy._record(Forwarded(self.command or "?", self.path, status))
        data = (message + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the proxy's record of requests is `ExitProxy.forwarded`, not stderr noise."""


def _read_chunked(stream: Any) -> bytes:
    body = bytearray()
    while True:
        size_line = stream.readline(1024).split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise ProxyRequestError(f"bad chunk size {size_line!r}") from None
        if size == 0:
            while stream.readline(1024).strip():  # trailers, up to the blank line
                pass
            return bytes(body)
        body += stream.read(size)
        stream.readline(1024)  # the CRLF after each chunk


def _pump(a: socket.socket, b: socket.socket, idle_timeout: float = 60.0) -> None:
    """Copy bytes both ways until either side closes (or nothing moves for `idle_timeout`)."""
    peers = {a: b, b: a}
    while True:
        readable, _, _ = select.select(list(peers), [], [], idle_timeout)
        if not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
                if not data:
                    return
                peers[sock].sendall(data)
            except OSError:
                return


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

class ExitProxy:
    """One country's stand-in exit: `start()`, then point clients at `address`; `stop()` at the end."""

    def __init__(self, forwarded_for: str | IPv4Address, country: str | None = None,
                 host: str = "127.0.0.1") -> None:
        self.forwarded_for = str(forwarded_for)
        self.country = country
        self._host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.forwarded: list[Forwarded] = []

    @property
    def address(self) -> str:
        """`host:port`, the form `settings put global http_proxy` takes."""
        if self._server is None:
            raise RuntimeError("ExitProxy.address before start()")
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> Self:
        if self._server is None:
            server = _Server((self._host, 0), _Handler)
            server.proxy = self
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"exit-proxy-{self.country or self.forwarded_for}",
                                            daemon=True)
            self._server = server
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _record(self, entry: Forwarded) -> None:
        with self._lock:
            self.forwarded.append(entry)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ExitProxyPool:
    """One `ExitProxy` per country, started on first use; `stop_all()` is safe to call twice."""

    def __init__(self, pick: Callable[[str], IPv4Address] | None = None) -> None:
        if pick is None:
            from harness.iprange import pick_address

            pick = pick_address
        self._pick = pick
        self._proxies: dict[str, ExitProxy] = {}
        self._lock = threading.Lock()

    def for_country(self, country: str) -> ExitProxy:
        """The running proxy for `country` (raises `UnknownCountry` when it has no range)."""
        key = country.upper()
        with self._lock:
            proxy = self._proxies.get(key)
            if proxy is None:
                proxy = ExitProxy(self._pick(key), country=key).start()
                self._proxies[key] = proxy
            return proxy

    def running(self) -> dict[str, ExitProxy]:
        with self._lock:
            return dict(self._proxies)

    def stop_all(self) -> None:
        with self._lock:
            proxies, self._proxies = list(self._proxies.values()), {}
        for proxy in proxies:
            proxy.stop()
