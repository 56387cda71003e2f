"""Regular expressions written by users (scenario `text:`, profile texts and selectors), run safely.

Python's `re` backtracks: a pattern such as ``^(\\w+\\s?)*$`` against a 40-character line runs for
minutes at 100 % CPU, and nothing can interrupt it from another thread. User patterns are therefore
compiled with RE2 (google-re2, the bindings Google maintains): its automaton matches in time linear
in the text, whatever the pattern, so there is no timeout to tune and no thread to kill. The price
is RE2's syntax: no backreferences and no lookaround, which a notice text does not need; such a
pattern is refused when the scenario or profile is loaded, with RE2's reason.

(The `regex` module's ``timeout=`` was the alternative: same syntax as `re`, but a pathological
pattern still burns the CPU up to the timeout on every poll, and the timeout has to be chosen.)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its complaint on stderr too; we raise it instead
_OPTIONS.max_mem = 8 << 20  # a pattern whose automaton needs more is refused, not built


class Pattern(Protocol):
    """What the harness uses of a compiled pattern (RE2's match objects have `re`'s shape)."""

    def search(self, text: str) -> Any: ...

    def fullmatch(self, text: str) -> Any: ...


class UnsafeRegex(ValueError):
    """A user pattern RE2 refuses (syntax it does not support, or too large)."""


@lru_cache(maxsize=512)
def user_regex(pattern: str) -> Pattern:
    """`pattern` compiled for linear-time matching; UnsafeRegex with the reason when refused."""
    try:
        compiled: Pattern = re2.compile(pattern, _OPTIONS)
        return compiled
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        if "escape" in reason or "perl operator" in reason:
            reason += " (patterns are RE2 syntax: no backreferences or lookaround)"
        raise UnsafeRegex(reason) from None
    except (TypeError, UnicodeError) as exc:
        raise UnsafeRegex(str(exc)) from None


def check_regex(pattern: str) -> str:
    """Validate `pattern` (for schema validators); returns it unchanged."""
    user_regex(pattern)
    return pattern
