"""`harness repro --run`: the written scenario on a virtual device, per firmware build, and the answer."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from harness.cli import RunRequest, pytest_argv, read_events
from harness.repro.writing import Written

_OBSERVED = re.compile(r"expected (?:the device )?(locked|unlocked), (?:but it was|seen) (locked|unlocked)")


def run_repro(written: Written, policy: str | None) -> tuple[str, bool | None]:
    """One line for people, and True/False (reproduced or not) or None (the report claims nothing)."""
    build = policy or "global"
    work = Path(tempfile.mkdtemp(prefix="harness-repro-"))
    scenario = work / "scenarios" / "repro.yaml"
    scenario.parent.mkdir()
    scenario.write_text(written.yaml, encoding="utf-8")
    events, alluredir = work / "events.jsonl", work / "allure-results"
    req = RunRequest((str(scenario), "--backend", "virtual", "-q", *(["--policy", policy] if policy else [])),
                     alluredir)
    subprocess.run(pytest_argv(req, events), cwd=work, capture_output=True, text=True, check=False)
    _, records = read_events(events)
    if not records:
        return f"{build}: did not run (see {work}); not judged", None
    rec = records[0]
    verdict = _verdict(rec)
    if verdict is None:
        return f"{build}: not judged ({rec['outcome']}: {rec.get('message', '')}); Allure results: {alluredir}", None
    why = "; ".join(rec.get("oracle") or []) or rec.get("message", "")
    if written.claimed is None:
        return f"{build}: the device says {verdict} ({why}); Allure results: {alluredir}", None
    same = verdict == written.claimed
    word = "reproduced" if same else "not reproduced"
    return (f"{build}: {word}: the report says {written.claimed}, the device says {verdict} ({why}); "
            f"Allure results: {alluredir}"), same


def _verdict(record: dict[str, object]) -> str | None:
    """The device's final lock state: the oracle's when it passed, the observed one on a mismatch."""
    if record["outcome"] == "passed":
        last = (record.get("oracle") or [""])[-1]  # type: ignore[index]
        match = re.match(r"expected (locked|unlocked)", str(last))
        return match.group(1) if match else None
    found = _OBSERVED.search(str(record.get("message", "")))
    return found.group(2) if record["outcome"] == "failed" and found else None
