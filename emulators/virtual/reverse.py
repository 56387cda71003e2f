"""`adb reverse`: the `reverse:` service's requests and replies (AOSP SERVICES.TXT), sans-IO.

    reverse:forward:[norebind:]<device spec>;<host spec>   listen on the device, connect back to the host
    reverse:killforward:<device spec>                      remove one
    reverse:killforward-all                                remove all
    reverse:list-forward                                   "<transport> <device spec> <host spec>" lines

adbd answers as `handle_forward_request` does on a device (where the adb server already sent the
"connected" OKAY): `OKAY` (for `forward` on `tcp:0` followed by the chosen port as a `%04x`-prefixed
string), the listing as a bare `%04x`-prefixed string, or `FAIL` + `%04x` + the reason.
The listeners and the streams back to the host are adbd's (`adbd.py`); a reverse forward lives as
long as the transport that made it, as in adbd.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEVICE_KINDS = ("tcp", "localabstract", "localreserved", "localfilesystem")
HOST_KINDS = ("tcp", "localabstract", "localreserved", "localfilesystem", "jdwp")

Verb = Literal["forward", "kill", "kill-all", "list"]


class ReverseError(Exception):
    """A request adbd answers with FAIL (the message is what `adb reverse` prints)."""


@dataclass(frozen=True)
class ReverseRequest:
    verb: Verb
    device: str = ""  # the listener's spec on the device ("remote" to adbutils)
    host: str = ""  # where connections go on the host ("local")
    norebind: bool = False


def _spec(text: str, kinds: tuple[str, ...]) -> str:
    kind, sep, name = text.partition(":")
    if not sep or kind not in kinds or not name:
        raise ReverseError(f"cannot bind listener: unknown socket specification '{text}'")
    if kind == "tcp" and not (name.isdigit() and int(name) < 65536):
        raise ReverseError(f"cannot bind listener: invalid port '{name}'")
    return text


def parse(service: str) -> ReverseRequest:
    """The request in a `reverse:...` service name; ReverseError for one adbd would refuse."""
    body = service.removeprefix("reverse:")
    if body == "list-forward":
        return ReverseRequest("list")
    if body == "killforward-all":
        return ReverseRequest("kill-all")
    if body.startswith("killforward:"):
        return ReverseRequest("kill", _spec(body.removeprefix("killforward:"), DEVICE_KINDS))
    if body.startswith("forward:"):
        body = body.removeprefix("forward:")
        norebind = body.startswith("norebind:")
        device, sep, host = body.removeprefix("norebind:").partition(";")
        if not sep:
            raise ReverseError("bad forward: missing ';' between the device and host specs")
        return ReverseRequest("forward", _spec(device, DEVICE_KINDS), _spec(host, HOST_KINDS), norebind)
    raise ReverseError(f"unknown reverse request '{body}'")


def block(text: str) -> bytes:
    raw = text.encode()
    return b"%04x" % len(raw) + raw


def okay(payload: str | None = None) -> bytes:
    return b"OKAY" + (block(payload) if payload is not None else b"")


def fail(message: str) -> bytes:
    return b"FAIL" + block(message)


def listing(transport: str, forwards: list[tuple[str, str]]) -> str:
    return "".join(f"{transport} {device} {host}\n" for device, host in forwards)
