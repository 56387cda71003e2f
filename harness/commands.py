"""`harness coverage` and `harness repro` (issue 10), registered on the CLI's app by `register`.

Kept out of cli.py so the command-line plumbing and these commands can change independently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.errors import ScenarioError


def coverage(
    paths: Annotated[list[str] | None, typer.Argument(help="scenario files or folders")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="also write an HTML page here")] = None,
) -> None:
    """Which territories x deciding signals x flows the scenarios check, and which cells are empty."""
    from harness.coverage import html_page, picture, text
    from harness.scenario.loader import load_paths

    try:
        pic = picture(load_paths([Path(p) for p in paths or ["scenarios"]]))
    except ScenarioError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(text(pic))
    if output is not None:
        output.write_text(html_page(pic), encoding="utf-8")
        typer.echo(f"wrote {output}")


def repro(
    report: Annotated[str, typer.Argument(help="a report file (free text or a YAML ticket), or - for stdin")] = "-",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write the scenario here")] = None,
    run: Annotated[bool, typer.Option("--run", help="run it on a virtual device and say if it reproduces")] = False,
    policy: Annotated[str | None, typer.Option(help="with --run: firmware builds to try, comma-separated")] = None,
) -> None:
    """Turn a user's report into a scenario (each step quoting the report); optionally run it."""
    import sys

    from harness.repro.reading import UnreadableReport, read
    from harness.repro.writing import write

    text = sys.stdin.read() if report == "-" else Path(report).read_text(encoding="utf-8")
    try:
        written = write(read(text))
    except UnreadableReport as exc:
        typer.echo(f"cannot read this report: {exc}", err=True)
        raise typer.Exit(2) from exc
    for line in [*(f"assumption: {a}" for a in written.assumptions), *(f"GAP: {g}" for g in written.gaps)]:
        typer.echo(line, err=True)
    if output is not None:
        output.write_text(written.yaml, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    elif not run:
        typer.echo(written.yaml, nl=False)
    if run:
        from harness.repro.running import run_repro

        code = 0
        for build in (policy.split(",") if policy else [None]):
            line, reproduced = run_repro(written, build)
            typer.echo(line)
            code = code or (0 if reproduced is not False else 1)
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(coverage)
    app.command()(repro)
