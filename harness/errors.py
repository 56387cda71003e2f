"""The harness's one error hierarchy.

Reports must tell three kinds of failure apart, so each is its own branch under `HarnessError`:

- `ScenarioError`: the scenario file is wrong (the author's fault). It names the file, the line and
  the field, says what was expected and, where it can, suggests what was meant.
- `InfrastructureError`: the lab failed (a device died, a spoof did not take, the console refused a
  command). The product was never judged, so the run is inconclusive, not failed.
- `ProductDefect`: the device was driven as asked and made the wrong lock decision.

`pytest_plugin` and the CLI map these onto Allure categories and exit codes; nothing else should need
to inspect messages.
"""

from __future__ import annotations

from collections.abc import Sequence


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""


# --------------------------------------------------------------------------------------------
# Scenario files
# --------------------------------------------------------------------------------------------

class ScenarioError(HarnessError):
    """A scenario file that cannot be loaded.

    Renders as ``file:line: field: message (did you mean X, Y?)`` so editors and CI logs can jump to
    the spot. `hint` is either a ready sentence or a list of suggestions.
    """

    def __init__(
        self,
        file: str,
        line: int | None,
        field: str | None,
        message: str,
        hint: str | Sequence[str] | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        self.hint = _render_hint(hint)
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        head = f"{where}: {self.field}: " if self.field else f"{where}: "
        tail = f" ({self.hint})" if self.hint else ""
        return f"{head}{self.message}{tail}"


def _render_hint(hint: str | Sequence[str] | None) -> str | None:
    if hint is None or isinstance(hint, str):
        return hint or None
    names = [str(h) for h in hint]
    if not names:
        return None
    return "did you mean " + ", ".join(names) + "?"


class ProfileError(HarnessError):
    """A notice or wizard profile file that cannot be loaded (the lab's configuration is wrong)."""

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.message = message
        super().__init__(f"{file}: {message}")


# --------------------------------------------------------------------------------------------
# The lab: devices, spoofs, console
# --------------------------------------------------------------------------------------------

class InfrastructureError(HarnessError):
    """The lab failed; the product's verdict is unknown (inconclusive, never a pass)."""


class DeviceError(InfrastructureError):
    """A device-level failure. Renders as ``<Device|emulator-5554> msg`` (mobly's shape)."""

    def __init__(self, serial: str | None, msg: str) -> None:
        self.serial = serial
        self.msg = msg
        super().__init__(f"<Device|{serial or '?'}> {msg}")


class UndecidedDevice(DeviceError):
    """The device stayed undecided past its profile's decision bound although it was online.

    Its answer never came (typically the activation server is down or unreachable): judging
    "unlocked" or "locked" from the screen would be judging the lab, so this is never a verdict.
    """


class ServiceDown(InfrastructureError):
    """A service the harness started for the run (activation server, adb server, an emulator) was
    down or restarted while a scenario ran, or could not be brought back."""

    def __init__(self, service: str, detail: str) -> None:
        self.service = service
        self.detail = detail
        super().__init__(f"{service}: {detail}")


class DeviceUnreplaceable(ServiceDown):
    """A device that died and could not be replaced: its holder stops taking scenarios, which run on
    the other devices (under xdist the worker retires and hands its queue back; harness.retire)."""


class SpoofMismatch(InfrastructureError):
    """A spoofed signal read back different from what was set: the run cannot be trusted."""

    def __init__(self, signal: str, expected: object, observed: object, serial: str | None = None) -> None:
        self.signal = signal
        self.expected = expected
        self.observed = observed
        self.serial = serial
        where = f"<Device|{serial}> " if serial else ""
        super().__init__(
            f"{where}spoof of {signal} did not take: expected {expected!r}, read back {observed!r}"
        )


class ConsoleError(InfrastructureError):
    """The emulator console answered ``KO: ...`` (or nothing) to a command."""

    def __init__(self, command: str, reply: str) -> None:
        from harness.redact import redact  # the console token must not travel in a message

        self.command = redact(command)
        self.reply = redact(reply)
        super().__init__(f"console command {self.command!r} failed: {self.reply.strip() or '(no reply)'}")


class CapabilityMissing(InfrastructureError):
    """The device cannot produce a signal the scenario needs (e.g. roaming on a stock emulator).

    Such a scenario is skipped with this reason, never passed.
    """

    def __init__(self, capability: str, serial: str | None = None, reason: str = "") -> None:
        self.capability = capability
        self.serial = serial
        self.reason = reason
        where = f"<Device|{serial}> " if serial else ""
        super().__init__(f"{where}cannot provide {capability}" + (f": {reason}" if reason else ""))


# --------------------------------------------------------------------------------------------
# The product
# --------------------------------------------------------------------------------------------

class ProductDefect(HarnessError):
    """The device under test behaved wrongly."""


class VerdictMismatch(ProductDefect):
    """The lock decision differs from the expected one (``expected`` / ``observed``: locked|unlocked)."""

    def __init__(self, expected: str, observed: str, details: str = "", seen: str = "") -> None:
        self.expected = expected
        self.observed = observed
        self.details = details
        self.seen = seen  # what was on screen, without timings: reports group failures by it
        tail = f": {details}" if details else ""
        super().__init__(f"expected the device {expected}, but it was {observed}{tail}")


__all__ = [
    "CapabilityMissing",
    "ConsoleError",
    "DeviceError",
    "DeviceUnreplaceable",
    "HarnessError",
    "InfrastructureError",
    "ProductDefect",
    "ProfileError",
    "ScenarioError",
    "ServiceDown",
    "SpoofMismatch",
    "UndecidedDevice",
    "VerdictMismatch",
]
