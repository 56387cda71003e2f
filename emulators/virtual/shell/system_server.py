"""Which framework tools answer while the device is still booting.

On a real device adbd, the shell and init's property service answer within a second of the boot's
start, while the system services (package, activity, settings, window, ...) exist only once
system_server has published them, late in the boot. Until then `cmd` and the tools that are `cmd`
under another name on API 31 (`pm`, `am`, `settings`, `wm`, `ime`, `input`, `appops`) print
`cmd: Can't find service: package` and exit 20, and `dumpsys X` prints `Can't find service: X`.

This device publishes them when its boot completes (a real one some seconds earlier: a stricter
model), so a harness that asks a device in its boot for more than properties and the shell, for
example a profile match by `pm list packages`, fails here first.
"""

from __future__ import annotations

# the tools that are `cmd SERVICE` on API 31, and their service
CMD_TOOLS = {"pm": "package", "am": "activity", "settings": "settings", "appops": "appops", "wm": "window",
             "ime": "input_method", "input": "input"}
# dumpsys services that native daemons publish before system_server runs
NATIVE_SERVICES = frozenset({"SurfaceFlinger"})


def refusal(args: list[str], booted: bool) -> tuple[str, int] | None:
    """(stderr text, exit status) when `args` needs a system service that is not up yet, else None."""
    if booted or not args:
        return None
    tool = args[0]
    if tool in CMD_TOOLS:
        return f"cmd: Can't find service: {CMD_TOOLS[tool]}\n", 20
    if tool == "cmd" and len(args) > 1 and not args[1].startswith("-"):
        return f"cmd: Can't find service: {args[1]}\n", 20
    if tool == "dumpsys" and len(args) > 1 and not args[1].startswith("-") and args[1] not in NATIVE_SERVICES:
        return f"Can't find service: {args[1]}\n", 0
    return None
