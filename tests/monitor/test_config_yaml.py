"""The bounded YAML reader (monitor/config/yaml_file.py): libyaml composes, one walk checks and builds.

What it reads is what PyYAML's safe loader reads; what it refuses is named at the line the
operator wrote it on, an alias included (libyaml's nodes do not keep where an alias was)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import yaml

from monitor.config import load_config
from monitor.config.yaml_file import MAX_ALIAS_NODES, load_yaml
from monitor.errors import ConfigError


@pytest.mark.parametrize("text", [
    "a: 1\nb: 1.5\nc: true\nd: null\ne: 2024-04-01\nf: '1'\ng: !!str 5\nh: [1, 2, {x: y}]\ni: .inf\nj: 0x1f\n",
    "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n",
    "one: &o {x: 1}\ntwo: &t {z: 1}\nm:\n  <<: [*o, *t]\n  y: 3\n",
    "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\nbin: !!binary aGVsbG8=\n",
    "k: {1: a, 2: b}\nx: &x hello\ny: *x\nz: [*x, *x]\n",
    "- a\n- [b, c]\n",
    "",
])
def test_the_data_is_what_pyyaml_reads(text):
    assert load_yaml(text, "f") == yaml.safe_load(text)


def _refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert gc.isenabled()  # the collector paused for reading is back, whatever happened
    return str(caught.value).removeprefix(f"{path}:")


def _shared(references: int, items: int = 999) -> str:
    """A list of ``items`` strings (a thousand nodes with the list) and ``references`` aliases to it."""
    return f"t: &t [{', '.join(['x'] * items)}]\nuses:\n" + "".join(f"  - *t\n" for _ in range(references))


@pytest.mark.parametrize(("text", "problem"), [
    # The refused alias is the one on line 6, in a list that starts on line 5, after a good one on line 3.
    ("base: &b [1]\nx:\n  - *b\n  - &a\n    - 1\n    - *a\n", "6: an alias refers to the collection that contains it"),
    (_shared(MAX_ALIAS_NODES // 1000 + 1), f"{MAX_ALIAS_NODES // 1000 + 3}: aliases expand to more than 10,000 nodes"),
    ("a: [x, *nope]\n", "1: not valid YAML: found undefined alias 'nope'"),
    ("s: !!set {a, b, a}\n", "1: key 'a' given twice (first on line 1)"),
    ("base: &b {x: 1}\nm:\n  <<: *b\n  y: 1\n  y: 2\n", "5: key 'y' given twice (first on line 4)"),
], ids=["cycle", "expansion", "undefined", "set", "merged"])
def test_a_refusal_names_the_line_it_was_written_on(tmp_path, text, problem):
    assert _refusal(tmp_path, text) == problem


def test_a_shared_list_counts_at_each_alias_up_to_the_limit():
    data = load_yaml(_shared(MAX_ALIAS_NODES // 1000), "f")  # exactly 10,000 nodes borrowed: allowed
    assert len(data["uses"]) == 10 and all(used == ["x"] * 999 for used in data["uses"])
