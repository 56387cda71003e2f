"""Firmware profiles: shipped files load, match the README's texts, plan the right taps, and a device
gets the right profile from its facts (or by name), with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.decision import decision_reader, settle_without_sign
from harness.errors import ProfileError
from harness.notice import NO_SERVICE
from harness.profile_match import NoProfile, ProfileSource, RecognitionFacts, select
from harness.profiles import load_profile, read_profile, shipped_profiles, wizard_options
from harness.session import LogMark, ShellResult

P = "com.android.provision:id/"


def test_reference_notice_texts() -> None:
    n = load_profile().notice
    assert n.selectors == [{"resourceId": "com.android.regionlock:id/notice"}]
    assert n.home == [{"resourceId": "com.android.launcher3:id/workspace"}]
    en = "This device has been locked due to international sanction restrictions."
    es = "Este dispositivo ha sido bloqueado debido a restricciones de sanciones internacionales."
    assert n.match_text("Device locked", en).locale == "en"  # type: ignore[union-attr]
    assert n.match_text("Dispositivo bloqueado", es).locale == "es"  # type: ignore[union-attr]
    assert n.match_text("Welcome", "Start") is None


def test_reference_wizard_pages() -> None:
    w = load_profile().wizard
    assert [p.name for p in w.pages] == ["welcome", "sim", "wifi", "terms", "account", "location", "done"]
    assert w.done == {"resourceId": "com.android.launcher3:id/workspace"}
    for page in w.pages:
        assert page.recognise == {"resourceId": f"{P}page_{page.name}"}
        assert set(page.titles) == {"en", "es"}


def _taps(page: str, **options: object) -> list[tuple[dict[str, object], bool | None]]:
    o = wizard_options(**options)  # type: ignore[arg-type]
    return [(a.selector(o), a.wanted_checked(o)) for a in load_profile().wizard.page(page).plan(o)]


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


MINIMAL = """\
name: {name}
match: {match}
wizard:
  pages:
    - name: p
      recognise: {{text: Hi}}
      actions: [{{tap: {{text: OK}}}}]
  done: {{text: Home}}
