"""Every problem of a configuration file at once, each at its line: what ``sesaku-monitor config check`` prints.

``load_config`` stops at the first problem; this reads the same file the same way (the bounded
YAML reader, ``${VAR}``, the same validation) and keeps them all, as
``config.yaml:12: sources[1].format: unknown format 'xml' (…)``. The line is found by walking the
YAML nodes (which keep their marks) along the problem's location.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from monitor.config import config_problems
from monitor.config.yaml_file import load_yaml
from monitor.errors import ConfigError
from monitor.gcpause import paused_gc

__all__ = ["file_problems"]

# A message that starts by naming a key below its location ("link_pattern: not a regular expression").
_NAMED_KEY = re.compile(r"^([A-Za-z_][\w-]*(?:\[\d+\]|\.[A-Za-z_][\w-]*)*): ")
_STEP = re.compile(r"\[(\d+)\]|\.?([A-Za-z_][\w-]*)")


def file_problems(path: str | Path) -> list[str]:
    """One line per problem of the file at ``path`` (``file:line: key: what is wrong``); [] when it loads."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return [f"{where}: no such configuration file"]
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{where}: cannot read: {exc}"]
    try:
        with paused_gc():  # as load_config reads
            found = config_problems(load_yaml(text, where), where)
    except ConfigError as exc:  # bad YAML, past the reader's limits, or a ${VAR} not set
        return [str(exc)]
    if not found:
        return []
    # load_yaml accepted the text, so composing it again is bounded (aliases stay shared nodes).
    root = yaml.compose(text, Loader=yaml.CSafeLoader)  # libyaml: PyYAML's Python scanner took ~30 s at 18,000 sources
    placed = [(_line_of(root, _steps_of(loc, message)), key if loc else "", message) for loc, key, message in found]
    # In the file's order, so that the list reads top to bottom beside the file.
    placed.sort(key=lambda problem: problem[0] or 0)
    return [f"{where}{f':{line}' if line else ''}: {f'{key}: ' if key else ''}{message}" for line, key, message in placed]


def _steps_of(loc: tuple[Any, ...], message: str) -> list[Any]:
    named = _NAMED_KEY.match(message)
    return [*loc, *(_steps(named.group(1)) if named else [])]


def _steps(path: str) -> list[Any]:
    return [int(index) if index else name for index, name in _STEP.findall(path)]


def _line_of(node: Node | None, steps: list[Any]) -> int | None:
    """The line of the deepest node on ``steps`` (a missing key: its mapping's line); parts that name
    no node (pydantic's ``function-after[…]``, a union's member) are stepped over."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in steps:
        if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        elif isinstance(node, MappingNode) and isinstance(step, str):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == step:
                    node, line = value, key.start_mark.line + 1
                    break
    return line
