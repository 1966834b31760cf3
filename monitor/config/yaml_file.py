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

libyaml composes the node graph (in C: PyYAML's Python composer took ~1.7 s for 18,000 sources),
with aliases as shared nodes; one walk of that graph in document order makes the checks and
builds the data, a node's children checked before it is built. A shared node is walked once and
weighed at every further reference, so a bomb costs its few hundred written nodes, never its
expansion.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain, islice
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from monitor.errors import ConfigError

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "load_yaml"]

MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 100
_MERGE, _STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{name}" for name in ("merge", "str", "seq", "map"))
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"
_UNDEFINED_ALIAS = "found undefined alias"
_ALIAS = re.compile(r"\*([^\s,\[\]{}]+)")


class _Refused(yaml.MarkedYAMLError):
    """A document PyYAML would accept but this reader does not; ``problem`` says why."""


class _AliasRefused(Exception):
    """The ``ordinal``-th alias of the document (1 for the first) is refused: libyaml's nodes keep no
    mark of where an alias was written, so its line is found afterwards from the events."""

    def __init__(self, problem: str, ordinal: int) -> None:
        super().__init__(problem)
        self.problem, self.ordinal = problem, ordinal


class _Loader(CParser, SafeConstructor, Resolver):  # PyYAML's CSafeLoader, by its parts
    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


class _Reader:
    """The checks and the data, in one walk of the composed graph in document order: the order
    the text was written in, so a node's first visit is where it was written and every later one
    an alias to it. Plain strings, lists and mappings are built here; any other tag (a number, a
    date, a merge key ``<<``) by PyYAML's SafeConstructor, once its nodes have passed the checks."""

    def __init__(self, constructor: SafeConstructor) -> None:
        self._constructor = constructor
        # id(node) -> (its data, nodes in its tree, its height), the last two counted through aliases.
        self._read: dict[int, tuple[Any, int, int]] = {}
        self._open: set[int] = set()  # collections being read: an alias to one is a cycle
        self._borrowed = 0
        self._aliases = 0

    def read(self, node: Node, depth: int) -> tuple[Any, int, int]:
        done = self._read.get(id(node))
        if done is not None or id(node) in self._open:
            return self._borrow(done, depth)
        if depth >= MAX_DEPTH:
            raise _Refused(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=node.start_mark)
        if isinstance(node, ScalarNode):
            # A merge key (<<) is left as written: its mapping is built by SafeConstructor below.
            plain = node.tag in (_STR, _MERGE)
            done = (node.value if plain else self._constructor.construct_object(node), 1, 1)
        else:
            done = self._collection(node, depth)
        self._read[id(node)] = done
        return done

    def _collection(self, node: Node, depth: int) -> tuple[Any, int, int]:
        self._open.add(id(node))
        children = node.value if isinstance(node, SequenceNode) else chain.from_iterable(node.value)
        values = []
        size, tallest = 1, 0
        read = self._read
        for child in children:
            # Most nodes are strings met once: read here without a call (a third of the reading time).
            if child.__class__ is ScalarNode and child.tag == _STR and id(child) not in read and depth + 1 < MAX_DEPTH:
                done = read[id(child)] = (child.value, 1, 1)
            else:
                done = self.read(child, depth + 1)
            values.append(done[0])
            size, tallest = size + done[1], max(tallest, done[2])
        self._open.discard(id(node))
        if isinstance(node, MappingNode):
            if _plain_keys(node) and node.tag == _MAP:
                return dict(zip(values[::2], values[1::2])), size, tallest + 1
        elif node.tag == _SEQ:
            return values, size, tallest + 1
        return self._constructor.construct_object(node, deep=True), size, tallest + 1

    def _borrow(self, done: tuple[Any, int, int] | None, depth: int) -> tuple[Any, int, int]:
        self._aliases += 1
        if done is None:
            raise _AliasRefused("an alias refers to the collection that contains it", self._aliases)
        _, size, height = done
        self._borrowed += size
        if self._borrowed > MAX_ALIAS_NODES:
            raise _AliasRefused(f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes", self._aliases)
        if depth + height > MAX_DEPTH:
            raise _AliasRefused(f"nested deeper than {MAX_DEPTH} levels (through an alias)", self._aliases)
        return done


def _plain_keys(node: MappingNode) -> bool:
    """Whether every key of ``node`` is a scalar other than a merge (``<<``); a key given twice is refused."""
    identities = {(key.tag, key.value) for key, _ in node.value if isinstance(key, ScalarNode)}
    if len(identities) == len(node.value):  # every key a scalar, none twice: nearly every mapping
        return not any(tag == _MERGE for tag, _ in identities)
    _refuse_duplicate_keys(node)
    return False


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
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _Reader(loader).read(node, 0)[0]
    except _Refused as exc:
        raise ConfigError(f"{where}:{_line(exc)} {exc.problem}") from None
    except _AliasRefused as exc:
        raise ConfigError(f"{where}:{_alias_line(text, exc.ordinal)}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}:{_line(exc)} {_problem(exc, text)}") from None
    finally:
        loader.dispose()


def _problem(exc: yaml.YAMLError, text: str) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    if problem == _LIBYAML_TOO_DEEP:
        # libyaml ≥ 0.2.6 stops at its own, deeper limit while scanning, before the walk sees the depth.
        return f"nested deeper than {MAX_DEPTH} levels"
    if problem == _UNDEFINED_ALIAS and mark is not None:
        # libyaml's composer does not say which: the alias is written where it points.
        alias = _ALIAS.match(text.splitlines()[mark.line], mark.column)
        problem = f"{problem} {alias.group(1)!r}" if alias else problem
    return f"not valid YAML: {problem}"


def _line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"{mark.line + 1}:" if mark is not None else ""


def _alias_line(text: str, ordinal: int) -> int:
    """The line of the ``ordinal``-th alias in ``text`` (composed already, so its events parse)."""
    return next(islice(_alias_lines(text), ordinal - 1, None))


def _alias_lines(text: str) -> Iterator[int]:
    parser = CParser(text)
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.AliasEvent) and event.start_mark is not None:
                yield int(event.start_mark.line) + 1
    finally:
        parser.dispose()
