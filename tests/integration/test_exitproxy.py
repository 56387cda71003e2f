"""The `ip` step end to end: the virtual backend's stand-in exit proxy places a device by IP.

The whole harness path runs for real: `VirtualBackend` provisions an adb server, an activation
server and one virtual emulator; the runner plans `ip: CC` (set before activation) into the reset,
which boots the emulator with `-http-proxy 127.0.0.1:<port>` of a lazily started `ExitProxy`
(harness.simboot), walks the wizard
on a Wi-Fi-only device with no SIM and location off (so only the IP can place it), and the verdict
is read from the device alone: `getprop sys.activation.state` and `logcat -d -s RegionLock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import BackendOptions
from harness.backends.virtual import VirtualBackend, VirtualDeviceOps
from harness.evidence import Evidence
from harness.scenario.loader import load_file
from harness.scenario.runner import run_scenario

pytestmark = pytest.mark.integration

SCENARIO = """\
scenario: {country} by IP only
steps:
  - reset
  - sim: none
  - location: off
  - ip: {country}
  - activate: {{wifi: HomeNet, location_services: false}}
  - expect: {expect}
"""


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualDeviceOps]:
    """One lab for the module; one DeviceOps, which keeps its handle current across resets (as the
    plugin's lease does), so each `reset` gets a new data dir, never a previous test's."""
    backend = VirtualBackend(BackendOptions(work_dir=tmp_path_factory.mktemp("lab")))
    try:
        (handle,) = backend.provision(1)
        yield backend.device_ops(handle)
    finally:
        backend.teardown()


def _run(ops: VirtualDeviceOps, tmp_path: Path, country: str, expect: str) -> Any:
    """Runs the scenario; returns the adbutils device to observe."""
    path = tmp_path / f"ip-{country}.yaml"
    path.write_text(SCENARIO.format(country=country, expect=expect))
    (scenario,) = load_file(path)
    run_scenario(scenario, ops.current_session(), ops, Evidence(use_allure=False))
    return ops.current_session().device


def _region_lock_log(device: Any) -> str:
    return str(device.shell("logcat -d -s RegionLock"))


@pytest.mark.parametrize("country", ["IR", "KP"])
def test_device_behind_a_prohibited_countrys_exit_is_locked_by_ip(
        ops: VirtualDeviceOps, tmp_path: Path, country: str) -> None:
    device = _run(ops, tmp_path, country, "locked")
    assert device.getprop("sys.activation.state") == "locked"
    log = _region_lock_log(device)
    assert f"verdict=locked territory={country} signal=ip" in log, log
    assert f"'ip': '{country}'" in log
    # the activation call really went through the country's proxy
    proxy = ops.backend.exit_proxies.running()[country]
    assert any(f.method == "POST" and f.url.endswith("/v1/activate") for f in proxy.forwarded), proxy.forwarded


def test_device_behind_an_ordinary_countrys_exit_is_activated_and_placed_there(
        ops: VirtualDeviceOps, tmp_path: Path) -> None:
    device = _run(ops, tmp_path, "ES", "{state: unlocked, settle: 1}")
    assert device.getprop("sys.activation.state") == "activated"
    log = _region_lock_log(device)
    assert "territory=ES signal=ip" in log, log
    # the emulator's -http-proxy (all guest TCP), not the guest's setting for proxy-aware apps
    assert ops.handle.http_proxy == ops.proxy_for_country("ES")
    assert ops.current_session().settings_get("global", "http_proxy") is None
