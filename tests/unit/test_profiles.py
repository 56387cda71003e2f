"""Notice and wizard profiles: shipped files load, match the README's texts, plan the right taps."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ProfileError
from harness.profiles import (
    available,
    load_notice_profile,
    load_wizard_profile,
    wizard_options,
)

P = "com.android.provision:id/"


def test_reference_notice_texts() -> None:
    n = load_notice_profile()
    assert n.selectors == [{"resourceId": "com.android.regionlock:id/notice"}]
    assert n.home == [{"resourceId": "com.android.launcher3:id/workspace"}]
    en = "This device has been locked due to international sanction restrictions."
    es = "Este dispositivo ha sido bloqueado debido a restricciones de sanciones internacionales."
    assert n.match_text("Device locked", en).locale == "en"  # type: ignore[union-attr]
    assert n.match_text("Dispositivo bloqueado", es).locale == "es"  # type: ignore[union-attr]
    assert n.match_text("Welcome", "Start") is None
    assert n.text_for("es-ES").locale == "es" and n.text_for("fr-FR") is None  # type: ignore[union-attr]


def test_reference_wizard_pages() -> None:
    w = load_wizard_profile()
    assert [p.name for p in w.pages] == ["welcome", "sim", "wifi", "terms", "account", "location", "done"]
    assert w.done == {"resourceId": "com.android.launcher3:id/workspace"}
    for page in w.pages:
        assert page.recognise == {"resourceId": f"{P}page_{page.name}"}
        assert set(page.titles) == {"en", "es"}


def _taps(page: str, **options: object) -> list[tuple[dict[str, object], bool | None]]:
    o = wizard_options(**options)  # type: ignore[arg-type]
    return [(a.selector(o), a.wanted_checked(o)) for a in load_wizard_profile().page(page).plan(o)]


def test_wizard_plans_follow_options() -> None:
    assert _taps("welcome", language="es") == [({"resourceId": f"{P}language_es"}, None),
                                               ({"resourceId": f"{P}next"}, None)]
    assert _taps("welcome") == [({"resourceId": f"{P}next"}, None)]
    assert _taps("wifi") == [({"resourceId": f"{P}skip"}, None)]
    assert _taps("wifi", wifi="HomeNet") == [
        ({"resourceId": f"{P}wifi_switch"}, True),
        ({"resourceId": f"{P}wifi_network", "text": "HomeNet"}, None),
        ({"resourceId": f"{P}next"}, None)]
    assert _taps("location", location_services=False)[0] == ({"resourceId": f"{P}location_switch"}, False)
    assert _taps("location")[0][1] is True
    assert _taps("done") == [({"resourceId": f"{P}finish"}, None)]


def test_profiles_by_path_and_errors(tmp_path: Path) -> None:
    assert available("notice") == ["reference"] and available("wizard") == ["reference"]
    with pytest.raises(ProfileError, match="no notice profile named 'nope'"):
        load_notice_profile("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfirmware_family: y\nselectors: []\ntexts: []\nhome: []\n")
    with pytest.raises(ProfileError, match="selectors"):
        load_notice_profile(str(bad))
    good = tmp_path / "mine.yaml"
    good.write_text("name: mine\npages:\n  - name: p\n    recognise: {text: Hi}\n"
                    "    actions: [{tap: {text: OK}}]\ndone: {text: Home}\n")
    assert load_wizard_profile(str(good)).pages[0].plan({})[0].tap == {"text": "OK"}
