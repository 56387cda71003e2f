"""Root on real phones: `adb root` where the build allows it, else whichever su form grants uid 0.

The device here is a small fake of adbutils' device (shell2 and root), recording what was sent.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

import adbutils
import pytest

from harness.errors import DeviceError
from harness.session import DeviceSession


@dataclass
class Reply:
    output: str
    returncode: int


@dataclass
class FakePhone:
    props: dict[str, str]
    su: tuple[str, ...] | None = None  # the su form this phone has
    adbd_root: bool = False
    sent: list[str] = field(default_factory=list)
    uid: str = "2000"

    def shell2(self, line: str, timeout: float = 30, v2: bool = True) -> Reply:
        self.sent.append(line)
        words = shlex.split(line)
        if words == ["getprop"]:
            return Reply("".join(f"[{k}]: [{v}]\n" for k, v in self.props.items()), 0)
        if words == ["id", "-u"]:
            return Reply(self.uid + "\n", 0)
        if self.su and tuple(words[:len(self.su)]) == self.su:
            inner = words[len(self.su):]
            return Reply("0\n" if inner == ["id -u"] else f"ran as root: {inner[0]}\n", 0)
        if words and words[0] == "su":
            return Reply("su: invalid option\n", 1)
        return Reply(f"ran: {line}\n", 0)

    def root(self) -> str:
        if not self.adbd_root:
            return "adbd cannot run as root in production builds\n"
        self.uid = "0"
        return "restarting adbd as root\n"


def session_on(phone: FakePhone) -> DeviceSession:
    session = DeviceSession("phone-1", adbutils.AdbClient(host="127.0.0.1", port=1), None, None)
    session.device = phone  # type: ignore[assignment]
    return session


USER_BUILD = {"ro.build.type": "user", "ro.debuggable": "0", "ro.build.version.sdk": "33"}


@pytest.mark.parametrize("form", [("su", "-c"), ("su", "0", "sh", "-c")])
def test_a_rooted_phone_uses_the_su_form_it_has(form: tuple[str, ...]) -> None:
    phone = FakePhone(USER_BUILD, su=form)
    session = session_on(phone)
    assert session.facts.root == "su"
    result = session.shell(["setprop", "gsm.sim.operator.numeric", "36801"], root=True)
    assert result.command == shlex.join([*form, "setprop gsm.sim.operator.numeric 36801"])
    assert result.output == "ran as root: setprop gsm.sim.operator.numeric 36801\n"


def test_a_phone_without_root_says_so() -> None:
    session = session_on(FakePhone(USER_BUILD))
    assert session.facts.root is None
    with pytest.raises(DeviceError, match="adb root refused and no su grants root"):
        session.root()


def test_a_debuggable_build_uses_adb_root() -> None:
    phone = FakePhone({"ro.build.type": "userdebug", "ro.debuggable": "1"}, adbd_root=True)
    session = session_on(phone)
    assert session.facts.root == "adbd"
    assert session.shell(["setprop", "a", "b"], root=True).command == "setprop a b"
    assert not any(line.startswith("su") for line in phone.sent)


def test_a_debuggable_build_whose_adbd_refuses_root_falls_back_to_su() -> None:
    phone = FakePhone({"ro.build.type": "userdebug", "ro.debuggable": "1"}, su=("su", "-c"))
    session = session_on(phone)
    assert session.shell(["setprop", "a", "b"], root=True).command == "su -c 'setprop a b'"


class DroppingPhone(FakePhone):
    """The stream drops mid-reply, as while a device reboots: adbutils raises EOFError."""

    def shell2(self, line: str, timeout: float = 30, v2: bool = True) -> Reply:
        raise EOFError("Expected 5 bytes, got 0")


def test_a_dropped_stream_is_a_device_error_not_a_harness_bug() -> None:
    with pytest.raises(DeviceError, match="adb failed on `getprop`"):
        session_on(DroppingPhone(USER_BUILD)).getprops()
