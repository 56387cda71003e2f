"""`harness coverage` (and further issue-10 commands), registered on the CLI's app by `register`.

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


def register(app: typer.Typer) -> None:
    app.command()(coverage)
