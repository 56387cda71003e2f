"""The emulator farm: devices on many hosts, leases shared across runs, quarantine, sharding.

Theory of operation
-------------------
- `inventory.py`: `farm.yaml` names adb servers (`host:port`: every device on them) and network
  devices (`adb connect` addresses, reached through one of the farm's adb servers), each with labels
  (firmware build, API level, SIM slots, kind). Errors name the file, line and field.
- `discovery.py`: what is on the farm right now (each adb server asked once; an unreachable one is a
  row saying so, never a traceback).
- `state.py`: who holds which device and which devices are quarantined. `RedisFarmState` is shared
  by every run given the same Redis URL: a lease is a key holding its holder, with a TTL a heartbeat
  thread renews while the holder lives, so a crashed run's leases expire by themselves.
  `MemoryFarmState` is the same contract inside one process (no Redis: a single machine needs
  nothing extra).
- `backend.py`: the `farm` backend. `provision(n)` leases n healthy devices matching the run's label
  selection (waiting, with a deadline, while the farm is busy); its DeviceOps check the device before
  each scenario and move to another farm device when it is dead, quarantining the dead one.
- `shard.py`: `--shard I/N` picks this job's share of the selected scenarios, deterministically and
  balanced by earlier durations when a durations file exists.
- `plugin.py`: the pytest side (options, sharding at collection, counting infrastructure failures
  towards quarantine, stopping a run the farm cannot serve).
- `listing.py`: `harness devices --farm` and `harness farm release`; `merge.py`: shard results into
  one Allure results folder for `harness report`.
"""
