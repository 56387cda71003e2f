#!/usr/bin/env python3
"""Open a generated Allure report in a real headless browser and print what a QA lead sees.

    scripts/check_report.py allure-report            # prints Categories, Behaviors, failing territories
    scripts/check_report.py allure-report --json     # the same as JSON (tests read it)

Uses Debian's Chromium (`/usr/bin/chromium`, or $CHROMIUM) through Playwright (a maintained driver;
its own browser download is not needed, nor possible on a closed network). The report is served
over HTTP on a free port, because Allure's page loads its data with XHR, which file:// refuses.
Groups are clicked open as a user would, so what is printed is what the page shows.
Exit status: 0 when the pages rendered, 1 when they did not.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PAGES = ("categories", "behaviors")
FAILING = ("failed", "broken")


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def read_tree(page: Any) -> list[dict[str, Any]]:
    """Top-level groups with their children, after clicking each group open (the tree re-renders on
    every click, so the next closed one is looked up afresh each time)."""
    closed = ".tree .tree__content > .node[data-node-kind=group]:not(.node__expanded) > .node__title"
    for _ in range(200):
        title = page.query_selector(closed)
        if title is None:
            break
        title.click()
        page.wait_for_timeout(50)
    return page.evaluate("""() => {
        const stats = n => Object.fromEntries([...n.querySelectorAll(':scope > .node__title .node__stats .label')]
            .map(l => [[...l.classList].find(c => c.startsWith('label_status_')).slice(13), +l.textContent]));
        const name = n => n.querySelector(':scope > .node__title .node__name')?.textContent.trim();
        const kids = n => [...n.querySelectorAll(':scope > .node__children > .node')];
        const top = [...document.querySelectorAll('.tree .node')].filter(n => !n.parentElement.closest('.node'));
        return top.map(n => ({name: name(n), stats: stats(n),
                              children: kids(n).map(k => ({name: name(k), stats: stats(k)}))}));
    }""")


def look(report: Path, browser_path: str) -> dict[str, list[dict[str, Any]]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[dict[str, Any]]] = {}
    with serve(report) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            for name in PAGES:
                page.goto(f"{url}#{name}")
                page.wait_for_selector(".tree .node", timeout=30_000)
                found[name] = read_tree(page)
        finally:
            browser.close()
    return found


def failing_territories(found: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Behaviors' features (= territories) with failed or broken scenarios, and the places that
    start the failure messages on Categories."""
    names = {g["name"] for g in found.get("behaviors", []) if any(g["stats"].get(s) for s in FAILING)}
    for group in found.get("categories", []):
        for child in group["children"]:
            if any(child["stats"].get(s) for s in FAILING) and ": " in (child["name"] or ""):
                names.add(child["name"].split(": ", 1)[0])
    return sorted(n for n in names if n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the folder `harness report` wrote")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    browser = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    try:
        found = look(args.report, browser)
    except Exception as exc:  # noqa: BLE001 -- a script's last word: say what failed
        print(f"the report did not render in {browser}: {exc}", file=sys.stderr)
        return 1
    territories = failing_territories(found)
    if args.json:
        print(json.dumps({**found, "failing_territories": territories}, indent=1))
        return 0
    for name in PAGES:
        print(f"{name}:")
        for group in found[name]:
            print(f"  {group['name']}  {group['stats']}")
            for child in group["children"]:
                print(f"    {child['name']}  {child['stats']}")
    print("failing territories: " + (", ".join(territories) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
