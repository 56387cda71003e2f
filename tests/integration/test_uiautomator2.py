"""uiautomator2, unmodified, against a virtual emulator through a real adb server.

The client pushes u2.jar, checks it with `toybox md5sum`, launches it over an adb shell stream and
talks HTTP through adb `tcp:9008` streams: this exercises adbd, the shell and the u2 server
together, as a harness uses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.integration

LOCATION = "com.android.settings:id/location_switch"


@pytest.fixture
def d(emulator: Any) -> Iterator[Any]:
    import uiautomator2  # type: ignore[import-untyped]

    device = uiautomator2.connect(emulator.device)
    try:
        yield device
    finally:
        device.stop_uiautomator(wait=False)


def test_connect_info_and_dump(d: Any) -> None:
    info = d.info
    assert info["displayWidth"] == 1080 and info["sdkInt"] == 31
    xml = d.dump_hierarchy()
    assert 'text="Settings"' in xml and "com.android.systemui:id/operator_name" in xml
    assert d(resourceId="com.android.systemui:id/operator_name").get_text() == "Android"


def test_click_wait_and_screenshot(d: Any) -> None:
    d(text="Settings").click()
    assert d(resourceId=LOCATION).wait(timeout=5)
    assert d(resourceId=LOCATION).info["checked"] is True
    d(resourceId=LOCATION).click()
    assert d(resourceId=LOCATION, checked=False).wait(timeout=5)
    assert d.shell("settings get secure location_mode").output.strip() == "0"
    image = d.screenshot()
    assert image.size == (1080, 1920)
    d.press("back")
    assert d(resourceId=LOCATION).wait_gone(timeout=5)


def test_missing_object_raises_ui_object_not_found(d: Any) -> None:
    import uiautomator2  # type: ignore[import-untyped]

    with pytest.raises(uiautomator2.UiObjectNotFoundError):
        d(text="No such thing").click(timeout=0.2)
    assert not d(text="No such thing").exists
