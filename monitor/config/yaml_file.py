"""YAML for config.yaml, read with limits: a few hundred hostile bytes cannot hang or crash a command.

PyYAML's safe loader still accepts three things that hurt here:

* aliases that expand exponentially (``b: [*a, *a, …]``, ``c: [*b, *b, …]``: a "billion laughs").
  The loader shares the nodes, but everything after it (``${VAR}`` expansion, validation)
  walks them as a tree, so the tree's size is what counts: aliases may add at most
  ``MAX_ALIAS_NODES`` nodes to it, and an alias to the collection that contains it is refused;
* nesting deep enough to exhaust Python's recursion (a RecursionError traceback), counted
  through aliases too;
* a key written twice in one mapping, which YAML resolves silently by keeping the last.

Each is refused with one line naming the file and the line, as a ``ConfigError``.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml._yaml import CParser
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from monitor.errors import ConfigError

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "load_yaml"]

MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 100
_MERGE = "tag:yaml.org,2002:merge"
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"


class _Refused(yaml.MarkedYAMLError):
    """A document PyYAML would accept but this reader does not; ``problem`` says why."""


class _StrictLoader(Composer, CParser, SafeConstructor, Resolver):
    """libyaml scans and parses (PyYAML's Python scanner took ~30 s for 18,000 sources); the
    composer is PyYAML's own, in Python, ahead of the C one in the MRO, so every node passes
    the checks below before it is built."""

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0
        self._borrowed = 0
        # id(node) -> (nodes in its tree, its height), both counted through aliases.
        self._weights: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        mark: Any = self.peek_event().start_mark  # type: ignore[union-attr]  # libyaml's Mark, or PyYAML's
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if node is not None:
                self._borrow(node, mark)
            return node
        if self._depth >= MAX_DEPTH:
            raise _Refused(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._weights[id(node)] = self._weigh(node)
        return node

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        _refuse_duplicate_keys(node)
        return node

    def _borrow(self, node: Node, mark: yaml.Mark) -> None:
        weight = self._weights.get(id(node))
        if weight is None:
            raise _Refused(problem="an alias refers to the collection that contains it", problem_mark=mark)
        size, height = weight
        self._borrowed += size
        if self._borrowed > MAX_ALIAS_NODES:
            raise _Refused(problem=f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes", problem_mark=mark)
        if self._depth + height > MAX_DEPTH:
            raise _Refused(problem=f"nested deeper than {MAX_DEPTH} levels (through an alias)", problem_mark=mark)

    def _weigh(self, node: Node) -> tuple[int, int]:
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            return 1, 1
        weights = [self._weights[id(child)] for child in children]
        return 1 + sum(size for size, _ in weights), 1 + max((height for _, height in weights), default=0)


def _refuse_duplicate_keys(node: MappingNode) -> None:
    """Two scalar keys of one mapping that read the same (``url`` twice); merged keys (``<<``) may be overridden."""
    first_line: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == _MERGE:
            continue
        identity = (key.tag, key.value)
        if identity in first_line:
            raise _Refused(problem=f"key {key.value[:60]!r} given twice (first on line {first_line[identity]})", problem_mark=key.start_mark)
        first_line[identity] = key.start_mark.line + 1


def load_yaml(text: str, where: str) -> Any:
    """The one document in ``text``; any problem is a ConfigError ``<where>:<line>: <problem>``."""
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    except _Refused as exc:
        raise ConfigError(f"{where}:{_line(exc)} {exc.problem}") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        if problem == _LIBYAML_TOO_DEEP:
            # libyaml ≥ 0.2.6 scans ahead and stops at its own, deeper limit before the composer sees the depth.
            problem = f"nested deeper than {MAX_DEPTH} levels"
        else:
            problem = f"not valid YAML: {problem}"
        raise ConfigError(f"{where}:{_line(exc)} {problem}") from None
    finally:
        loader.dispose()


def _line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"{mark.line + 1}:" if mark is not None else ""
