"""What a device can do: the one vocabulary of capability names.

A scenario names what it needs (`device: {capabilities: [roaming]}`) and its steps imply more (a
`reset` needs a new hardware identity). A device's capabilities come from its backend (new identity,
another firmware), what the harness finds on it (root, an emulator console) and its firmware profile
(factory reset, anything declared under `capabilities:`). A scenario needing what the device lacks
is skipped with the reason, never run half-way and never passed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# name -> what it means (the reason shown when it is missing)
CAPABILITIES: dict[str, str] = {
    "new-identity": "a factory-fresh device with a new hardware identity (new IMEI)",
    "firmware-swap": "booting another firmware build",
    "factory-reset": "a factory reset on the same hardware",
    "root": "root (adb root or su), for SIM, network and locale spoofs",
    "console": "an emulator console (GPS fix, modem registration)",
    "roaming": "a modem registered as roaming",
    "dual-sim": "two SIM slots",
}


def check_capabilities(names: Iterable[str]) -> list[str]:
    """Validate names against the vocabulary (pydantic validator and loader share this)."""
    out = []
    for name in names:
        if name not in CAPABILITIES:
            close = difflib.get_close_matches(name, CAPABILITIES, n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"unknown capability {name!r}; known: {', '.join(CAPABILITIES)}{hint}")
        out.append(name)
    return out


def missing(needed: Iterable[str], has: Iterable[str]) -> list[str]:
    have = set(has)
    return [name for name in dict.fromkeys(needed) if name not in have]


def describe_missing(names: Iterable[str]) -> str:
    return "; ".join(f"{name} ({CAPABILITIES[name]})" for name in names)
