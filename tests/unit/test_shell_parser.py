"""The sh parser: command lines in, syntax trees out (no device, no IO)."""

from __future__ import annotations

import pytest

from emulators.virtual.shell.parser import (
    AndOr,
    CmdSub,
    Command,
    Group,
    Lit,
    Param,
    Pipeline,
    Redirect,
    Script,
    ShellSyntaxError,
    parse,
)


def words(text: str) -> list[tuple[object, ...]]:
    """The words of the first simple command."""
    command = parse(text).items[0].first.commands[0]
    assert isinstance(command, Command)
    return [tuple(word) for word in command.words]


@pytest.mark.parametrize(("text", "expected"), [
    ("getprop ro.serialno", [(Lit("getprop"),), (Lit("ro.serialno"),)]),
    ("echo 'a b'", [(Lit("echo"),), (Lit("a b", quoted=True),)]),
    ('echo "a b"', [(Lit("echo"),), (Lit("a b", quoted=True),)]),
    (r"echo a\ b", [(Lit("echo"),), (Lit("a"), Lit(" ", quoted=True), Lit("b"))]),
    ('echo ""', [(Lit("echo"),), (Lit("", quoted=True),)]),
    ("echo X4EXIT:$?", [(Lit("echo"),), (Lit("X4EXIT:"), Param("?"))]),
    ('echo "${HOME}/x"', [(Lit("echo"),), (Param("HOME", quoted=True), Lit("/x", quoted=True))]),
    ("echo $USER$", [(Lit("echo"),), (Param("USER"), Lit("$"))]),
    (r'echo "a\"b\$c\d"', [(Lit("echo"),), (Lit('a"b$c\\d', quoted=True),)]),
    ("echo 'it''s'", [(Lit("echo"),), (Lit("its", quoted=True),)]),
    ("ls /data/local/tmp/*.jar", [(Lit("ls"),), (Lit("/data/local/tmp/*.jar"),)]),
])
def test_words_and_quoting(text: str, expected: list[tuple[object, ...]]) -> None:
    assert words(text) == expected


def test_adbutils_exit_marker_is_a_second_command() -> None:
    script = parse("getprop ro.x; echo X4EXIT:$?")
    assert len(script.items) == 2
    second = script.items[1].first.commands[0]
    assert isinstance(second, Command)
    assert second.words[1] == (Lit("X4EXIT:"), Param("?"))


def test_and_or_chain_keeps_operators_in_order() -> None:
    item = parse("a && b || c").items[0]
    assert [op for op, _ in item.rest] == ["&&", "||"]


def test_pipeline_and_negation() -> None:
    pipeline = parse("! ps -A | grep init | wc -l").items[0].first
    assert pipeline.negate
    assert len(pipeline.commands) == 3


def test_assignment_prefix_as_uiautomator2_sends_it() -> None:
    command = parse("CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008") \
        .items[0].first.commands[0]
    assert isinstance(command, Command)
    assert command.assigns == (("CLASSPATH", (Lit("/data/local/tmp/u2.jar"),)),)
    assert command.words[0] == (Lit("app_process"),)


def test_assignment_after_the_command_name_is_an_argument() -> None:
    assert words("echo A=1") == [(Lit("echo"),), (Lit("A=1"),)]


@pytest.mark.parametrize(("text", "expected"), [
    ("cmd > /sdcard/x", [Redirect(1, ">", (Lit("/sdcard/x"),))]),
    ("cmd >> f", [Redirect(1, ">>", (Lit("f"),))]),
    ("cmd 2>&1", [Redirect(2, ">&", (Lit("1"),))]),
    ("cmd 2>/dev/null </dev/null", [Redirect(2, ">", (Lit("/dev/null"),)),
                                    Redirect(0, "<", (Lit("/dev/null"),))]),
    ("cmd >f 2>&1", [Redirect(1, ">", (Lit("f"),)), Redirect(2, ">&", (Lit("1"),))]),
])
def test_redirects(text: str, expected: list[Redirect]) -> None:
    command = parse(text).items[0].first.commands[0]
    assert isinstance(command, Command)
    assert list(command.redirects) == expected
    assert command.words == ((Lit("cmd"),),)


def test_command_substitution_holds_a_parsed_script() -> None:
    word = words("echo $(getprop ro.x)")[1]
    assert isinstance(word[0], CmdSub)
    assert len(word[0].script.items) == 1
    backquoted = words("echo `id -u`")[1]
    assert isinstance(backquoted[0], CmdSub)


def test_groups_and_background() -> None:
    script = parse("(cd /sdcard; ls) > out & echo done")
    assert script.items[0].background
    group = script.items[0].first.commands[0]
    assert isinstance(group, Group)
    assert group.redirects == (Redirect(1, ">", (Lit("out"),)),)
    assert isinstance(parse("{ a; b; }").items[0].first.commands[0], Group)


def test_comments_newlines_and_empty_input() -> None:
    assert parse("") == Script(())
    assert parse("   # only a comment") == Script(())
    assert len(parse("a\nb # trailing\n\nc").items) == 3


@pytest.mark.parametrize("text", [
    "echo 'open", 'echo "open', "echo $(open", "a && ", "| grep x", "cat <", "; ls", "echo ${a b}",
    "(echo x", "echo `x",
])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(ShellSyntaxError):
        parse(text)


def test_trees_are_frozen_values() -> None:
    assert parse("a | b") == Script((AndOr(Pipeline((Command(words=((Lit("a"),),)),
                                                      Command(words=((Lit("b"),),))))),))
