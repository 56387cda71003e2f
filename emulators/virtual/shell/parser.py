"""Sans-IO parsing of the sh subset that adb clients send (mksh, as on Android).

Theory of operation
-------------------
`parse(text)` turns a command line into a tree of frozen dataclasses; nothing here runs anything or
looks at the device. Expansion (`$VAR`, `$?`, `$(...)`, globs) needs the shell's state, so a word
stays a tuple of parts (`Lit`, `Param`, `CmdSub`) that the interpreter expands at run time; each part
remembers whether it was quoted, because only unquoted expansions are split and globbed.

Grammar (a strict subset of POSIX sh; no `if`/`for`/functions, which no client sends):

    script   := and_or ((';' | '&' | newline) and_or)*
    and_or   := pipeline (('&&' | '||') newline* pipeline)*
    pipeline := ['!'] command ('|' newline* command)*
    command  := (NAME=word)* (word | redirect)+  |  '(' script ')'  |  '{' script '}'
    redirect := [fd] ('>' | '>>' | '<' | '>&' | '<&') word
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class ShellSyntaxError(Exception):
    """The command line is not valid sh; `message` reads like mksh's own complaint."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Lit:
    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Param:
    """`$NAME`, `${NAME}`, `$?`, `$$`, `$#`, `$0`..`$9`."""

    name: str
    quoted: bool = False


@dataclass(frozen=True)
class CmdSub:
    """`$(script)` or a backquoted script: replaced by its output, trailing newlines removed."""

    script: Script
    quoted: bool = False


Part = Lit | Param | CmdSub
Word = tuple[Part, ...]


@dataclass(frozen=True)
class Redirect:
    fd: int  # the descriptor being redirected (0 stdin, 1 stdout, 2 stderr)
    op: str  # one of > >> < >& <&
    target: Word


@dataclass(frozen=True)
class Command:
    assigns: tuple[tuple[str, Word], ...] = ()
    words: tuple[Word, ...] = ()
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class Group:
    """`( script )` or `{ script; }`; we run both in the same shell (no fork to isolate)."""

    script: Script
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command | Group, ...]
    negate: bool = False


@dataclass(frozen=True)
class AndOr:
    first: Pipeline
    rest: tuple[tuple[str, Pipeline], ...] = ()  # ("&&" | "||", pipeline)
    background: bool = False


@dataclass(frozen=True)
class Script:
    items: tuple[AndOr, ...] = field(default_factory=tuple)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_REDIR = re.compile(r"(\d?)(>>|>&|<&|>\||>|<)")
_META = set(" \t\n;&|<>()")
_SPECIAL_PARAMS = set("?$#!@*-0123456789")


