"""toybox's option parsing, which the framework tools share (the applets themselves are toybox's own)."""

from __future__ import annotations


def split_flags(args: list[str], with_value: str = "", *, digit_flags: bool = False
                ) -> tuple[set[str], dict[str, str], list[str]]:
    """Toybox-style option parsing: combined short flags (`-rf`), `-n 5`/`-n5`, `--` ends options.

    `-5` is an argument (a negative number) unless `digit_flags` (pm's `-3`)."""
    flags: set[str] = set()
    values: dict[str, str] = {}
    rest: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "--":
            rest.extend(it)
            break
        if len(arg) > 1 and arg[0] == "-" and (digit_flags or not arg[1:].isdigit()):
            for i, flag in enumerate(arg[1:]):
                if flag in with_value:
                    values[flag] = arg[i + 2:] or next(it, "")
                    break
                flags.add(flag)
        else:
            rest.append(arg)
    return flags, values, rest
