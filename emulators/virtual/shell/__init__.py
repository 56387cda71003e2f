"""The virtual device's shell: Android's own mksh and toybox, and the framework tools it calls.

adbd calls `run(device, command, io)` on its own thread for `shell:CMD`, `shell,v2:CMD` and
`exec:CMD`; the command runs in the device's sandbox (`emulators.virtual.sandbox`). The framework
tools that sandbox links to the device process live here, each registered by name in
`context.COMMANDS`, in modules named for what they imitate (`framework` and `services` for
Android's framework tools, `logcat`, `ime`, `system` for the few toybox-looking tools that read
device state: the device's clock, its log, SELinux's mode).
"""

from __future__ import annotations

from emulators.virtual.device import ShellIO, VirtualDevice
from emulators.virtual.shell import (  # noqa: F401 (importing registers the commands)
    framework,
    ime,
    logcat,
    screenrecord,
    services,
    system,
)
from emulators.virtual.shell.context import COMMANDS

__all__ = ["COMMANDS", "run"]


def run(device: VirtualDevice, command: str, io: ShellIO) -> int:
    """Run one `shell:` command line (or, for "", an interactive session); returns the exit status."""
    from emulators.virtual.sandbox.userland import userland_for

    return userland_for(device).run_shell(command, io)
