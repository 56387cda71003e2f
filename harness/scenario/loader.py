"""Scenario files -> `Scenario` models.

A file holds one scenario (a mapping) or several (YAML documents separated by ``---``). Top-level
keys: ``scenario`` (the name, required), ``steps`` (required), ``id``, ``description``, ``tags``,
``device``, ``matrix``. A ``matrix`` expands one document into one Scenario per row: a mapping of
lists is a cartesian product, a list of mappings gives explicit rows; ``${name}`` in any string of
the document is replaced by the row's value before the steps are parsed, so a substituted place or
country is checked like a literal one. Every problem is a ScenarioError at ``file:line``.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from harness import generate
from harness.capabilities import check_capabilities
from harness.errors import ScenarioError
from harness.scenario import model as m
from harness.scenario.surface import Ctx, as_str, parse_duration, parse_step
from harness.scenario.yamlsource import (
    LIMITS,
    LineDict,
    LineList,
    TooLarge,
    load_documents,
    value_count,
    yaml_error_line,
    yaml_error_message,
)

__all__ = ["load_file", "load_paths", "load_text", "parse_duration", "scenario_files"]

TOP_KEYS = ("scenario", "id", "description", "tags", "device", "matrix", "steps", "generate")
DEVICE_KEYS = tuple(m.DeviceHints.model_fields)
# A firmware build's name (what the device or backend says it has is checked at run time), or a path.
FIRMWARE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$|\.ya?ml$")
MAX_MATRIX_ROWS = 500  # scenarios one matrix may expand to
MAX_SCENARIOS_PER_FILE = 2000
MAX_EXPANDED_VALUES = 500_000  # matrix rows x values of the document they copy
_TAG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_VAR = re.compile(r"\$\{([^}]*)\}")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def load_file(path: Path) -> list[m.Scenario]:
    """Every scenario in one file (matrix rows expanded), in file order."""
    try:
        with open(path, "rb") as src:
            data = src.read(LIMITS.max_chars * 4 + 1)  # UTF-8: at most 4 bytes a character
    except OSError as exc:
        raise ScenarioError(str(path), None, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ScenarioError(str(path), line, None, f"not UTF-8 text: byte {data[exc.start]:#04x} at offset "
                            f"{exc.start} ({exc.reason})", "save the file as UTF-8") from None
    return load_text(text, str(path), stem=Path(path).stem)


def load_paths(paths: Iterable[Path]) -> list[m.Scenario]:
    """Scenarios from files and folders (folders searched for *.yaml/*.yml); ids must be unique."""
    scenarios: list[m.Scenario] = []
    seen: dict[str, m.SourceRef] = {}
    for file in scenario_files(paths):
        for sc in load_file(file):
            if sc.id in seen:
                raise ScenarioError(sc.source.file, sc.source.line, "id",
                                    f"duplicate scenario id {sc.id!r}, also at {seen[sc.id]}")
            seen[sc.id] = sc.source
            scenarios.append(sc)
    return scenarios


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their scenario files, sorted; `policies/` folders hold no scenarios."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            files.extend(p for p in found if "policies" not in p.relative_to(path).parts)
        else:
            files.append(path)
    return files


def load_text(text: str, file: str = "<string>", stem: str = "scenario") -> list[m.Scenario]:
    try:
        docs = load_documents(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(file, yaml_error_line(exc, text), None, yaml_error_message(exc)) from None
    except TooLarge as exc:
        raise ScenarioError(file, None, None, f"file too large: {exc}") from None
    if not docs:
        raise ScenarioError(file, 1, None, "no scenario in this file",
                            "start with `scenario: <name>` and `steps:`")
    scenarios: list[m.Scenario] = []
    for index, doc in enumerate(docs, start=1):
        default_id = stem if len(docs) == 1 else f"{stem}-{index}"
        scenarios.extend(_load_document(doc, file, default_id))
        if len(scenarios) > MAX_SCENARIOS_PER_FILE:
            raise ScenarioError(file, getattr(doc, "line", None), None,
                                f"more than {MAX_SCENARIOS_PER_FILE} scenarios in one file (the scenario limit)")
    _check_unique(scenarios, file)
    return scenarios


def _check_unique(scenarios: list[m.Scenario], file: str) -> None:
    seen: set[str] = set()
    for sc in scenarios:
        if sc.id in seen:
            raise ScenarioError(file, sc.source.line, "id", f"duplicate scenario id {sc.id!r} in this file")
        seen.add(sc.id)


# --------------------------------------------------------------------------------------------
# One document
# --------------------------------------------------------------------------------------------

def _load_document(doc: Any, file: str, default_id: str) -> list[m.Scenario]:
    ctx = Ctx(file, getattr(doc, "line", 1) or 1, "scenario")
    if not isinstance(doc, LineDict):
        ctx.fail("a scenario is a mapping with `scenario:` and `steps:`", line=ctx.line)
    _check_top_keys(doc, file)
    base_id = _scenario_id(doc, file, default_id)
    if "generate" in doc:  # rows and steps come from harness.generate, each expectation from the oracle
        return generate.expand(doc, file, lambda body, row: _build(
            _substitute(body, row, file), file, base_id + _suffix(row), row))
    rows = _matrix_rows(doc, file)
    if len(rows) * value_count(doc) > MAX_EXPANDED_VALUES:
        raise ScenarioError(file, doc.line_of("matrix"), "matrix",
                            f"{len(rows)} rows of a {value_count(doc)}-value document expand past "
                            f"{MAX_EXPANDED_VALUES} values (the expansion limit)")
    out = []
    for row in rows:
        body = _substitute(doc, row, file) if row else doc
        out.append(_build(body, file, base_id + _suffix(row), {k: _param(v) for k, v in row.items()}))
    return out


def _suffix(row: dict[str, Any]) -> str:
    return "[" + ",".join(f"{k}={_param(v)}" for k, v in row.items()) + "]" if row else ""


def _check_top_keys(doc: LineDict, file: str) -> None:
    for key in doc:
        if key not in TOP_KEYS:
            raise ScenarioError(file, doc.line_of(key), str(key), f"unknown key; valid keys: {', '.join(TOP_KEYS)}",
                                difflib.get_close_matches(str(key), TOP_KEYS, n=2))
    for key in ("scenario",) if "generate" in doc else ("scenario", "steps"):
        if key not in doc:
            raise ScenarioError(file, doc.line, key, f"missing `{key}:`",
                                "every scenario needs `scenario: <name>` and `steps:`")


def _scenario_id(doc: LineDict, file: str, default: str) -> str:
    if "id" not in doc:
        return default
    value = as_str(doc["id"], Ctx(file, doc.line_of("id"), "id"), "an id")
    if not _ID.match(value):
        raise ScenarioError(file, doc.line_of("id"), "id", f"ids use letters, digits, . _ - only, got {value!r}")
    return value


def _build(doc: LineDict, file: str, sc_id: str, params: dict[str, str]) -> m.Scenario:
    name = as_str(doc["scenario"], Ctx(file, doc.line_of("scenario"), "scenario"), "a scenario name")
    device = _device(doc.get("device"), Ctx(file, doc.line_of("device"), "device"))
    steps = _steps(doc["steps"], Ctx(file, doc.line_of("steps"), "steps", device.slots))
    description = doc.get("description")
    if description is not None:
        description = as_str(description, Ctx(file, doc.line_of("description"), "description"))
    return m.Scenario(
        id=sc_id, name=name, tags=_tags(doc.get("tags"), Ctx(file, doc.line_of("tags"), "tags")),
        device=device, steps=steps, source=m.SourceRef(file=file, line=doc.line_of("scenario")),
        params=params, description=description,
    )


def _tags(value: Any, ctx: Ctx) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        ctx.fail("expected a list of tags, e.g. [smoke, cuba]")
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or not _TAG.match(tag):
            ctx.fail(f"tags are lower-case words with dashes (e.g. first-activation), got {tag!r}")
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _device(value: Any, ctx: Ctx) -> m.DeviceHints:
    if value is None:
        return m.DeviceHints()
    if not isinstance(value, LineDict):
        ctx.fail(f"expected a mapping with keys {', '.join(DEVICE_KEYS)}")
    fields: dict[str, Any] = {}
    for key, raw in value.items():
        sub = ctx.key(value, str(key))
        if key not in DEVICE_KEYS:
            sub.fail(f"unknown key; valid keys: {', '.join(DEVICE_KEYS)}",
                     difflib.get_close_matches(str(key), DEVICE_KEYS, n=2))
        fields[key] = _device_field(key, raw, sub)
    return ctx.build(m.DeviceHints, **fields)


def _device_field(key: str, raw: Any, ctx: Ctx) -> Any:
    if key == "slots":
        if raw not in (1, 2) or isinstance(raw, bool):
            ctx.fail(f"slots must be 1 or 2, got {raw!r}")
        return raw
    if key == "capabilities":
        items = raw if isinstance(raw, list) else [raw]
        names = [as_str(c, ctx, "a capability name") for c in items]
        try:
            return tuple(check_capabilities(names))
        except ValueError as exc:
            ctx.fail(str(exc))
    text = as_str(raw, ctx, f"a {key} name")
    if key == "firmware" and not FIRMWARE_NAME.search(text):
        ctx.fail(f"a firmware is a build name (letters, digits, . _ -) or a .yaml path, got {text!r}")
    return text


def _steps(value: Any, ctx: Ctx) -> tuple[m.Step, ...]:
    if not isinstance(value, LineList) or not value:
        ctx.fail("expected a non-empty list of steps, e.g. `- reset`, `- sim: CU`, `- activate`")
    return tuple(
        parse_step(raw, Ctx(ctx.file, value.line_of(i), f"steps[{i}]", ctx.slots))
        for i, raw in enumerate(value)
    )


# --------------------------------------------------------------------------------------------
# Matrix
# --------------------------------------------------------------------------------------------

def _matrix_rows(doc: LineDict, file: str) -> list[dict[str, Any]]:
    """[] rows -> [{}] (one scenario without params)."""
    raw = doc.get("matrix")
    line = doc.line_of("matrix")
    if raw is None:
        return [{}]
    if isinstance(raw, LineDict):
        return _product_rows(raw, file)
    if isinstance(raw, LineList):
        return _explicit_rows(raw, file)
    raise ScenarioError(file, line, "matrix", "expected a mapping of lists ({place: [Havana, Tehran]}) "
                        "or a list of rows ([{place: Havana, sim: CU}, ...])")


def _product_rows(raw: LineDict, file: str) -> list[dict[str, Any]]:
    for key, values in raw.items():
        _check_var_name(key, file, raw.line_of(key))
        if not isinstance(values, list) or not values:
            raise ScenarioError(file, raw.line_of(key), f"matrix.{key}", "expected a non-empty list of values")
    keys = list(raw)
    count = math.prod(len(raw[k]) for k in keys)
    if count > MAX_MATRIX_ROWS:
        raise ScenarioError(file, raw.line, "matrix", f"{' x '.join(str(len(raw[k])) for k in keys)} = {count} "
                            f"rows; the matrix limit is {MAX_MATRIX_ROWS} rows")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(raw[k] for k in keys))]


def _explicit_rows(raw: LineList, file: str) -> list[dict[str, Any]]:
    if len(raw) > MAX_MATRIX_ROWS:
        raise ScenarioError(file, raw.line, "matrix", f"{len(raw)} rows; the matrix limit is {MAX_MATRIX_ROWS} rows")
    rows: list[dict[str, Any]] = []
    for i, row in enumerate(raw):
        line = raw.line_of(i)
        if not isinstance(row, dict) or not row:
            raise ScenarioError(file, line, f"matrix[{i}]", "expected a mapping of variable: value")
        if rows and set(row) != set(rows[0]):
            raise ScenarioError(file, line, f"matrix[{i}]",
                                f"every row needs the same variables ({', '.join(rows[0])})")
        for key in row:
            _check_var_name(key, file, line)
        rows.append(dict(row))
    if not rows:
        raise ScenarioError(file, raw.line, "matrix", "expected at least one row")
    return rows


def _check_var_name(key: Any, file: str, line: int) -> None:
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise ScenarioError(file, line, "matrix", f"variable names are identifiers, got {key!r}")


def _param(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}:{_param(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "+".join(_param(v) for v in value)
    return str(value)


def _substitute(node: Any, row: dict[str, Any], file: str, line: int = 0) -> Any:
    """A copy of `node` with ${var} replaced, keeping line numbers (the matrix itself is left out)."""
    if isinstance(node, LineDict):
        out = LineDict()
        out.line, out.key_lines = node.line, dict(node.key_lines)
        for key, value in node.items():
            if key != "matrix":
                out[key] = _substitute(value, row, file, node.line_of(key))
        return out
    if isinstance(node, LineList):
        out_list = LineList(_substitute(v, row, file, node.line_of(i)) for i, v in enumerate(node))
        out_list.line, out_list.item_lines = node.line, list(node.item_lines)
        return out_list
    if isinstance(node, str) and "${" in node:
        return _substitute_text(node, row, file, line)
    return node


def _substitute_text(text: str, row: dict[str, Any], file: str, line: int) -> Any:
    whole = _VAR.fullmatch(text.strip())
    if whole and whole.group(1) in row:
        return row[whole.group(1)]  # keeps a structured value (a {lat, lon} mapping, a SIM list)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in row:
            raise ScenarioError(file, line, f"${{{name}}}", f"unknown matrix variable; defined: {', '.join(row)}",
                                difflib.get_close_matches(name, list(row), n=2))
        return _param(row[name])

    return _VAR.sub(replace, text)
