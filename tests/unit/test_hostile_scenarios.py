"""Hostile scenario files: every input ends in a scenario or a file:line ScenarioError, quickly.

Two halves: the corpus of inputs that once crashed the loader (tests/unit/data/hostile_scenarios/,
one file each, kept as regression cases), and a bounded hypothesis fuzz test that throws thousands
of generated inputs at it (mutations of the shipped catalogue, generated step lists full of hostile
values, raw text) and accepts nothing but those two outcomes.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import ScenarioError
from harness.scenario.loader import MAX_MATRIX_ROWS, load_file, load_text
from harness.scenario.yamlsource import LIMITS

CORPUS = Path(__file__).parent / "data" / "hostile_scenarios"
CATALOGUE = sorted((Path(__file__).parents[2] / "scenarios").rglob("*.yaml"))
WHERE = re.compile(r"^[^:]+\.yaml(:\d+)?: ")

# what the message must name for the inputs where the reason matters most
EXPECTED = {
    "not-utf8.yaml": ":1: not UTF-8",
    "int-4300-digits.yaml": f"the limit is {LIMITS.max_int_digits}",
    "deep-nesting.yaml": "depth limit",
    "alias-bomb.yaml": "expansion limit",
    "recursive-alias.yaml": "recursive alias",
    "matrix-bomb.yaml": f"100 x 100 x 100 = 1000000 rows; the matrix limit is {MAX_MATRIX_ROWS}",
    "matrix-rows-bomb.yaml": f"the matrix limit is {MAX_MATRIX_ROWS}",
    "wait-inf.yaml": ":4: steps[1].wait:",
    "lone-surrogate-name.yaml": "lone surrogate",
    "python-object.yaml": "python/object",
    "unhashable-key.yaml": ":3: invalid YAML: a key must be a plain value",
    "wait-empty-mapping.yaml": ":3: steps[0].wait: not a duration",
}


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml"))


def test_the_corpus_is_there() -> None:
    assert len(corpus_files()) >= 25
    assert set(EXPECTED) <= {p.name for p in corpus_files()}


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_each_crasher_is_a_file_line_error(path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:"), message
    assert info.value.line is not None, f"no line in {message!r}"
    assert message.isprintable() and message.encode("utf-8"), "the message itself must be printable text"
    assert path.name not in EXPECTED or EXPECTED[path.name] in message, message
    assert time.perf_counter() - started < 2.0


def test_a_file_over_the_size_limit_names_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("scenario: x\nsteps: [reset]\ndescription: " + "x" * LIMITS.max_chars + "\n")
    with pytest.raises(ScenarioError, match=f"size limit is {LIMITS.max_chars}"):
        load_file(big)


def test_a_shipped_scenario_still_loads_under_the_limits() -> None:
    assert all(load_file(path) for path in CATALOGUE)


# --- fuzzing ------------------------------------------------------------------------------------

def outcome_of(text: str) -> str:
    """Load `text`; the only acceptable outcomes are scenarios or a located ScenarioError."""
    try:
        scenarios = load_text(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert WHERE.match(str(exc)), str(exc)
        str(exc).encode("utf-8")  # printable in a terminal, a JSON summary, an Allure result
        return "error"
    for scenario in scenarios:  # what the plugin and the CLI do with a loaded scenario
        scenario.id.encode("utf-8")
        scenario.name.encode("utf-8")
        scenario.model_dump_json()
    return "loaded"


HOSTILE_SCALARS = [  # hypothesis favours the first entries: the ones that get past the YAML layer come first
    "Havana", "30s", "CU", "-1", "{}", "[]", "~", ".inf", ".nan", "!!int abc", "9" * 60, "9" * 25, ".inf", "-.inf", ".nan", "1e400", "1.0e+400", '"\\ud800"', "{}", "[]", "~",
    "!!binary aGk=", "!!set {a, b}", "!!timestamp 2020-99-99", "!!float x", "!!str 5", "!!bool yes", "*missing",
    "!!python/object:os.system x", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "\"\\x00\"", "'; reboot; '", "${x}", "${", "0x7fffffffffffffff", "-1", "-0.0", "1.5", "true", "NO", "01",
    "{a: 1, a: 2}", "{[a]: b}", "Havana", "CU", "Cubacel", "es-ES", "30s", "2d", "99999999999999d", "1h-5m",
    "(a|a)*$", "^(\\w+\\s?)*$", "(a)\\1", "[", "Europe/Nowhere", "../../etc/passwd", "\"\\u202e\"",
]
# one valid step each, so a hostile value in a later step is reached
GOOD_STEPS = ["reset", "sim: CU", "location: Havana", "network: roaming", "activate", "wait: 2s",
              "expect: locked", "locale: es-ES", "timezone: Europe/Madrid", "wifi: HomeNet", "ip: CU"]
# step templates with a hole for a hostile value
HOLES = ["wait: {}", "expect: {{state: locked, timeout: {}}}", "expect: {{state: unlocked, settle: {}}}",
         "expect: {{state: locked, text: {}}}", "expect: {}", "sim: {}", "sim: {{mcc: {}, mnc: '01'}}",
         "sim: [{{slot: {}, country: CU}}]", "network: {{registration: {}}}", "location: {{lat: {}, lon: 0}}",
         "location: {}", "travel: {{to: {}}}", "travel: {{sim: {}, network: {}}}", "activate: {{online: {}}}",
         "activate: {{language: {}}}", "screenshot: {}", "timezone: {}", "locale: {}", "ip: {}",
         "wifi: {{on: {}, ssid: {}}}", "data: {}", "airplane: {}", "{}", "{}: {}"]

scalars = st.one_of(st.sampled_from(HOSTILE_SCALARS), st.integers(-10**40, 10**40).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.text(max_size=12).map(lambda t: '"' + t.encode("unicode_escape").decode()
                                             .replace('"', '\\"') + '"'))


def flow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    keys = st.sampled_from(["state", "timeout", "lat", "lon", "mcc", "mnc", "country", "slot", "to", "a", "1"])
    return st.one_of(st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
                     st.lists(st.tuples(keys, children), max_size=3).map(
                         lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"))


values = st.recursive(scalars, flow, max_leaves=6)


@st.composite
def hostile_step(draw: st.DrawFn) -> str:
    hole = draw(st.sampled_from(HOLES))
    return hole.format(*(draw(values) for _ in range(hole.count("{}"))))


@st.composite
def generated_documents(draw: st.DrawFn) -> str:
    """A mostly valid scenario with hostile values in one or two places."""
    lines = [f"scenario: {draw(st.one_of(st.just('fuzz ${p}'), st.just('fuzz'), scalars))}"]
    if draw(st.booleans()):
        lines.append(f"matrix: {{p: [{draw(st.one_of(st.just('Havana'), values))}, Madrid]}}")
    for key in ("id", "tags", "device", "description"):
        if draw(st.integers(0, 5)) == 0:
            lines.append(f"{key}: {draw(values)}")
    steps = draw(st.lists(st.sampled_from(GOOD_STEPS), max_size=4))
    steps.insert(draw(st.integers(0, len(steps))), draw(hostile_step()))
    lines += ["steps:", *(f"  - {step}" for step in steps)]
    return "\n".join(lines) + "\n"


@st.composite
def mutated_catalogue(draw: st.DrawFn) -> str:
    text = CATALOGUE[draw(st.integers(0, len(CATALOGUE) - 1))].read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        match draw(st.integers(0, 3)):
            case 0:
                text = text[:at] + text[at + draw(st.integers(1, 20)):]  # delete
            case 1:
                text = text[:at] + draw(st.sampled_from(HOSTILE_SCALARS)) + text[at:]  # insert a hostile value
            case 2:
                text = text[:at] + draw(st.sampled_from([": ", "- ", "\n  ", "\t", "&a ", "*a", "!!", "{", "["])) \
                    + text[at:]  # insert YAML syntax
            case _:
                line = draw(st.integers(0, text.count("\n")))
                rows = text.split("\n")
                text = "\n".join(rows[:line] + rows[line:line + 1] * 2 + rows[line + 1:])  # duplicate a line
    return text


FUZZ = settings(max_examples=1000, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(generated_documents())
def test_fuzz_generated_documents(text: str) -> None:
    outcome_of(text)


@FUZZ
@given(mutated_catalogue())
def test_fuzz_mutated_catalogue(text: str) -> None:
    outcome_of(text)


@settings(FUZZ, max_examples=1500)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!,'\"\\ \n\t#|>?%@`\u00e9\ud800\x00")), max_size=80))
def test_fuzz_raw_text(text: str) -> None:
    outcome_of(text)
