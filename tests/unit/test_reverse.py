from __future__ import annotations

import pytest

from emulators.virtual import reverse
from emulators.virtual.reverse import ReverseError, ReverseRequest


@pytest.mark.parametrize(("service", "request_"), [
    ("reverse:forward:tcp:12345;tcp:4000", ReverseRequest("forward", "tcp:12345", "tcp:4000")),
    ("reverse:forward:norebind:tcp:0;localabstract:x", ReverseRequest("forward", "tcp:0", "localabstract:x", True)),
    ("reverse:killforward:tcp:1", ReverseRequest("kill", "tcp:1")),
    ("reverse:killforward-all", ReverseRequest("kill-all")),
    ("reverse:list-forward", ReverseRequest("list")),
])
def test_requests(service: str, request_: ReverseRequest) -> None:
    assert reverse.parse(service) == request_


@pytest.mark.parametrize("service", ["reverse:forward:tcp:1", "reverse:forward:udp:1;tcp:2",
                                     "reverse:forward:tcp:99999;tcp:1", "reverse:bogus"])
def test_refused_requests(service: str) -> None:
    with pytest.raises(ReverseError):
        reverse.parse(service)


def test_replies_are_adbds_device_side_framing() -> None:
    assert reverse.okay() == b"OKAY"
    assert reverse.okay("4242") == b"OKAY00044242"
    assert reverse.fail("no") == b"FAIL0002no"
    assert reverse.block(reverse.listing("host-1", [("tcp:1", "tcp:2")])) == b"0013host-1 tcp:1 tcp:2\n"
