"""The activation server: HTTP + SQLite, one per fleet (or one inside an emulator that found none).

Who decides
-----------
The **server** evaluates. The device sends raw signals (IMEIs, each SIM's PLMN and state, the
serving network, the last GPS fix or none, locale, time zone, firmware version) and the decision
parameters of its policy (`Policy.to_wire`); the server adds the one signal only it can see, the
client address (first `X-Forwarded-For` hop when a proxy added one), places each signal in a
territory, applies the precedence and answers with the verdict. That keeps one decision path for
all signals and lets the server remember verdicts by IMEI, as vendors are believed to do.

API: `POST /v1/activate` (JSON in, JSON out), `GET /v1/devices` (all records, for debugging),
`GET /health`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from emulators.virtual.firmware import iptable, mcc, policy
from emulators.virtual.firmware.activation_store import ActivationStore
from emulators.virtual.firmware.territory import Territory, shared_finder


class BadRequest(ValueError):
    """The request body is not an activation request."""


def request_signals(request: dict[str, Any], client_ip: str) -> dict[str, Territory | None]:
    """Each signal of a request placed in a territory (None when it cannot place the device)."""
    return {
        "gps": _gps_territory(request.get("gps")),
        "network": _plmn_territory(str(request.get("network") or "")),
        "sim": _plmn_territory(_first_ready_sim(request.get("sims") or [])),
        "ip": iptable.territory_of_ip(client_ip),
    }


def _gps_territory(gps: Any) -> Territory | None:
    if not isinstance(gps, dict):
        return None
    return shared_finder().territory_at(float(gps["lat"]), float(gps["lon"]))


def _plmn_territory(numeric: str) -> Territory | None:
    iso = mcc.country_for_plmn(numeric)
    return Territory(iso.upper()) if iso else None


def _first_ready_sim(sims: list[dict[str, Any]]) -> str:
    return next((str(s.get("numeric", "")) for s in sims if s.get("state") == "READY"), "")


def activate(store: ActivationStore, request: dict[str, Any], client_ip: str) -> dict[str, Any]:
    """Decide one activation request; the reply the device gets."""
    imeis = [str(i) for i in request.get("imeis") or []]
    if not imeis:
        raise BadRequest("an activation request needs 'imeis'")
    pol = policy.from_wire(request.get("policy") or {})
    signals = request_signals(request, client_ip)
    placed = {k: (v.label() if v else None) for k, v in signals.items()}
    known = store.lookup(imeis)
    if pol.decide == "first_activation" and known is not None:
        store.touch(imeis)
        if known.verdict:
            return _reply(known.verdict, known.signal, known.territory,
                          f"verdict kept on the server since first activation: {known.reason}",
                          client_ip, placed, stored=True)
        return _reply(policy.ACTIVATED, "", "", "IMEI already activated; no verdict kept on the server",
                      client_ip, placed, stored=True)
    decision = policy.decide(pol, signals)
    territory = decision.territory.label() if decision.territory else ""
    kept = decision.verdict if pol.persist == "server" else None
    store.record(imeis, kept, territory, decision.signal, decision.reason, pol.name)
    return _reply(decision.verdict, decision.signal, territory, decision.reason, client_ip, placed,
                  stored=False)


def _reply(verdict: str, signal: str, territory: str, reason: str, client_ip: str,
           placed: dict[str, str | None], *, stored: bool) -> dict[str, Any]:
    return {"verdict": verdict, "signal": signal, "territory": territory, "reason": reason,
            "client_ip": client_ip, "signals": placed, "stored": stored}


class _Handler(BaseHTTPRequestHandler):
    server: ActivationHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/health":
            self._send(200, {"ok": True})
        elif path == "/v1/devices":
            self._send(200, {"devices": [asdict(r) for r in self.server.store.all()]})
        else:
            self._send(404, {"error": f"no such path {path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path  # absolute URIs arrive when a proxy forwards as-is
        if path != "/v1/activate":
            self._send(404, {"error": f"no such path {path}"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            client = iptable.client_address(self.client_address[0], self.headers.get("X-Forwarded-For"))
            reply = activate(self.server.store, body, client)
        except (BadRequest, policy.PolicyError, ValueError, KeyError, TypeError) as exc:
            self._send(400, {"error": str(exc)})
            return
        self.server.log_line(f"activate imeis={body.get('imeis')} ip={client} -> {reply['verdict']} "
                             f"({reply['reason']})")
        self._send(200, reply)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request access lines; decisions are logged by `log_line`."""


class ActivationHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: ActivationStore, *, verbose: bool = False) -> None:
        super().__init__(address, _Handler)
        self.store = store
        self.verbose = verbose

    def log_line(self, text: str) -> None:
        if self.verbose:
            print(text, flush=True)


class ActivationServer:
    """An activation server on a background thread (used in-process by an emulator and by tests)."""

    def __init__(self, db: Path | str, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False):
        self.store = ActivationStore(db)
        self.httpd = ActivationHTTPServer((host, port), self.store, verbose=verbose)
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), name="activation-server",
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ActivationServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="activation-server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", default="activation.sqlite", help="SQLite file keeping verdicts by IMEI")
    args = parser.parse_args(argv)
    server = ActivationServer(Path(args.db), args.host, args.port, verbose=True)
    print(f"Activation server listening on {server.url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        server.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