notice:
  selectors: [{{text: Locked}}]
  texts: [{{locale: en, title: Locked, body: .}}]
  home: [{{text: Home}}]
{extra}"""


def write_profile(folder: Path, name: str, match: str = "[]", extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(MINIMAL.format(name=name, match=match, extra=extra))
    return path


def test_profiles_by_name_path_and_errors(tmp_path: Path) -> None:
    assert "reference" in {p.name for p in shipped_profiles()}
    with pytest.raises(ProfileError, match="no firmware profile named 'nope'"):
        load_profile("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nwizard: {pages: [], done: {}}\nnotice: {selectors: [], texts: [], home: []}\n")
    with pytest.raises(ProfileError, match="wizard.pages"):
        load_profile(str(bad))
    good = write_profile(tmp_path / "lab", "mine")
    mine = load_profile(str(good))
    assert mine.wizard.pages[0].plan({})[0].tap == {"text": "OK"}
    assert mine.notice.name == mine.wizard.name == "mine" and mine.decision is None
    assert load_profile("mine", tmp_path / "lab") == mine  # by name from the user's directory


def test_profile_errors_name_the_field(tmp_path: Path) -> None:
    cases = {
        "match: [{}]": "a match rule needs props or packages",
        "decision: {property: x}": "lists its `unlocked` and `locked` values",
        "decision: {property: x, log: {locked: a, unlocked: b}}": "not property and log",
        "decision: {screen: {unlocked: {text: R}}}": "cannot tell 'undecided' from 'no decision service'",
        "decision: {log: {locked: a, unlocked: b}}": "give `service`.* or `log.started`",
        "capabilities: [rooting]": "unknown capability 'rooting'",
        "build: {}": "a property or a shell command",
    }
    for extra, message in cases.items():
        path = write_profile(tmp_path, "x", extra=extra + "\n")
        with pytest.raises(ProfileError, match=message):
            read_profile(path)


def test_reference_profile_data() -> None:
    ref = load_profile()
    assert ref.decision is not None and ref.decision.kind() == "property"
    assert ref.notice.decision == ref.decision and ref.decision.undecided_settle_seconds == 12
    assert ref.build is not None and ref.build.parse("RegionLock policy=custom-rom decide=x") == "custom-rom"
    assert [m.name for m in ref.factory_reset] == ["broadcast"] and ref.factory_reset[0].root


REFERENCE_DEVICE = RecognitionFacts({"ro.product.brand": "Redmi", "ro.build.fingerprint": "Redmi/merlin:12"},
                               frozenset({"android", "com.android.provision", "com.android.regionlock"}))


def test_selection_by_facts_with_the_reason(tmp_path: Path) -> None:
    choice = select(REFERENCE_DEVICE, (), shipped_profiles())
    assert choice.profile.name == "reference"
    assert choice.reason == "matched: package com.android.provision, package com.android.regionlock"
    with pytest.raises(NoProfile, match="no firmware profile matches .*ro.product.brand='Acme'"):
        select(RecognitionFacts({"ro.product.brand": "Acme"}, frozenset({"android"})), (), shipped_profiles())


def test_user_profile_wins_by_specificity_then_origin(tmp_path: Path) -> None:
    brand = read_profile(write_profile(tmp_path, "lab-redmi", '[{props: {ro.product.brand: "Redmi|POCO"}}]'))
    tied = read_profile(write_profile(tmp_path, "lab-pkg", "[{packages: [com.android.provision, android]}]"))
    specific = read_profile(write_profile(
        tmp_path, "lab-exact", '[{props: {ro.product.brand: Redmi}, packages: [com.android.regionlock, android]}]'))
    assert select(REFERENCE_DEVICE, (tied,), shipped_profiles()).profile.name == "lab-pkg"  # same weight
    assert select(REFERENCE_DEVICE, (brand,), shipped_profiles()).profile.name == "reference"  # 1 < 2 facts
    choice = select(REFERENCE_DEVICE, (brand, specific), shipped_profiles())
    assert choice.profile.name == "lab-exact"
    assert choice.reason.startswith("user profile: ro.product.brand=Redmi, package ")
    with pytest.raises(NoProfile, match="several profiles match this device equally"):
        select(REFERENCE_DEVICE, (tied, read_profile(write_profile(
            tmp_path, "lab-pkg2", "[{packages: [com.android.regionlock, android]}]"))), ())


class FakeDevice:
    serial = "emulator-1"

    def __init__(self, props: dict[str, str], packages: list[str]) -> None:
        self.props, self.packages, self.asked = props, packages, []  # type: ignore[var-annotated]

    def getprops(self) -> dict[str, str]:
        self.asked.append("getprop")
        return self.props

    def shell(self, args: list[str], *, timeout: float = 30.0, root: bool = False) -> ShellResult:
        self.asked.append(" ".join(args))
        out = "".join(f"package:{p}\n" for p in self.packages)
        return ShellResult(tuple(args), " ".join(args), out, 0)


def test_profile_source_reads_facts_and_honours_a_named_profile(tmp_path: Path) -> None:
    device = FakeDevice({"ro.product.brand": "Redmi"}, ["com.android.provision", "com.android.regionlock"])
    assert ProfileSource().choose(device).profile.name == "reference"
    assert device.asked == ["getprop", "pm list packages"]
    write_profile(tmp_path / "lab", "lab-redmi", '[{props: {ro.product.brand: Redmi}, packages: [android]}]')
    device.packages.append("android")
    choice = ProfileSource(directory=tmp_path / "lab").choose(device)
    assert choice.describe() == "lab-redmi (user profile: ro.product.brand=Redmi, package android)"
    named = ProfileSource(named="reference", directory=tmp_path / "lab").choose(FakeDevice({}, []))
    assert named.reason == "--profile name reference"
    with pytest.raises(ProfileError, match="profile directory does not exist"):
        ProfileSource(directory=tmp_path / "none").choose(device)


class SignDevice:
    def __init__(self) -> None:
        self.log, self.xml, self.props = "", "<hierarchy/>", {"sys.x": "done"}

        self.packages: set[str] = set()

    def getprop(self, name: str) -> str:
        return self.props.get(name, "")

    def shell(self, args: list[str], *, timeout: float = 30.0, root: bool = False) -> ShellResult:
        found = args[:2] == ["pm", "path"] and args[2] in self.packages
        return ShellResult(tuple(args), " ".join(args), f"package:/system/{args[2]}.apk" if found else "", 0 if found else 1)

    def logcat_since(self, mark: LogMark) -> str:
        return self.log

    def dump_hierarchy(self) -> str:
        return self.xml


def test_decision_signs_of_each_kind(tmp_path: Path) -> None:
    device = SignDevice()
    log = read_profile(write_profile(tmp_path, "log", extra=(
        "decision: {log: {locked: 'Lock: verdict=LOCKED', unlocked: 'Lock: verdict=OK', started: 'Lock: asked'},"
        " longest_seconds: 9}\n")))
    read = decision_reader(log.decision, device, lambda: LogMark(0, 0))
    assert read is not None and read() == ""  # no line at all: no decision service
    device.log = "I Lock: asked\n"
    assert read() == "pending"  # it began and has not decided: undecided, not "no service"
    device.log = "I Lock: verdict=LOCKED\nI Lock: asked\nI Lock: verdict=OK\n"
    assert read() == "unlocked" and log.decision is not None and log.decision.is_final(read())
    device.log += "I Lock: asked\n"  # a new activation began: the earlier decision is not this one
    assert read() == "pending"
    screen = read_profile(write_profile(tmp_path, "screen", extra=(
        "decision: {screen: {unlocked: {text: Ready}}, service: com.x.lock}\n")))
    read = decision_reader(screen.decision, device, lambda: LogMark(0, 0))
    assert read is not None and read() == NO_SERVICE  # the service's package is not installed
    device.packages.add("com.x.lock")
    read = decision_reader(screen.decision, device, lambda: LogMark(0, 0))
    assert read is not None and read() == "pending"
    device.xml = '<hierarchy><node text="Ready"/></hierarchy>'
    assert read() == "unlocked"
    prop = read_profile(write_profile(tmp_path, "prop", extra=(
        "decision: {property: sys.x, unlocked: [done], locked: [lock]}\n")))
    read = decision_reader(prop.decision, device, lambda: LogMark(0, 0))
    assert read is not None and read() == "done"
    none = read_profile(write_profile(tmp_path, "none", extra="decision: {longest_seconds: 20}\n"))
    assert decision_reader(none.decision, device, lambda: LogMark(0, 0)) is None
    assert settle_without_sign(none.decision, 3) == 20 and settle_without_sign(prop.decision, 3) == 3


@pytest.mark.parametrize("sign", [
    "{property: sys.x, unlocked: [done], locked: [lock], service: com.x.lock}",
    "{log: {locked: 'Lock: LOCKED', unlocked: 'Lock: OK', started: 'Lock: asked'}, service: com.x.lock}",
    "{service: com.x.lock, longest_seconds: 20}",
])
def test_a_sign_showing_nothing_is_no_service_only_when_checked_on_the_device(tmp_path: Path, sign: str) -> None:
    """Installed: "" (the sign itself says when a decision comes, so the bound is waited);
    not installed: NO_SERVICE (the settle period alone). `pm path` is asked once per reader."""
    profile = read_profile(write_profile(tmp_path, "svc", extra=f"decision: {sign}\n"))
    device = SignDevice()
    device.props.clear()
    device.packages.add("com.x.lock")
    read = decision_reader(profile.decision, device, lambda: LogMark(0, 0))
    assert read is not None and read() == ""
    device.packages.clear()
    assert read() == ""  # asked once: a package does not come and go during a wait
    read = decision_reader(profile.decision, device, lambda: LogMark(0, 0))
    assert read is not None and read() == NO_SERVICE
    assert settle_without_sign(profile.decision, 3) == 3  # a named service gets a reader, not a stretch
