"""Test-wide configuration: tests under tests/integration and tests/e2e get their marker.

So `-m "not integration"` runs only the fast unit tests. Nothing heavy is imported here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_MARKED_FOLDERS = {"integration": "integration", "e2e": "e2e"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_root = Path(__file__).parent
    for item in items:
        try:
            folder = Path(str(item.path)).relative_to(tests_root).parts[0]
        except ValueError:
            continue
        marker = _MARKED_FOLDERS.get(folder)
        if marker is not None:
            item.add_marker(getattr(pytest.mark, marker))
