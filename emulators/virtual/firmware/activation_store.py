"""The activation server's durable memory: one SQLite row per IMEI.

A row means "this IMEI has been activated"; `verdict` is set only when the policy keeps the
verdict on the server (`persist: server`). That split is what makes the `defect-reset-clears` and
`defect-lock-forgotten` variants observable: the server still knows the device was activated, but
not that it was locked.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    imei TEXT PRIMARY KEY,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    verdict TEXT,
    territory TEXT NOT NULL DEFAULT '',
    signal TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    policy TEXT NOT NULL DEFAULT ''
)
"""


@dataclass(frozen=True)
class DeviceRecord:
    imei: str
    first_seen: float
    last_seen: float
    verdict: str | None
    territory: str
    signal: str
    reason: str
    policy: str


class ActivationStore:
    """Thread-safe SQLite store keyed by IMEI (one connection, serialised by a lock)."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL" if str(path) != ":memory:" else "SELECT 1")
            self._db.execute(SCHEMA)

    def lookup(self, imeis: list[str]) -> DeviceRecord | None:
        """The record of the first of these IMEIs the server knows (a lock on any slot counts)."""
        with self._lock:
            for imei in imeis:
                row = self._db.execute("SELECT * FROM devices WHERE imei = ?", (imei,)).fetchone()
                if row is not None:
                    return DeviceRecord(*row)
        return None

    def record(self, imeis: list[str], verdict: str | None, territory: str, signal: str,
               reason: str, policy: str) -> None:
        now = time.time()
        with self._lock:
            for imei in imeis:
                self._db.execute(
                    "INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(imei) DO UPDATE SET "
                    "last_seen = excluded.last_seen, verdict = excluded.verdict, "
                    "territory = excluded.territory, signal = excluded.signal, "
                    "reason = excluded.reason, policy = excluded.policy",
                    (imei, now, now, verdict, territory, signal, reason, policy))

    def touch(self, imeis: list[str]) -> None:
        with self._lock:
            for imei in imeis:
                self._db.execute("UPDATE devices SET last_seen = ? WHERE imei = ?", (time.time(), imei))

    def all(self) -> list[DeviceRecord]:
        with self._lock:
            return [DeviceRecord(*row) for row in self._db.execute("SELECT * FROM devices ORDER BY imei")]

    def close(self) -> None:
        with self._lock:
            self._db.close()
