from __future__ import annotations

import pytest

from emulators.virtual.sensors import ROTATION_GRAVITY, Sensors


@pytest.mark.parametrize("rotation", [0, 1, 2, 3])
def test_attitude_is_read_from_gravity(rotation: int) -> None:
    sensors = Sensors()
    sensors.set("acceleration", ROTATION_GRAVITY[rotation])
    assert sensors.attitude() == rotation


def test_rotate_turns_a_quarter_each_time_and_comes_back() -> None:
    sensors = Sensors()
    assert [sensors.rotate() for _ in range(4)] == [1, 2, 3, 0]


def test_sensor_values_must_match_the_sensor() -> None:
    sensors = Sensors()
    with pytest.raises(ValueError):
        sensors.set("acceleration", (1.0,))
    with pytest.raises(ValueError):
        sensors.set("no-such-sensor", (1.0,))
