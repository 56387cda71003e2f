"""Waits on a device event: pauses start short and grow to the interval (harness.session.poll)."""

from __future__ import annotations

import pytest

from harness import session


def test_pauses_double_from_the_first_pause_up_to_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(session.time, "sleep", pauses.append)
    answers = iter([False] * 6 + ["done"])
    assert session.poll(lambda: next(answers), timeout=60, interval=0.2) == "done"
    assert pauses == pytest.approx([0.02, 0.04, 0.08, 0.16, 0.2, 0.2])


def test_an_event_that_is_there_at_once_costs_one_read_and_no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(session.time, "sleep", pauses.append)
    assert session.poll(lambda: True, timeout=1) is True
    assert pauses == []


def test_the_timeout_returns_the_last_falsy_value() -> None:
    assert session.poll(lambda: "", timeout=0.05, interval=0.01) == ""
