"""The device's userland as a user types at it: everyday tools, screenrecord, app processes.

One emulator (built-in firmware) serves the whole module through the real adb binary and adbutils.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import AdbServer, EmulatorFactory, RunningEmulator, VirtualHome

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def device(adb_server: AdbServer, virtual_home: VirtualHome,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    factory = EmulatorFactory(adb_server, virtual_home, tmp_path_factory.mktemp("userland"))
    try:
        yield factory.start()
    finally:
        factory.stop_all()


# What issue 8 names (sed, awk, find, sort, tr, xargs, pidof, base64, head -c, ...), each as typed
# into `adb shell`, with what Android prints.
EVERYDAY = [
    ("echo 'b a' | sed 's/a/z/'", "b z\n"),
    ("echo 'x 1 y' | awk '{ print $2 + 41 }'", "42\n"),
    ("awk 'BEGIN { printf \"%s-%d\\n\", \"v\", 3 }'", "v-3\n"),
    ("awk --version", "awk version 20220912\n"),
    ("printf 'b\\na\\nc\\n' | sort -r", "c\nb\na\n"),
    ("echo hello | tr a-z A-Z", "HELLO\n"),
    ("echo 'a:b:c' | tr -d :", "abc\n"),
    ("echo '1 2 3' | tr -s ' ' '\\n' | xargs -n 1 echo n", "n 1\nn 2\nn 3\n"),
    ("find /system/bin -name sh", "/system/bin/sh\n"),
    ("printf hi | base64", "aGk=\n"),
    ("printf aGk= | base64 -d", "hi"),
    ("echo abcdef | head -c 3", "abc"),
    ("expr 6 \\* 7", "42\n"),
    ("printf abc | dd bs=1 count=2 2>/dev/null", "ab"),
    ("pidof system_server >/dev/null && echo yes", "yes\n"),
    ("cd /data/local/tmp; echo a > d1; echo b > d2; diff d1 d2 >/dev/null; echo $?", "1\n"),
    ("echo x | gzip | gzip -d", "x\n"),
    ("seq 3 | awk '{ s += $1 } END { print s }'", "6\n"),
]


@pytest.mark.parametrize(("command", "expected"), EVERYDAY, ids=[c for c, _ in EVERYDAY])
def test_everyday_tools_work_in_adb_shell(device: RunningEmulator, command: str, expected: str) -> None:
    result = device.device.shell2(command)
    assert (result.output, result.returncode) == (expected, 0)


def test_busybox_is_not_on_the_path_and_awk_is_one_true_awk(device: RunningEmulator) -> None:
    assert device.device.shell2("which busybox").returncode != 0
    assert device.device.shell2("which awk tr").output.split() == ["/system/bin/awk", "/system/bin/tr"]
