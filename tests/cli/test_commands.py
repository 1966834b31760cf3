"""The command table: `--help` lists every command without loading it, and every command's `--help` works."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from monitor.cli import COMMANDS, cli
from tests.cli.test_cli import run


def _every_command(group: click.Group, prefix: tuple[str, ...] = ()):
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, f"{' '.join((*prefix, name))} is listed but cannot be loaded"
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _every_command(command, (*prefix, name))


def test_help_lists_every_command_with_its_own_short_help(tmp_path):
    shown = run("--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    listed = shown.stdout.split("Commands:", 1)[1]
    for name, (_, short) in COMMANDS.items():
        assert f"  {name} " in listed, f"`{name}` missing from --help"
        # The table's text is what `--help` shows unloaded: it must say what the command itself says.
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and (command.help or "").split("\n\n")[0].strip() == short, f"COMMANDS[{name!r}] differs from its docstring"


@pytest.mark.parametrize("words", [words for words, _ in _every_command(cli)], ids=" ".join)
def test_every_command_answers_help(words, tmp_path):
    shown = run(*words, "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"Usage: sesaku-monitor {' '.join(words)}" in shown.stdout


def test_help_and_version_load_no_database_http_or_parser_library():
    code = ("import sys\nfrom monitor.cli import cli\n"
            "for args in (['--help'], ['--version'], ['check', '--help']):\n"
            "    try:\n        cli(args, prog_name='sesaku-monitor')\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('sqlalchemy', 'httpx', 'bs4', 'pydantic', 'monitor.lists.parsers') if m in sys.modules), file=sys.stderr)")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr.strip()
    assert loaded == "[]"
