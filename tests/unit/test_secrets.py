"""No secret in any output: a console that drops during `auth`, and every output path of a run.

The console here is a real socket server that reads the `auth <token>` line and hangs up (what an
emulator dying, or a proxy cutting the link, does at that moment); the run-level test drives a
pytest run with allure-pytest and the summary file through the plugin, with the failure raised by
that console and the token also reaching an attachment, and greps every file the run wrote.
"""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.console import ConsoleClient
from harness.errors import ConsoleError
from harness.evidence import Evidence
from harness.redact import REDACTED, redact, register_secret

TOKEN = "Zm9vYmFyYmF6cXV4"


class DropsDuringAuth:
    """Banner asking for auth; reads the auth line, then closes the connection without a reply."""

    def __init__(self, reply_ko: bool = False) -> None:
        self.reply_ko = reply_ko
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"Android Console: Authentication required\r\n"
                             b"Android Console: type 'auth <auth_token>' to authenticate\r\nOK\r\n")
                line = conn.makefile("rb").readline().decode().strip()
                self.received.append(line)
                if self.reply_ko:  # a console that echoes what it got into its complaint
                    conn.sendall(f"KO: bad token '{line}'\r\n".encode())

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / ".emulator_console_auth_token"
    path.write_text(TOKEN)
    return path


@pytest.fixture(params=[False, True], ids=["drops", "echoes-then-drops"])
def console(request: pytest.FixtureRequest) -> Iterator[DropsDuringAuth]:
    fake = DropsDuringAuth(reply_ko=request.param)
    yield fake
    fake.close()


def test_a_console_dropping_during_auth_leaks_no_token(console: DropsDuringAuth, token_file: Path) -> None:
    with pytest.raises(ConsoleError) as info:
        ConsoleClient(console.port, token_file, timeout=2).connect()
    assert console.received == [f"auth {TOKEN}"], "the token was sent (the fault is after it)"
    shown = [str(info.value), repr(info.value), info.value.command, info.value.reply,
             "".join(traceback.format_exception(info.value))]
    assert not any(TOKEN in text for text in shown), shown
    assert "auth <token>" in str(info.value)


def test_evidence_redacts_registered_secrets_in_steps_and_attachments() -> None:
    register_secret(TOKEN)
    evidence = Evidence(use_allure=False)
    with pytest.raises(ConsoleError), evidence.step(f"console: auth {TOKEN}", {"token": TOKEN}):
        raise ConsoleError(f"auth {TOKEN}", f"KO: {TOKEN}")
    evidence.attach_text("device log", f"I/Console: auth {TOKEN} accepted")
    evidence.attach_json("read-back", {"token": TOKEN})
    step = evidence.steps[0]
    assert TOKEN not in step.title + str(step.params) + str(step.error)
    assert all(TOKEN not in str(a.body) for a in evidence.attachments)
    assert REDACTED in str(evidence.attachments[0].body)


def test_short_values_are_not_secrets() -> None:
    register_secret("1234")
    assert redact("port 1234") == "port 1234"


CONFTEST = f'''
import logging
from pathlib import Path
from harness.console import ConsoleClient
from harness.evidence import Evidence

pytest_plugins = ["harness.pytest_plugin"]

def pytest_harness_run_scenario(item, scenario, device):
    evidence = Evidence(use_allure=True)
    token_file = Path(__file__).parent / "token"
    client = ConsoleClient(int(Path(__file__).parent.joinpath("port").read_text()), token_file, timeout=2)
    with evidence.step("activate"):
        evidence.attach_text("device log", "I/Console: got auth {TOKEN}")
        logging.getLogger("harness").error("console: auth %s", "{TOKEN}")
        client.connect()
'''

FAKELAB = '''
from harness.backends.base import DeviceHandle

class FakeLab:
    name = "fake"
    def __init__(self, options): pass
    def provision(self, count): return [DeviceHandle(serial=f"fake-{i}", kind="fake") for i in range(count)]
    def teardown(self): pass
    def facts(self, handle): return {"model": "Fake"}
    def device_ops(self, handle): return None
'''


def test_a_run_whose_console_drops_during_auth_writes_no_token_anywhere(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = DropsDuringAuth()
    try:
        monkeypatch.setenv("PYTHONPATH", str(pytester.path))
        (pytester.path / "token").write_text(TOKEN)
        (pytester.path / "port").write_text(str(fake.port))
        pytester.makepyfile(conftest=CONFTEST, fakelab=FAKELAB)
        scenarios = pytester.path / "scenarios"
        scenarios.mkdir()
        (scenarios / "s.yaml").write_text("scenario: console drops\nsteps:\n  - reset\n  - activate\n")
        result = pytester.runpytest_subprocess("scenarios", "-p", "no:cacheprovider", "--backend", "fakelab:FakeLab",
                                               "--alluredir=allure", "--harness-summary=summary.jsonl",
                                               "--log-file=run.log", "-rA")
    finally:
        fake.close()
    result.assert_outcomes(errors=1)
    written = [p for p in (pytester.path / "allure").iterdir()] + [pytester.path / "summary.jsonl",
                                                                   pytester.path / "run.log"]
    assert any(p.name.endswith("-attachment.txt") for p in written), "the attachment was written"
    for path in written:
        assert TOKEN not in path.read_text(errors="replace"), path.name
    assert TOKEN not in result.stdout.str() + result.stderr.str()
