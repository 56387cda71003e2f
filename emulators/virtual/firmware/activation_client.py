"""The device side of the activation call: one JSON POST, directly or through an HTTP proxy.

Behind a proxy (`settings global http_proxy host:port`) the request goes to the proxy with an
absolute URI, as proxy-aware Android apps send it; the proxy is what adds `X-Forwarded-For`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit


class ActivationCallFailed(OSError):
    """The server could not be reached or answered with an error."""


def parse_proxy(setting: str | None) -> tuple[str, int] | None:
    """`host:port` -> (host, port); empty, `:0` or malformed -> no proxy (as Android treats it)."""
    if not setting:
        return None
    setting = setting.strip().removeprefix("http://").rstrip("/")
    host, _, port = setting.rpartition(":")
    if not host or not port.isdigit() or int(port) == 0:
        return None
    return host, int(port)


def post_json(url: str, payload: dict[str, Any], proxy: tuple[str, int] | None,
              timeout: float = 10.0) -> dict[str, Any]:
    import http.client  # here: a boot that never activates (most of a test suite's) does not load it

    parts = urlsplit(url)
    target = f"{parts.path or '/'}" if proxy is None else url
    host, port = proxy if proxy else (parts.hostname or "127.0.0.1", parts.port or 80)
    body = json.dumps(payload).encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", target, body, {"Content-Type": "application/json", "Host": parts.netloc,
                                            "Connection": "close"})
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise ActivationCallFailed(f"activation call to {url} via {proxy or 'direct'} failed: {exc}") from exc
    finally:
        conn.close()
    if response.status != 200:
        raise ActivationCallFailed(f"activation server answered {response.status}: {data[:200]!r}")
    return json.loads(data)