def parse(text: str) -> Script:
    """Parse a whole command line; raises ShellSyntaxError."""
    parser = _Parser(text)
    script = parser.script(end=None)
    if parser.i < len(text):
        raise ShellSyntaxError(f"syntax error: '{text[parser.i]}' unexpected")
    return script


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    # --- helpers ------------------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def skip_blanks(self, newlines: bool = False) -> None:
        blanks = " \t\n" if newlines else " \t"
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in blanks:
                self.i += 1
            elif ch == "\\" and self.peek(2) == "\\\n":
                self.i += 2  # line continuation
            elif ch == "#":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            else:
                return

    def at_end(self, end: str | None) -> bool:
        return self.i >= len(self.s) or (end is not None and self.s[self.i] == end)

    # --- grammar -------------------------------------------------------------------------------
    def script(self, end: str | None) -> Script:
        items: list[AndOr] = []
        while True:
            self.skip_blanks(newlines=True)
            while self.peek() == ";" and self.peek(2) != ";;":
                if not items:
                    raise ShellSyntaxError("syntax error: ';' unexpected")
                self.i += 1
                self.skip_blanks(newlines=True)
            if self.at_end(end):
                return Script(tuple(items))
            item = self.and_or(end)
            self.skip_blanks()
            if self.peek() == "&" and self.peek(2) != "&&":
                self.i += 1
                item = AndOr(item.first, item.rest, background=True)
            elif self.peek() in (";", "\n"):
                self.i += 1
            elif not self.at_end(end):
                raise ShellSyntaxError(f"syntax error: '{self.peek()}' unexpected")
            items.append(item)

    def and_or(self, end: str | None) -> AndOr:
        first = self.pipeline(end)
        rest: list[tuple[str, Pipeline]] = []
        while True:
            self.skip_blanks()
            op = self.peek(2)
            if op not in ("&&", "||"):
                return AndOr(first, tuple(rest))
            self.i += 2
            self.skip_blanks(newlines=True)
            rest.append((op, self.pipeline(end)))

    def pipeline(self, end: str | None) -> Pipeline:
        self.skip_blanks()
        negate = False
        if self.peek(2) in ("! ", "!\t"):
            negate = True
            self.i += 1
        commands = [self.command(end)]
        while True:
            self.skip_blanks()
            if self.peek() != "|" or self.peek(2) == "||":
                return Pipeline(tuple(commands), negate)
            self.i += 1
            self.skip_blanks(newlines=True)
            commands.append(self.command(end))

    def command(self, end: str | None) -> Command | Group:
        self.skip_blanks()
        if self.peek() == "(":
            self.i += 1
            return self.group(")")
        if self.peek(2) in ("{ ", "{\t", "{\n"):
            self.i += 1
            return self.group("}")
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            self.skip_blanks()
            if self.at_end(end) or self.peek() in ";&|\n)":
                break
            redirect = self.redirect()
            if redirect is not None:
                redirects.append(redirect)
                continue
            match = _ASSIGN.match(self.s, self.i)
            if match and not words:
                self.i = match.end()
                assigns.append((match.group(1), self.word()))
                continue
            words.append(self.word())
        if not (assigns or words or redirects):
            what = self.peek() or "newline"
            raise ShellSyntaxError(f"syntax error: '{what}' unexpected")
        return Command(tuple(assigns), tuple(words), tuple(redirects))

    def group(self, close: str) -> Group:
        script = self.script(end=close)
        if self.peek() != close:
            raise ShellSyntaxError(f"syntax error: '{close}' missing")
        self.i += 1
        redirects: list[Redirect] = []
        while True:
            self.skip_blanks()
            redirect = self.redirect()
            if redirect is None:
                return Group(script, tuple(redirects))
            redirects.append(redirect)

    def redirect(self) -> Redirect | None:
        match = _REDIR.match(self.s, self.i)
        if not match:
            return None
        self.i = match.end()
        op = match.group(2).replace(">|", ">")
        default_fd = 0 if op[0] == "<" else 1
        fd = int(match.group(1)) if match.group(1) else default_fd
        self.skip_blanks()
        if self.at_end(None) or self.peek() in _META:
            raise ShellSyntaxError(f"syntax error: '{self.peek() or 'newline'}' unexpected")
        return Redirect(fd, op, self.word())

    # --- words -------------------------------------------------------------------------------
    def word(self) -> Word:
        parts: list[Part] = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in _META:
                break
            if ch == "'":
                end = self.s.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("syntax error: unterminated quoted string")
                parts.append(Lit(self.s[self.i + 1:end], quoted=True))
                self.i = end + 1
            elif ch == '"':
                self.i += 1
                parts.extend(self.double_quoted())
            elif ch == "\\":
                if self.i + 1 < len(self.s):
                    if self.s[self.i + 1] != "\n":
                        parts.append(Lit(self.s[self.i + 1], quoted=True))
                    self.i += 2
                else:
                    self.i += 1
            elif ch == "$":
                parts.append(self.dollar(quoted=False))
            elif ch == "`":
                parts.append(self.backquote(quoted=False))
            else:
                start = self.i
                while self.i < len(self.s) and self.s[self.i] not in _META and self.s[self.i] not in "'\"\\$`":
                    self.i += 1
                parts.append(Lit(self.s[start:self.i]))
        return _merge(parts)

    def double_quoted(self) -> list[Part]:
        parts: list[Part] = [Lit("", quoted=True)]  # "" is an empty word, not no word
        buf: list[str] = []
        while True:
            if self.i >= len(self.s):
                raise ShellSyntaxError("syntax error: unterminated quoted string")
            ch = self.s[self.i]
            if ch == '"':
                self.i += 1
                break
            if ch == "\\" and self.peek(2)[1:] in ('$', '`', '"', "\\", "\n"):
                if self.s[self.i + 1] != "\n":
                    buf.append(self.s[self.i + 1])
                self.i += 2
            elif ch in "$`":
                parts.append(Lit("".join(buf), quoted=True))
                buf = []
                parts.append(self.dollar(quoted=True) if ch == "$" else self.backquote(quoted=True))
            else:
                buf.append(ch)
                self.i += 1
        parts.append(Lit("".join(buf), quoted=True))
        return parts

    def dollar(self, quoted: bool) -> Part:
        self.i += 1  # the '$'
        nxt = self.peek()
        if nxt == "(":
            self.i += 1
            script = self.script(end=")")
            if self.peek() != ")":
                raise ShellSyntaxError("syntax error: ')' missing")
            self.i += 1
            return CmdSub(script, quoted)
        if nxt == "{":
            end = self.s.find("}", self.i)
            if end < 0:
                raise ShellSyntaxError("syntax error: '}' missing")
            name = self.s[self.i + 1:end]
            self.i = end + 1
            if not (_NAME.fullmatch(name) or name in _SPECIAL_PARAMS):
                raise ShellSyntaxError(f"${{{name}}}: bad substitution")
            return Param(name, quoted)
        if nxt and nxt in _SPECIAL_PARAMS:
            self.i += 1
            return Param(nxt, quoted)
        match = _NAME.match(self.s, self.i)
        if match:
            self.i = match.end()
            return Param(match.group(0), quoted)
        return Lit("$", quoted)

    def backquote(self, quoted: bool) -> Part:
        end = self.s.find("`", self.i + 1)
        if end < 0:
            raise ShellSyntaxError("syntax error: unterminated backquote")
        inner = self.s[self.i + 1:end]
        self.i = end + 1
        return CmdSub(parse(inner), quoted)


def _merge(parts: list[Part]) -> Word:
    """Join adjacent literals with the same quoting, drop empty quoted ones that have company."""
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, Lit) and merged and isinstance(merged[-1], Lit) \
                and merged[-1].quoted == part.quoted:
            merged[-1] = Lit(merged[-1].text + part.text, part.quoted)
        else:
            merged.append(part)
    if len(merged) > 1:
        merged = [p for p in merged if not (isinstance(p, Lit) and p.quoted and not p.text)] or merged[:1]
    return tuple(merged)
