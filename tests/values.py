"""Scenario values the runner-level integration tests share: places and SIM cards they drive devices with."""

from __future__ import annotations

from harness.scenario.model import Position, SimSpec

HAVANA = Position(latitude=23.1136, longitude=-82.3666, place="Havana", country="CU")
MADRID = Position(latitude=40.4168, longitude=-3.7038, place="Madrid", country="ES")
CUBACEL = SimSpec(slot=0, mcc="368", mnc="01", country="CU", operator="CUBACEL")
