"""Evidence: the Allure glue, usable without Allure configured.

The runner reports through an `Evidence` object: one step per scenario step (with its parameters),
attachments (spoof read-backs as JSON, screenshot PNG, UI hierarchy XML, the device log) and the
device facts for the report's environment. Everything is also kept in memory, so tests (and the CLI's
own summary) can inspect what was reported without an Allure results directory; when allure-pytest
is not active, allure's hooks have no listener and the calls are cheap no-ops.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import allure
from allure_commons._allure import StepContext  # a step with parameters (allure.step has none)

from harness.errors import ProductDefect
from harness.redact import redact, redact_bytes


@dataclass(frozen=True)
class Attachment:
    name: str
    kind: str  # json | png | xml | text
    body: bytes | str


@dataclass
class StepRecord:
    title: str
    params: dict[str, str]
    status: str = "running"  # passed | failed | broken | running
    error: str | None = None


@dataclass
class Evidence:
    """Collects a scenario's evidence and forwards it to Allure when Allure is active."""

    use_allure: bool = True
    steps: list[StepRecord] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)

    @contextmanager
    def step(self, title: str, params: dict[str, Any] | None = None) -> Iterator[StepRecord]:
        """An Allure step with parameters; records pass/fail of the block."""
        shown = {key: redact(_show(value)) for key, value in (params or {}).items()}
        title = redact(title)
        record = StepRecord(title, shown)
        self.steps.append(record)
        allure_step = self._allure_step(title, shown)
        allure_step.__enter__()
        try:
            yield record
        except (AssertionError, ProductDefect) as exc:  # a wrong verdict: "failed" (red), not "broken"
            record.status, record.error = "failed", str(exc)
            # Allure colours a step by its exception's type: only AssertionError is "failed"
            allure_step.__exit__(AssertionError, AssertionError(str(exc)), exc.__traceback__)
            raise
        except BaseException as exc:
            record.status, record.error = "broken", redact(str(exc))
            allure_step.__exit__(type(exc), exc, exc.__traceback__)
            raise
        allure_step.__exit__(None, None, None)
        record.status = "passed"

    def attach_json(self, name: str, data: Any) -> None:
        body = json.dumps(data, indent=1, sort_keys=True, default=str)
        self._attach(Attachment(name, "json", body))

    def attach_png(self, name: str, data: bytes) -> None:
        self._attach(Attachment(name, "png", data))

    def attach_xml(self, name: str, text: str) -> None:
        self._attach(Attachment(name, "xml", text))

    def attach_text(self, name: str, text: str) -> None:
        self._attach(Attachment(name, "text", text))

    def set_environment(self, facts: dict[str, str]) -> None:
        """Device and firmware facts: environment.properties (via the plugin) and one JSON attachment,
        not parameters (rows of device facts would bury the scenario's own parameters)."""
        self.environment.update(facts)
        self.attach_json("device facts", facts)

    def named(self, kind: str) -> list[Attachment]:
        return [a for a in self.attachments if a.kind == kind]

    # --- allure ---------------------------------------------------------------------------------
    def _allure_on(self) -> bool:
        return self.use_allure

    def _allure_step(self, title: str, params: dict[str, str]) -> AbstractContextManager[Any]:
        if not self._allure_on():
            return nullcontext()
        return StepContext(title, params)

    def _attach(self, attachment: Attachment) -> None:
        # a device log or a reply may carry a credential the harness handed the device
        body = attachment.body if attachment.kind == "png" else \
            redact_bytes(attachment.body) if isinstance(attachment.body, bytes) else redact(attachment.body)
        attachment = Attachment(redact(attachment.name), attachment.kind, body)
        self.attachments.append(attachment)
        if not self._allure_on():
            return
        types = {"json": allure.attachment_type.JSON, "png": allure.attachment_type.PNG,
                 "xml": allure.attachment_type.XML, "text": allure.attachment_type.TEXT}
        allure.attach(attachment.body, name=attachment.name, attachment_type=types[attachment.kind])


AllureEvidence = Evidence  # the plugin looks this name up first


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str, sort_keys=True)
    except TypeError:
        return repr(value)
