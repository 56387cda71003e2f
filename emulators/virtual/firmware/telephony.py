"""The modem: SIM cards, the serving network, and how Android publishes them as `gsm.*` props.

Modelled on an API 31+ SDK emulator with the modem simulator (shared/spoofing.md): SIMs come from
the AVD's `modem_simulator/iccprofile_for_simN.xml`, the network registers on the SIM's PLMN only
when `numeric_operator.xml` lists it, otherwise on 311740 "Android Virtual Operator". Everything
here is pure: the firmware reads the files at boot and calls `publish()` on every radio event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from emulators.virtual.firmware import mcc

DEFAULT_IMSI = "310260000000000"
DEFAULT_ICCID = "89014103211118510720"
FALLBACK_PLMN = "311740"
FALLBACK_NAME = "Android Virtual Operator"
# Built into the image: the test PLMNs a stock emulator always knows.
BUILTIN_OPERATORS = {"310260": "T-Mobile", FALLBACK_PLMN: FALLBACK_NAME}
REGISTERED = ("home", "roaming", "on")


@dataclass(frozen=True)
class SimCard:
    slot: int
    present: bool
    imsi: str = ""
    iccid: str = ""
    mnc_length: int = 2
    spn: str = ""

    @property
    def plmn(self) -> str:
        return self.imsi[: 3 + self.mnc_length] if self.present else ""


@dataclass(frozen=True)
class Network:
    plmn: str
    name: str
    roaming: bool


def absent(slot: int) -> SimCard:
    return SimCard(slot, False)


def builtin_sim(slot: int) -> SimCard:
    return SimCard(slot, True, DEFAULT_IMSI, DEFAULT_ICCID, 3, "Android")


def parse_icc_profile(slot: int, xml: str) -> SimCard:
    """A SIM from a modem-simulator ICC profile (regexes: the file is large and only 3 fields matter)."""
    imsi = _tag(xml, "CIMI")
    if not imsi:
        return absent(slot)
    return SimCard(slot, True, imsi, _tag(xml, "CCID") or DEFAULT_ICCID, _mnc_length(xml, imsi),
                   _tag(xml, "SPN"))


def _tag(xml: str, name: str) -> str:
    match = re.search(rf"<{name}>\s*([^<]*?)\s*</{name}>", xml)
    return match.group(1) if match else ""


def _mnc_length(xml: str, imsi: str) -> int:
    """EF_AD (6FAD) answer `144,0,000000NN`: its last byte is the MNC length."""
    block = re.search(r'<EF[^>]*id="6FAD"[^>]*>(.*?)</EF>', xml, re.DOTALL | re.IGNORECASE)
    answers = re.findall(r"144,0,([0-9A-Fa-f]{6,8})\s*</SIMIO>", block.group(1) if block else xml)
    for answer in answers:
        length = int(answer[-2:], 16)
        if length in (2, 3):
            return length
    return mcc.mnc_length(imsi[:3])


def parse_numeric_operators(xml: str) -> dict[str, str]:
    """`<item numeric="36801">CUBACEL=CUBACEL</item>` -> {"36801": "CUBACEL"} (long name)."""
    return {num: text.split("=")[0].strip()
            for num, text in re.findall(r'<item\s+numeric="(\d+)"\s*>([^<]*)</item>', xml)}


def load_sims(avd_dir: Path | None, slots: int, absent_slots: set[int],
              icc_profile: Path | None = None) -> list[SimCard]:
    """SIMs per slot; `icc_profile` (emulator `-icc-profile FILE`) replaces slot 0's AVD file."""
    sims = []
    for slot in range(slots):
        path = avd_dir / "modem_simulator" / f"iccprofile_for_sim{slot}.xml" if avd_dir else None
        if slot == 0 and icc_profile is not None:
            path = icc_profile
        if slot in absent_slots:
            sims.append(absent(slot))
        elif path is not None and path.is_file():
            sims.append(parse_icc_profile(slot, path.read_text(errors="replace")))
        else:
            sims.append(builtin_sim(slot) if slot == 0 else absent(slot))
    return sims


def load_operators(avd_dir: Path | None) -> dict[str, str]:
    operators = dict(BUILTIN_OPERATORS)
    path = avd_dir / "modem_simulator" / "numeric_operator.xml" if avd_dir else None
    if path is not None and path.is_file():
        operators.update(parse_numeric_operators(path.read_text(errors="replace")))
    return operators


def serving_network(sim: SimCard, operators: dict[str, str], voice: str, radio_on: bool) -> Network | None:
    """Where the modem registers this SIM, or None (no SIM, radio off, not registered)."""
    if not sim.present or not radio_on or voice not in REGISTERED:
        return None
    plmn = sim.plmn if sim.plmn in operators else FALLBACK_PLMN
    return Network(plmn, operators[plmn], roaming=voice == "roaming")


def sim_name(sim: SimCard, operators: dict[str, str]) -> str:
    return sim.spn or operators.get(sim.plmn, "") if sim.present else ""


def publish(sims: list[SimCard], networks: list[Network | None], operators: dict[str, str]) -> dict[str, str]:
    """The `gsm.*` properties, comma-joined per slot as Android's TelephonyManager writes them."""
    def joined(values: list[str]) -> str:
        return ",".join(values)

    return {
        "gsm.sim.state": joined(["READY" if s.present else "ABSENT" for s in sims]),
        "gsm.sim.operator.numeric": joined([s.plmn for s in sims]),
        "gsm.sim.operator.alpha": joined([sim_name(s, operators) for s in sims]),
        "gsm.sim.operator.iso-country": joined([mcc.country_for_plmn(s.plmn) for s in sims]),
        "gsm.operator.numeric": joined([n.plmn if n else "" for n in networks]),
        "gsm.operator.alpha": joined([n.name if n else "" for n in networks]),
        "gsm.operator.iso-country": joined([mcc.country_for_plmn(n.plmn) if n else "" for n in networks]),
        "gsm.operator.isroaming": joined(["true" if n and n.roaming else "false" for n in networks]),
        "gsm.network.type": joined(["LTE" if n else "Unknown" for n in networks]),
    }


def dumpsys_registry(sims: list[SimCard], networks: list[Network | None], voice: str, data: str) -> str:
    """`dumpsys telephony.registry`: the modem's view (a setprop spoof does not show here)."""
    lines = []
    for sim, net in zip(sims, networks):
        lines.append(f"  Phone Id={sim.slot}")
        if net is None:
            state = "1(OUT_OF_SERVICE)" if sim.present else "1(OUT_OF_SERVICE) (no SIM)"
            lines.append(f"    mServiceState={{mVoiceRegState=1(OUT_OF_SERVICE), mDataRegState={state}, "
                         "mOperatorAlphaLong=null, mOperatorNumeric=null, mMcc=null, mMnc=null, "
                         "mRoaming=false}")
        else:
            lines.append(
                f"    mServiceState={{mVoiceRegState=0(IN_SERVICE), mDataRegState=0(IN_SERVICE), "
                f"mChannelNumber=-1, mOperatorAlphaLong={net.name}, mOperatorAlphaShort={net.name}, "
                f"mOperatorNumeric={net.plmn}, mMcc={net.plmn[:3]}, mMnc={net.plmn[3:]}, "
                f"mRoaming={'true' if net.roaming else 'false'}, voice={voice}, data={data}}}")
        lines.append(f"    mSimState={'READY' if sim.present else 'ABSENT'} mSimOperator={sim.plmn}")
    return "last known state:\n" + "\n".join(lines) + "\n"
