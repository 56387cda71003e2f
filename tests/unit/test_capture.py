"""Profile capture's pure part: a hierarchy dump -> recogniser, title, candidates, forward tap."""

from __future__ import annotations

from harness.capture import TODO, forward_action, read_screen, skeleton

DUMP = """<hierarchy>
<node package="com.android.systemui" resource-id="com.android.systemui:id/status_bar" text="12:00"/>
<node package="com.acme.setup" resource-id="android:id/content">
  <node package="com.acme.setup" resource-id="com.acme.setup:id/root">
    <node package="com.acme.setup" resource-id="com.acme.setup:id/header" text="Choose a region"/>
    <node package="com.acme.setup" resource-id="com.acme.setup:id/region" text="Europe" clickable="true"/>
    <node package="com.acme.setup" resource-id="com.acme.setup:id/region" text="Asia" clickable="true"/>
    <node package="com.acme.setup" resource-id="com.acme.setup:id/auto" checkable="true" checked="false"/>
    <node package="com.acme.setup" resource-id="com.acme.setup:id/btn_primary" text="Continue" clickable="true"/>
    <node package="com.acme.setup" content-desc="Back" clickable="true"/>
  </node>
</node>
</hierarchy>"""


def test_read_screen_picks_the_outermost_unique_id_and_lists_taps() -> None:
    screen = read_screen(DUMP)
    assert screen.package == "com.acme.setup"
    assert screen.recognise == {"resourceId": "com.acme.setup:id/root"}  # android:id/* is the framework's
    assert screen.title == "Choose a region"
    taps = [c["tap"] for c in screen.candidates]
    assert {"resourceId": "com.acme.setup:id/region", "text": "Asia"} in taps  # a repeated id keeps its text
    assert {"description": "Back"} in taps
    assert any(c.get("checked") is False for c in screen.candidates)
    assert forward_action(screen) == {"tap": {"resourceId": "com.acme.setup:id/btn_primary"}}


def test_a_screen_without_ids_or_taps_still_gives_a_loadable_skeleton() -> None:
    screen = read_screen('<hierarchy><node package="x.y" text="Hello"/></hierarchy>')
    assert screen.recognise == {"text": "Hello"} and forward_action(screen) == {"tap": {"text": TODO}}
    profile = skeleton("p", "hello", screen, {"ro.product.brand": "A.B"})
    assert profile["match"] == [{"props": {"ro.product.brand": r"A\.B"}, "packages": ["x.y"]}]
