"""The SIM as the modem simulator reads it: ICC profiles and the list of networks it registers on.

An API 31+ SDK emulator has no runtime knob for the SIM's MCC/MNC (see /work/shared/spoofing.md):
its modem simulator reads, at cold boot, `modem_simulator/iccprofile_for_simN.xml` (the IMSI in
`<CIMI>`, the MNC length as the last byte of the EF_AD answer `144,0,000000NN`, the ICCID in
`<CCID>`, optionally the SPN) and registers on the SIM's PLMN only when `numeric_operator.xml` lists
it. This module writes those files; which SIM a device boots with is `harness.simboot`'s business.

A profile is written by patching the AVD's own file where it has one (so every other record the
image's modem expects stays as the image shipped it) and from a minimal skeleton otherwise. Only
digits and XML-escaped names reach the files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from harness import radio
from harness.scenario.model import SimSpec

MODEM_DIR = "modem_simulator"
OPERATORS_FILE = "numeric_operator.xml"
MSIN_BASE = "0123456789"  # the subscriber part after MCC+MNC: any digits, fixed for reproducibility

_EF_AD_ANSWER = re.compile(r'(<EF[^>]*id="6FAD"[^>]*>.*?144,0,[0-9A-Fa-f]{4,6})([0-9A-Fa-f]{2})(\s*</SIMIO>)',
                           re.DOTALL | re.IGNORECASE)
_ITEM = re.compile(r'<item\s+numeric="(\d+)"\s*>([^<]*)</item>')

SKELETON = """<?xml version="1.0" encoding="utf-8"?>
<!-- the SIM of slot {slot}, written by regionlock-harness -->
<IccProfile>
  <MF>
    <EF id="2FE2"><CCID>{iccid}</CCID></EF>
    <ADF aid="A0000000871002FF86FF0389FFFFFFFF">
      <EF id="6F07"><CIMI>{imsi}</CIMI></EF>
      <EF id="6FAD"><SIMIO cmd="B0" p1="0" p2="0" p3="4">144,0,000000{mnc_length:02X}</SIMIO></EF>
      <EF id="6F46"><SPN>{spn}</SPN></EF>
    </ADF>
  </MF>
</IccProfile>
"""

OPERATORS_SKELETON = """<?xml version="1.0" encoding="utf-8"?>
<resources>
  <string-array name="numeric_operator">
{items}
  </string-array>
</resources>
"""


@dataclass(frozen=True)
class SimCard:
    """What a profile holds for one present SIM (all digits validated by the scenario model)."""

    slot: int
    imsi: str
    iccid: str
    mnc_length: int
    spn: str

    @property
    def plmn(self) -> str:
        return self.imsi[: 3 + self.mnc_length]


def card_for(sim: SimSpec) -> SimCard:
    """The card a scenario's SIM means: IMSI = MCC + MNC + a fixed MSIN, SPN = the operator's name."""
    if sim.absent or sim.mcc is None or sim.mnc is None:
        raise ValueError(f"slot {sim.slot} has no SIM card to write")
    plmn = f"{sim.mcc}{sim.mnc}"
    imsi = (plmn + MSIN_BASE)[:15]
    iccid = f"89{sim.mcc}{sim.mnc}{sim.slot}".ljust(19, "0")
    return SimCard(sim.slot, imsi, iccid, len(sim.mnc), operator_name(sim))


def operator_name(sim: SimSpec) -> str:
    """The name the SIM shows (`gsm.sim.operator.alpha`): the scenario's, the curated one, or the PLMN."""
    if sim.operator:
        return sim.operator
    op = radio.operator(str(sim.mcc), str(sim.mnc))
    return op.name if op else f"{sim.mcc}{sim.mnc}"


# --------------------------------------------------------------------------------------------
# Pure writers
# --------------------------------------------------------------------------------------------

def icc_profile_xml(card: SimCard, template: str | None = None) -> str:
    """`iccprofile_for_simN.xml` for `card`: the template patched, or the skeleton when it cannot be."""
    if template is not None:
        patched = _patch(template, card)
        if patched is not None:
            return patched
    return SKELETON.format(slot=card.slot, iccid=card.iccid, imsi=card.imsi, mnc_length=card.mnc_length,
                           spn=escape(card.spn))


def _patch(template: str, card: SimCard) -> str | None:
    """Replace IMSI, ICCID, MNC length (and the SPN where the image has one); None if a record is missing."""
    if "<CIMI>" not in template or not _EF_AD_ANSWER.search(template):
        return None
    text = re.sub(r"<CIMI>[^<]*</CIMI>", f"<CIMI>{card.imsi}</CIMI>", template)
    text = re.sub(r"<CCID>[^<]*</CCID>", f"<CCID>{card.iccid}</CCID>", text)
    text = _EF_AD_ANSWER.sub(lambda m: f"{m.group(1)}{card.mnc_length:02X}{m.group(3)}", text, count=1)
    spn = escape(card.spn)
    return re.sub(r"<SPN>[^<]*</SPN>", lambda _: f"<SPN>{spn}</SPN>", text)


def parse_operators(xml: str) -> dict[str, str]:
    """`numeric_operator.xml` entries: PLMN -> the `LONG=SHORT` text, in file order."""
    return dict(_ITEM.findall(xml))


def operators_xml(entries: dict[str, str]) -> str:
    items = "\n".join(f"    <item numeric={quoteattr(plmn)}>{escape(text)}</item>"
                      for plmn, text in entries.items())
    return OPERATORS_SKELETON.format(items=items)


def with_networks(existing: dict[str, str], cards: Sequence[SimCard]) -> dict[str, str]:
    """The image's list plus each SIM's home PLMN (named after the SIM), so the modem registers there."""
    entries = dict(existing)
    for card in cards:
        entries.setdefault(card.plmn, f"{card.spn}={card.spn}")
    return entries


# --------------------------------------------------------------------------------------------
# Writing a modem_simulator folder (an AVD's, or a per-instance copy's)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModemFiles:
    """What was written, and whether the emulator must also be told `-no-sim` (slot 0 empty)."""

    folder: Path
    cards: tuple[SimCard, ...]
    no_sim: bool


def write_modem_files(folder: Path, sims: Sequence[SimSpec]) -> ModemFiles:
    """Give the modem in `folder` (a `modem_simulator/` dir) these SIMs; other slots keep theirs.

    An absent SIM is a missing profile (slot 1) or `-no-sim` (slot 0, which the image always fills
    with its built-in test SIM otherwise).
    """
    folder.mkdir(parents=True, exist_ok=True)
    cards = []
    no_sim = False
    for sim in sims:
        path = folder / f"iccprofile_for_sim{sim.slot}.xml"
        if sim.absent:
            no_sim = no_sim or sim.slot == 0
            if sim.slot != 0:
                path.unlink(missing_ok=True)
            continue
        card = card_for(sim)
        template = path.read_text(errors="replace") if path.is_file() else None
        path.write_text(icc_profile_xml(card, template))
        cards.append(card)
    operators = folder / OPERATORS_FILE
    existing = parse_operators(operators.read_text(errors="replace")) if operators.is_file() else {}
    operators.write_text(operators_xml(with_networks(existing, cards)))
    return ModemFiles(folder, tuple(cards), no_sim)
