"""Secrets never reach an output: console tokens (and any credential the harness reads) are redacted.

Whoever reads a secret registers it here (`console.read_token` does); every output path of the
harness — error messages (`ConsoleError`), Allure steps and attachments (`Evidence`), the run's
summary events — passes its text through `redact`, which replaces each registered value. Registering
at the source beats guessing secrets by shape: a token that reaches a device log, a reply or a
traceback message is still caught, and nothing that merely looks like one is mangled.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

REDACTED = "<redacted>"
_MIN_LENGTH = 6  # shorter values would redact ordinary words and numbers
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    if value and len(value.strip()) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(value.strip())


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `<redacted>`."""
    for secret in sorted(_secrets, key=len, reverse=True):  # longest first: one may contain another
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_bytes(data: bytes) -> bytes:
    for secret in sorted(_secrets, key=len, reverse=True):
        raw = secret.encode()
        if raw in data:
            data = data.replace(raw, REDACTED.encode())
    return data


_installed = False


def install_log_redaction() -> None:
    """Redact every log record of this process as it is made, whoever logs it (the harness,
    adbutils, uiautomator2) and wherever it goes (pytest's log file and capture, Allure's logs)."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def redacting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if _secrets:
            record.msg, record.args = redact(record.getMessage()), None
        return record

    logging.setLogRecordFactory(redacting)
