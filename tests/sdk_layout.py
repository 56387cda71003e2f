"""An Android SDK as the `sdk` backend finds it, made in a folder: the real layout, virtual insides.

- `platform-tools/adb`: the adbutils wheel's adb (a symlink);
- `emulator/emulator`: a launcher script exec'ing the project's `virtual-emulator`, which takes the
  SDK emulator's command line;
- AVDs as `avdmanager create avd` writes them (`NAME.ini` + `NAME.avd/config.ini`), API 31+, with the
  `modem_simulator/` files of the image's test SIM (310260) as the emulator leaves them after a boot.
The virtual emulator's own knobs (activation server, timing, policy) sit in `config.ini`, where a
lab's build would have its own configuration; the harness reads none of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support import adb_path, virtual_emulator_command

IMAGE_ICC = """<?xml version="1.0" encoding="utf-8"?>
<IccProfile>
  <PinProfile><Facility>SC</Facility></PinProfile>
  <MF>
    <EF id="2FE2"><CCID>89014103211118510720</CCID></EF>
    <ADF aid="A0000000871002FF86FF0389FFFFFFFF">
      <EF id="6F07"><CIMI>310260000000000</CIMI></EF>
      <EF id="6FAD"><SIMIO cmd="B0" p1="0" p2="0" p3="4">144,0,00000003</SIMIO></EF>
      <EF id="6F46"><SPN>Android</SPN></EF>
    </ADF>
  </MF>
</IccProfile>
"""
IMAGE_OPERATORS = """<?xml version="1.0" encoding="utf-8"?>
<resources>
  <string-array name="numeric_operator">
    <item numeric="310260">T-Mobile=T-Mobile</item>
    <item numeric="311740">Android Virtual Operator=Android</item>
  </string-array>
</resources>
"""
CONFIG = """AvdId={name}
PlayStore.enabled=false
abi.type=x86_64
avd.ini.displayname={name}
avd.ini.encoding=UTF-8
disk.dataPartition.size=6442450944
hw.cpu.arch=x86_64
hw.gps=yes
hw.lcd.density=440
image.sysdir.1=system-images/android-{api}/google_apis/x86_64/
tag.display=Google APIs
tag.id=google_apis
"""


@dataclass(frozen=True)
class SdkLayout:
    root: Path  # ANDROID_SDK_ROOT
    avd_home: Path  # ANDROID_AVD_HOME

    def env(self) -> dict[str, str]:
        return {"ANDROID_SDK_ROOT": str(self.root), "ANDROID_AVD_HOME": str(self.avd_home)}


def make_sdk(folder: Path) -> SdkLayout:
    root, avd_home = folder / "sdk", folder / "avd"
    (root / "platform-tools").mkdir(parents=True)
    (root / "platform-tools" / "adb").symlink_to(adb_path())
    (root / "emulator").mkdir()
    launcher = root / "emulator" / "emulator"
    command = " ".join(f"'{part}'" for part in virtual_emulator_command())
    launcher.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    launcher.chmod(0o755)
    avd_home.mkdir()
    return SdkLayout(root, avd_home)


def make_avd(layout: SdkLayout, name: str, api: int = 33, **knobs: str) -> Path:
    """`avdmanager create avd -n NAME`, plus the modem files; `knobs` go to config.ini."""
    folder = layout.avd_home / f"{name}.avd"
    (folder / "modem_simulator").mkdir(parents=True)
    (layout.avd_home / f"{name}.ini").write_text(
        f"avd.ini.encoding=UTF-8\npath={folder}\npath.rel=avd/{name}.avd\ntarget=android-{api}\n")
    extra = "".join(f"{key}={value}\n" for key, value in knobs.items())
    (folder / "config.ini").write_text(CONFIG.format(name=name, api=api) + extra)
    (folder / "modem_simulator" / "iccprofile_for_sim0.xml").write_text(IMAGE_ICC)
    (folder / "modem_simulator" / "numeric_operator.xml").write_text(IMAGE_OPERATORS)
    return folder


def start_activation_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The lab's activation server (the virtual firmware's), on an OS-chosen port; returns its URL."""
    import re
    import time

    script = Path(sys.executable).parent / "activation-server"
    log = folder / "activation.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(script), "--port", "0", "--db", str(folder / "act.db")], stdout=out,
                                stderr=subprocess.STDOUT, env=dict(os.environ))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"https?://[\w.\-]+:\d+", log.read_text(errors="replace"))
        if match:
            return proc, match.group(0)
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"activation-server printed no URL:\n{log.read_text()}")
