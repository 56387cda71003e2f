"""The activation server: decisions, storage by IMEI, IP geolocation, HTTP (direct and via proxy)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from emulators.virtual.firmware import activation_client, iptable
from emulators.virtual.firmware.activation_server import ActivationServer, BadRequest, activate
from emulators.virtual.firmware.activation_store import ActivationStore
from emulators.virtual.firmware.policy import load_policy

HAVANA = {"lat": 23.1136, "lon": -82.3666}
MADRID = {"lat": 40.4168, "lon": -3.7038}


def request(policy: str = "global", gps: dict[str, float] | None = None, imei: str = "490154203237518",
            sim: str = "", network: str = "") -> dict[str, Any]:
    return {"imeis": [imei], "gps": gps, "network": network,
            "sims": [{"slot": 0, "state": "READY" if sim else "ABSENT", "numeric": sim}],
            "policy": load_policy(policy).to_wire()}


@pytest.fixture
def store() -> Iterator[ActivationStore]:
    db = ActivationStore(":memory:")
    yield db
    db.close()


@pytest.mark.parametrize(("address", "label"), [
    ("152.207.1.1", "CU"), ("2.180.0.1", "IR"), ("175.45.177.1", "KP"), ("82.137.200.1", "SY"),
    ("41.95.1.1", "SD"), ("41.223.117.1", "SS"), ("91.207.57.1", "UA/crimea"), ("80.58.1.1", "ES"),
    ("8.8.8.8", "US"),
])
def test_ip_table(address: str, label: str) -> None:
    territory = iptable.territory_of_ip(address)
    assert territory is not None and territory.label() == label


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.2.15", "::1", "not-an-ip", "192.0.2.1"])
def test_unknown_addresses(address: str) -> None:
    assert iptable.territory_of_ip(address) is None


def test_forwarded_for_wins_over_the_peer() -> None:
    assert iptable.client_address("127.0.0.1", "152.207.1.1, 10.0.0.1") == "152.207.1.1"
    assert iptable.client_address("127.0.0.1", None) == "127.0.0.1"


def test_first_activation_is_kept_by_imei(store: ActivationStore) -> None:
    assert activate(store, request(gps=HAVANA), "127.0.0.1")["verdict"] == "locked"
    again = activate(store, request(gps=MADRID), "127.0.0.1")
    assert again["verdict"] == "locked" and again["stored"] is True


def test_activated_stays_activated_when_travelling(store: ActivationStore) -> None:
    assert activate(store, request(gps=MADRID), "127.0.0.1")["verdict"] == "activated"
    assert activate(store, request(gps=HAVANA, sim="36801"), "127.0.0.1")["verdict"] == "activated"


def test_every_boot_decides_again(store: ActivationStore) -> None:
    assert activate(store, request("defect-every-boot", gps=MADRID), "127.0.0.1")["verdict"] == "activated"
    assert activate(store, request("defect-every-boot", gps=HAVANA), "127.0.0.1")["verdict"] == "locked"


def test_device_persisted_verdict_is_not_kept_on_the_server(store: ActivationStore) -> None:
    assert activate(store, request("defect-reset-clears", gps=HAVANA), "127.0.0.1")["verdict"] == "locked"
    again = activate(store, request("defect-reset-clears", gps=HAVANA), "127.0.0.1")
    assert again["verdict"] == "activated" and "no verdict kept" in again["reason"]


def test_ip_decides_when_nothing_else_can(store: ActivationStore) -> None:
    reply = activate(store, request(), "152.207.1.1")
    assert (reply["verdict"], reply["signal"], reply["territory"]) == ("locked", "ip", "CU")


def test_sim_and_network_cannot_find_crimea(store: ActivationStore) -> None:
    reply = activate(store, request(sim="25001", network="25001"), "127.0.0.1")
    assert (reply["verdict"], reply["territory"]) == ("activated", "RU")


def test_request_without_imei(store: ActivationStore) -> None:
    with pytest.raises(BadRequest):
        activate(store, {"imeis": []}, "127.0.0.1")


def test_store_is_durable(tmp_path: Path) -> None:
    db = ActivationStore(tmp_path / "a.sqlite")
    activate(db, request(gps=HAVANA), "127.0.0.1")
    db.close()
    reopened = ActivationStore(tmp_path / "a.sqlite")
    assert [r.verdict for r in reopened.all()] == ["locked"]
    reopened.close()


class _ForwardingProxy(BaseHTTPRequestHandler):
    """A minimal HTTP proxy that adds X-Forwarded-For with a fixed (Cuban) address."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        import http.client
        from urllib.parse import urlsplit

        self.seen.append(self.path)
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        conn = http.client.HTTPConnection(target.hostname, target.port)
        conn.request("POST", target.path, body, {"Content-Type": "application/json",
                                                 "X-Forwarded-For": "152.207.1.1"})
        reply = conn.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_http_round_trip_direct_and_through_a_proxy(tmp_path: Path) -> None:
    server = ActivationServer(tmp_path / "db.sqlite").start()
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _ForwardingProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        direct = activation_client.post_json(server.url + "/v1/activate", request(imei="1"), None)
        assert (direct["verdict"], direct["client_ip"]) == ("activated", "127.0.0.1")
        via = activation_client.post_json(server.url + "/v1/activate", request(imei="2"),
                                          ("127.0.0.1", proxy.server_address[1]))
        assert (via["verdict"], via["client_ip"], via["signal"]) == ("locked", "152.207.1.1", "ip")
        assert _ForwardingProxy.seen[-1] == server.url + "/v1/activate"  # absolute URI to the proxy
        with pytest.raises(activation_client.ActivationCallFailed):
            activation_client.post_json(server.url + "/v1/nope", request(), None)
    finally:
        proxy.shutdown()
        proxy.server_close()
        server.close()


@pytest.mark.parametrize(("setting", "parsed"), [
    ("10.0.2.2:8080", ("10.0.2.2", 8080)), (":0", None), ("", None), (None, None),
    ("http://127.0.0.1:3128", ("127.0.0.1", 3128)), ("garbage", None),
])
def test_parse_proxy(setting: str | None, parsed: tuple[str, int] | None) -> None:
    assert activation_client.parse_proxy(setting) == parsed


def test_main_prints_the_listening_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "emulators.virtual.firmware.activation_server", "--port", "0",
                             "--db", str(tmp_path / "x.sqlite")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Activation server listening on http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        reply = activation_client.post_json(f"http://127.0.0.1:{port}/v1/activate", request(gps=HAVANA), None)
        assert reply["verdict"] == "locked"
    finally:
        proc.terminate()
        proc.wait(10)
