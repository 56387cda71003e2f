"""`dumpsys location` and the fix the activation uses (the shell models `cmd location` itself)."""

from __future__ import annotations

import time

from emulators.virtual.device import Fix, LocationState


def latest_fix(state: LocationState) -> tuple[str, Fix] | None:
    """The fix the activation uses: the GPS provider's, else the newest of any provider."""
    if "gps" in state.last_fix:
        return "gps", state.last_fix["gps"]
    if not state.last_fix:
        return None
    provider = max(state.last_fix, key=lambda p: state.last_fix[p].time)
    return provider, state.last_fix[provider]


def format_fix(provider: str, fix: Fix, now: float) -> str:
    age_ms = max(0, int((now - fix.time) * 1000)) if fix.time else 0
    mock = " mock" if fix.mock else ""
    return (f"Location[{provider} {fix.latitude:.6f},{fix.longitude:.6f} hAcc=5.0 et=-{age_ms}ms "
            f"alt={fix.altitude} vel={fix.speed_knots * 0.514444:.1f}{mock}]")


def dumpsys_location(state: LocationState, enabled: bool, now: float | None = None) -> str:
    now = time.time() if now is None else now
    lines = ["Location Manager State:", "  Location Settings:",
             f"    Location Enabled: {'true' if enabled else 'false'}", "  Location Providers:"]
    providers = ["gps", "network", "fused", "passive"] + sorted(
        p for p in set(state.last_fix) | set(state.test_providers) if p not in ("gps", "network", "fused", "passive"))
    for provider in providers:
        test = provider in state.test_providers
        on = enabled and (state.test_providers.get(provider, True))
        lines.append(f"    {provider} provider:{' [test provider]' if test else ''}")
        lines.append(f"      enabled={'true' if on else 'false'}")
        fix = state.last_fix.get(provider)
        lines.append(f"      last location={format_fix(provider, fix, now) if fix else 'null'}")
    return "\n".join(lines) + "\n"
